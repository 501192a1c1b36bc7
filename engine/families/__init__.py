"""The model families, found by scanning folders: one package per family.

A family is a package holding ``__init__.py`` with ``FAMILY`` (a
:class:`~..models.family.Family`) and ``task.py`` with ``TASK`` (a
:class:`~..models.model_task.ModelTask`). The plugin's own families are the packages of this
folder; ``GEOHAZARD_FAMILY_PATH`` (folders separated by ``os.pathsep``) adds the packages of
other folders, which import the engine as ``geohazard.engine``. Nothing lists the families by
hand: a new folder is a new family.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

from ..core.errors import GeohazardError

PATH_VARIABLE = "GEOHAZARD_FAMILY_PATH"
EXTRA_PREFIX = "geohazard_family_"


def extra_folders() -> list[str]:
    """The folders of ``GEOHAZARD_FAMILY_PATH`` that exist, in its order."""
    value = os.environ.get(PATH_VARIABLE, "")
    return [f for f in value.split(os.pathsep) if f and os.path.isdir(f)]


def _is_family(folder: str) -> bool:
    return all(os.path.isfile(os.path.join(folder, f)) for f in ("__init__.py", "task.py"))


def _import_extra(folder: str, stem: str) -> ModuleType:
    """The family package ``stem`` of an extra folder, imported as ``geohazard_family_<stem>``."""
    name = EXTRA_PREFIX + stem
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(folder, stem)
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(path, "__init__.py"), submodule_search_locations=[path]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - a folder with __init__.py
        raise GeohazardError(f"The model family '{path}' cannot be imported.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def family_packages() -> dict[str, ModuleType]:
    """Every family package by stem: this folder's, sorted, then the extra folders'."""
    here = os.path.dirname(os.path.abspath(__file__))
    found: dict[str, ModuleType] = {}
    for stem in sorted(os.listdir(here)):
        if _is_family(os.path.join(here, stem)):
            found[stem] = importlib.import_module(f".{stem}", __name__)
    for folder in extra_folders():
        for stem in sorted(os.listdir(folder)):
            if stem not in found and _is_family(os.path.join(folder, stem)):
                found[stem] = _import_extra(folder, stem)
    return found


def family_module(stem: str, module: str) -> ModuleType:
    """Module ``module`` (e.g. ``task``, ``finetune``) of the family ``stem``."""
    package = family_packages().get(stem)
    if package is None:
        raise GeohazardError(f"Unknown model family '{stem}'.")
    return importlib.import_module(f"{package.__name__}.{module}")


def all_tasks() -> dict[str, Any]:
    """Every model task by its card name (``dem-super-resolution``, ...), families in order."""
    tasks = [family_module(stem, "task").TASK for stem in family_packages()]
    return {t.name: t for t in tasks}


def task_named(name: str) -> Any:
    """The :class:`~..models.model_task.ModelTask` whose cards say ``task: name``."""
    tasks = all_tasks()
    if name not in tasks:
        raise GeohazardError(f"Unknown model task '{name}'; known: {', '.join(tasks)}.")
    return tasks[name]
