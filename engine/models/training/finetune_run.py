"""The sequence every family's fine-tuning shares: resume, run, cancel, save, log, curves.

A family prepares its data and its recipe's hooks, wraps them in :class:`FineTuneHooks` (start
from the base model's weights, log every step) and hands a :class:`FineTuneJob` to
:func:`run_finetune`, which:

1. keeps the run's checkpoint in ``<user models>/.training/<output name>/`` and resumes from it
   when the data and recipe are the same (:func:`.finetune.prepare_run_dir`);
2. measures the base model on the validation data before the first step (the log's step-0 row,
   stage ``base model``), so every curve starts from where fine-tuning starts;
3. runs the shared :class:`.loop.TrainingLoop`, rewriting the CSV log after every validation;
4. turns cancel, a full disk or an unwritable folder into one clear sentence (the last good
   checkpoint is kept, a re-run resumes from it);
5. measures the fine-tuned and base models on the validation data, saves the weights and card,
   writes the final CSV log and the PNG curves and removes the run's folder.

The log's columns: ``step`` (optimiser step, 0 for the base model row), ``epoch``, ``stage``,
``loss`` and the hooks' other loss parts, and the validation metrics as ``val_<name>`` with the
family's primary metric (:attr:`FineTuneJob.metric`) first among them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...core.errors import Cancelled, GeohazardError
from ...core.progress import Reporter
from .finetune import (
    FineTuneSettings,
    live_log,
    prepare_run_dir,
    remove_run_dir,
    run_dir,
    write_curves_png,
    write_log_csv,
)
from .loop import CHECKPOINT, LoopConfig, Stage, TrainingHooks, TrainingLoop, distributed_rank

BASE_STAGE = "base model"


class FineTuneHooks(TrainingHooks):
    """A family's hooks, started from the base model's weights, recording every step's losses.

    Args:
        inner: the family's recipe hooks.
        base_state: the base model's state dict (loaded into ``inner.primary``).
        per_epoch: optimiser steps per epoch (for the log's epoch column).
        metric: the primary validation metric (a key of ``inner.validate``'s result).
    """

    def __init__(
        self, inner: TrainingHooks, base_state: dict[str, Any], per_epoch: int, metric: str
    ) -> None:
        self.inner = inner
        self.primary = inner.primary
        self.base_state = base_state
        self.per_epoch = max(per_epoch, 1)
        self.metric = metric
        self.losses: list[dict[str, Any]] = []
        self.base_validation: dict[str, float] = {}

    def models(self) -> dict[str, Any]:
        models = self.inner.models()
        models[self.primary].load_state_dict(self.base_state)
        return models

    def optimizers(self, stage: str, models: dict[str, Any]) -> dict[str, Any]:
        return self.inner.optimizers(stage, models)

    def schedulers(self, stage: str, optimizers: dict[str, Any], steps: int) -> list[Any]:
        return self.inner.schedulers(stage, optimizers, steps)

    def start_stage(self, stage: str, step: int, rank: int) -> None:
        self.inner.start_stage(stage, step, rank)

    def batch(self, stage: str, step: int) -> Any:
        return self.inner.batch(stage, step)

    def train_step(self, stage: str, batch: Any, models: Any, optimizers: Any) -> dict[str, float]:
        parts = self.inner.train_step(stage, batch, models, optimizers)
        step = len(self.losses) + 1
        self.losses.append(
            {"step": step, "epoch": (step - 1) // self.per_epoch + 1, "stage": stage, **parts}
        )
        return parts

    def validate(self, models: dict[str, Any]) -> dict[str, float]:
        return self.inner.validate(models)

    def score(self, metrics: dict[str, float]) -> float:
        return self.inner.score(metrics)

    def state_dict(self) -> dict[str, Any]:
        return {
            "inner": self.inner.state_dict(),
            "losses": self.losses,
            "base_validation": self.base_validation,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state.get("inner", {}))
        self.losses = list(state.get("losses", []))
        self.base_validation = dict(state.get("base_validation", {}))

    def _val_columns(self, metrics: dict[str, Any]) -> dict[str, Any]:
        keys = [k for k in metrics if k not in ("stage", "step", "score")]
        keys.sort(key=lambda k: k != self.metric)  # the primary metric first
        return {f"val_{k}": metrics[k] for k in keys}

    def log_rows(self, history: list[dict[str, Any]], stages: list[Stage]) -> list[dict[str, Any]]:
        """The base model's row (step 0), then one row per step with ``val_*`` columns on the
        steps that validated."""
        offsets, total = {}, 0
        for s in stages:
            offsets[s.name] = total
            total += s.steps
        first: dict[str, Any] = {"step": 0, "epoch": 0, "stage": BASE_STAGE}
        first.update(self._val_columns(self.base_validation))
        rows: dict[int, dict[str, Any]] = {int(r["step"]): dict(r) for r in self.losses}
        for entry in history:
            step = offsets.get(str(entry["stage"]), 0) + int(entry["step"])
            row = rows.setdefault(step, {"step": step, "stage": entry["stage"]})
            row.update(self._val_columns(entry))
        out = [first] if self.base_validation else []
        return out + [rows[k] for k in sorted(rows)]


@dataclass
class FineTuneJob:
    """One family's prepared fine-tuning, for :func:`run_finetune`.

    Args:
        hooks: the recipe's hooks wrapped for fine-tuning.
        stages: the loop's stages.
        per_epoch: optimiser steps per epoch (validation and checkpoint after each).
        description: what identifies the run (data, recipe, settings) for resume.
        metric_label: the primary metric for the curves' axis, with its unit.
        title: the curves' title.
        measure: ``measure(net)`` -> metrics by predictor (``model``, ``base_model``, ...) on the
            validation data, after training.
        make_card: ``make_card(net, loop, metrics, minutes)`` -> the new model's card.
        baselines: ``baselines(metrics)`` -> horizontal lines of the curves, by label.
    """

    hooks: FineTuneHooks
    stages: list[Stage]
    per_epoch: int
    description: dict[str, Any]
    metric_label: str
    title: str
    measure: Callable[[Any], dict[str, dict[str, float]]]
    make_card: Callable[[Any, TrainingLoop, dict[str, dict[str, float]], float], Any]
    baselines: Callable[[dict[str, dict[str, float]]], dict[str, float]]


def run_finetune(
    job: FineTuneJob, settings: FineTuneSettings, store: Any, device: Any, rep: Reporter
) -> dict[str, Any]:
    """Run, save, log (module docstring); returns a summary: ``model``, ``path``, ``steps``,
    ``metrics`` (by predictor), ``metric`` (the log's primary column), ``device``."""
    import torch

    folder = run_dir(settings)
    rank, world = distributed_rank()
    if world > 1:
        device = _rank_device(device)
    if rank == 0:
        # the number of processes changes the batches, so it is part of the run's identity
        resuming = prepare_run_dir(folder, {**job.description, "world": world}, rep)
    if world > 1:
        import torch.distributed as dist

        dist.barrier()  # rank 0 has kept or discarded the checkpoint; the others follow it
        resuming = os.path.exists(os.path.join(folder, CHECKPOINT))
    total = sum(s.steps for s in job.stages)
    hooks = job.hooks
    loop = TrainingLoop(
        hooks,
        LoopConfig(stages=job.stages, validate_every=job.per_epoch, seed=settings.seed),
        folder,
        rep.step(0.0, 0.95),
        device,
        rep.info,
        live_log(settings.log_path, lambda h: hooks.log_rows(h, job.stages), rep),
    )
    if resuming and loop.resume():
        rep.info(f"Resumed from the checkpoint after {loop.steps_done} of {total} steps.")
    if not hooks.base_validation and loop.rank == 0:
        hooks.base_validation = hooks.validate(loop.models)
        for model in loop.models.values():
            model.train()
        if loop.on_validation is not None:
            loop.on_validation(loop.history)
    started = time.time()
    try:
        net = loop.run()
    except Cancelled as exc:
        raise Cancelled(
            f"Training cancelled after {loop.steps_done} of {total} steps; the checkpoint is "
            f"kept in '{folder}'. Run again with the same OUTPUT_MODEL, data and values to "
            "resume."
        ) from exc
    except OSError as exc:
        raise GeohazardError(
            f"Training stopped: the checkpoint could not be written in '{folder}' "
            f"({exc.strerror or exc}); free disk space and run again to resume from the last "
            "good one."
        ) from exc
    minutes = (time.time() - started) / 60
    if rank != 0:  # under torchrun only rank 0 measures, saves and logs
        return {
            "model": settings.output_name,
            "path": "",
            "steps": loop.steps_done,
            "metrics": {},
            "metric": f"val_{hooks.metric}",
            "device": str(loop.device),
            "final_weights_sha256": loop.final_digest,
            "losses": [float(r["loss"]) for r in hooks.losses],
            "rank": rank,
            "world": world,
        }
    net = net.cpu().eval()
    rep.info("Measuring the fine-tuned and the base model on the validation data.")
    with torch.no_grad():
        metrics = job.measure(net)
    card = job.make_card(net, loop, metrics, minutes)
    from safetensors import SafetensorError

    from .checkpoint import as_os_error

    try:
        try:
            path = store.save(net, card)
        except SafetensorError as exc:
            raise as_os_error(exc) from exc
    except OSError as exc:
        raise GeohazardError(
            f"The model could not be saved in '{settings.user_models}' ({exc.strerror or exc}); "
            f"the checkpoint is kept in '{folder}': free disk space and run again to save it."
        ) from exc
    rows = hooks.log_rows(loop.history, job.stages)
    write_log_csv(settings.log_path, rows)
    column = f"val_{hooks.metric}"
    write_curves_png(
        settings.curves_path,
        [(int(r["step"]), float(r["loss"])) for r in rows if "loss" in r],
        [(int(r["step"]), float(r[column])) for r in rows if column in r],
        job.baselines(metrics),
        job.metric_label,
        job.title,
    )
    remove_run_dir(folder)
    rep.report(1.0)
    return {
        "model": settings.output_name,
        "path": path,
        "steps": loop.steps_done,
        "metrics": metrics,
        "metric": column,
        "device": str(device),
        "history": loop.history,
        "best": loop.best,
        "final_weights_sha256": loop.final_digest,
        "losses": [float(r["loss"]) for r in hooks.losses],
        "rank": rank,
        "world": world,
    }


def _rank_device(device: Any) -> Any:
    """Under torchrun, a CUDA device becomes this process's own GPU (``LOCAL_RANK``)."""
    import torch

    if device is not None and torch.device(device).type == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device
