"""The one fine-tune driver every model family runs: base model, plan, shared run, card keys.

A family hands :func:`finetune` its task and a ``plan`` function;
the driver checks the settings and the recipe, loads the base model (``default`` is the task's
:meth:`~..model_task.ModelTask.default_model` for the recipe), asks the family for a
:class:`FineTunePlan` (its data read and split, its recipe's hooks and stages, how the models
are measured, its card), picks the device, starts the hooks from the base weights and runs
:func:`.finetune_run.run_finetune` (resume, log, cancel, save, curves). The card's training
record starts with the keys every family writes (:meth:`FinishedRun.record`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ...core.progress import Reporter
from .finetune import FineTuneSettings, check_data_memory, data_files, settings_dict

if TYPE_CHECKING:  # torch-free at import: training algorithms read recipes without torch
    from .loop import Stage, TrainingHooks

Metrics = dict[str, dict[str, float]]


class Recipe(Protocol):
    """A family's recipe: a dataclass with ``validate()`` (one sentence per bad value)."""

    def validate(self) -> None: ...


@dataclass
class FineTunePlan:
    """What a family prepared for one fine-tuning run.

    Args:
        hooks: the recipe's training hooks (the driver starts them from the base weights).
        stages: the loop's stages.
        per_epoch: optimiser steps per epoch (validation and checkpoint after each).
        metric: the primary validation metric (a key of ``hooks.validate``; lower is better).
        metric_label: that metric for the curves' axis, with its unit.
        files: the training data files (their sizes and dates identify the run for resume).
        measure: ``measure(net)`` -> metrics by predictor on the validation data.
        card: ``card(net, run, metrics)`` -> the new model's card; ``run`` is the
            :class:`FinishedRun`, whose ``record`` is the card's training entry.
        baselines: ``baselines(metrics)`` -> the curves' horizontal lines, by label.
        intro: the line logged before training.
        saved: ``saved(metrics)`` -> the line logged once the model is saved.
        identity: further values that identify the run for resume.
        recipe_record: the recipe as the run's identity records it (default: all its fields).
        summary: ``summary(metrics)`` -> further keys of the returned summary.
    """

    hooks: TrainingHooks
    stages: list[Stage]
    per_epoch: int
    metric: str
    metric_label: str
    files: list[str]
    measure: Callable[[Any], Metrics]
    card: Callable[[Any, FinishedRun, Metrics], Any]
    baselines: Callable[[Metrics], dict[str, float]]
    intro: str
    saved: Callable[[Metrics], str]
    identity: dict[str, Any] = field(default_factory=dict)
    recipe_record: dict[str, Any] | None = None
    summary: Callable[[Metrics], dict[str, Any]] | None = None


Planner = Callable[[Any, Any, FineTuneSettings, Any, Reporter], FineTunePlan]


@dataclass
class FinishedRun:
    """A finished run as the card describes it: the loop, the device and the minutes taken."""

    loop: Any
    device: Any
    minutes: float
    settings: FineTuneSettings
    recipe: Any
    base_card: Any

    def record(self, algorithm: str, data: Any, **family: Any) -> dict[str, Any]:
        """The card's ``training`` entry: the keys every family writes (what was fine-tuned
        from what, with which settings and recipe, how validation went, where and how long),
        with ``family``'s own keys after the recipe."""
        return {
            "kind": f"fine-tuning in QGIS ({algorithm})",
            "base_model": self.base_card.name,
            "data": data,
            "settings": settings_dict(self.settings),
            "recipe": asdict(self.recipe),
            **family,
            "best_validation": self.loop.best,
            "validation_history": self.loop.history,
            "steps": self.loop.steps_done,
            "device": str(self.device),
            "minutes": round(self.minutes, 2),
        }


def finetune(
    task: Any,
    plan: Planner,
    data: Any,
    settings: FineTuneSettings,
    recipe: Recipe,
    reporter: Reporter | None = None,
    memory: tuple[list[str], int] | None = None,
) -> dict[str, Any]:
    """Fine-tune a model of ``task`` on ``data``; returns a summary (model path, metrics, steps).

    ``memory``: the rasters the family reads whole and the bytes it holds per pixel of them,
    checked against the memory available before any model is loaded.

    Cancel keeps a checkpoint: a re-run with the same output name, data and recipe resumes.
    """
    from ...core.device import resolve_device
    from ..model_store import ModelStore
    from .finetune_run import FineTuneHooks, FineTuneJob, run_finetune

    rep = reporter or Reporter()
    store = ModelStore(settings.user_models)
    settings.validate([e.name for e in store.list(task.name) if e.source == "bundled"])
    recipe.validate()
    if memory is not None:
        check_data_memory(memory[0], memory[1], rep)
    base = store.load(task, settings.base_model, task.default_model(recipe))
    prepared = plan(base, data, settings, recipe, rep)
    identity = {
        "task": task.name,
        "base": base.path,
        "data": data_files(prepared.files),
        **prepared.identity,
        "settings": settings_dict(settings),
        "recipe": prepared.recipe_record or asdict(recipe),  # type: ignore[call-overload]
    }
    device = resolve_device(settings.device, rep)
    base_state = {k: v.detach().clone() for k, v in base.net.state_dict().items()}
    hooks = FineTuneHooks(prepared.hooks, base_state, prepared.per_epoch, prepared.metric)
    rep.info(prepared.intro)
    job = FineTuneJob(
        hooks,
        prepared.stages,
        prepared.per_epoch,
        identity,
        prepared.metric_label,
        f"Fine-tuning {base.card.name} -> {settings.output_name}",
        prepared.measure,
        lambda net, loop, metrics, minutes: prepared.card(
            net, FinishedRun(loop, device, minutes, settings, recipe, base.card), metrics
        ),
        prepared.baselines,
    )
    summary = run_finetune(job, settings, store, device, rep)
    if summary["rank"] != 0:
        return summary
    rep.info(prepared.saved(summary["metrics"]))
    extra = prepared.summary(summary["metrics"]) if prepared.summary else {}
    return {**summary, **extra}
