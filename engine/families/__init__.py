"""One file per model task: its config, its tile preparation and restoring, its default model."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..core.errors import GeohazardError

TASK_MODULES = ("dem_sr", "deep_offsets", "sar_to_optical")


def all_tasks() -> dict[str, Any]:
    """Every model task by its card name (``dem-super-resolution``, ...), in a fixed order."""
    tasks = [import_module(f".{m}.task", __name__).TASK for m in TASK_MODULES]
    return {t.name: t for t in tasks}


def task_named(name: str) -> Any:
    """The :class:`~..model_task.ModelTask` whose cards say ``task: name``."""
    tasks = all_tasks()
    if name not in tasks:
        raise GeohazardError(f"Unknown model task '{name}'; known: {', '.join(tasks)}.")
    return tasks[name]
