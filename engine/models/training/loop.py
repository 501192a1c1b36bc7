"""One training loop for every model family; what is specific to a family lives in its hooks.

The loop runs named stages (e.g. pretrain, fine-tune, adversarial) of a fixed number of steps.
At the start of a stage it asks the hooks for fresh optimisers and torch's own learning-rate
schedulers; each step it asks the hooks for a batch and for one training step (the hooks do the
forward, backward and optimiser steps, which differ between a plain and an adversarial model),
then steps the schedulers. Every ``validate_every`` steps and at the end of each stage rank 0
validates, keeps the best weights by the hooks' score and writes a checkpoint. A non-finite or
exploding loss stops training with a clear message; the checkpoint on disk stays the last good
one. Cancel writes a checkpoint of the current (good) state first, so resuming continues exactly.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the models with parameters are wrapped in
DistributedDataParallel (NCCL on GPUs, gloo on CPUs); each rank draws its own batches.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ...core.errors import Cancelled, GeohazardError
from ...core.progress import Reporter
from ...io.run_estimate import format_duration
from .checkpoint import from_float_dict, load_checkpoint, prefixed, save_checkpoint, to_float_dict

CHECKPOINT = "checkpoint.safetensors"


class TrainingDiverged(GeohazardError):  # noqa: N818 (reads as the event it reports)
    """The loss became NaN, infinite or exploded; the last good checkpoint is kept."""


@dataclass(frozen=True)
class Stage:
    """A stage of training: a name the hooks understand and its number of steps."""

    name: str
    steps: int


@dataclass
class LoopConfig:
    """How the loop runs (the recipe itself belongs to the hooks).

    Args:
        stages: the stages in order.
        validate_every: steps between validations and checkpoints (and at each stage's end).
        seed: seeds torch at the start (data randomness is the hooks').
        explode_factor: a loss above this many times the median of the last 50 losses (after
            20 steps of a stage) counts as exploding.
        log_every: steps between log lines.
    """

    stages: list[Stage] = field(default_factory=list)
    validate_every: int = 100
    seed: int = 0
    explode_factor: float = 1e4
    log_every: int = 25


class TrainingHooks:
    """What a model family supplies to :class:`TrainingLoop` (subclass and override).

    ``models()`` is called once; ``primary`` names the model that is validated, kept at its best
    and saved. Everything a hook keeps between steps that affects results (e.g. a sampler's
    random generator) goes through ``state_dict``/``load_state_dict`` so resume is exact.
    """

    primary: str = "model"

    def models(self) -> dict[str, nn.Module]:
        raise GeohazardError("The training hooks define no models.")

    def optimizers(
        self, stage: str, models: dict[str, nn.Module]
    ) -> dict[str, torch.optim.Optimizer]:
        raise GeohazardError("The training hooks define no optimisers.")

    def schedulers(
        self, stage: str, optimizers: dict[str, torch.optim.Optimizer], steps: int
    ) -> list[torch.optim.lr_scheduler.LRScheduler]:
        """torch schedulers stepped once per training step (none by default)."""
        return []

    def start_stage(self, stage: str, step: int, rank: int) -> None:
        """Called when a stage starts (step 0) or resumes (step > 0), before its first batch."""

    def batch(self, stage: str, step: int) -> Any:
        raise GeohazardError("The training hooks define no data.")

    def train_step(
        self,
        stage: str,
        batch: Any,
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
    ) -> dict[str, float]:
        """One step; returns the losses, including the total under ``loss``. ``models`` are the
        (possibly DDP-wrapped) training models."""
        raise GeohazardError("The training hooks define no training step.")

    def validate(self, models: dict[str, nn.Module]) -> dict[str, float]:
        return {}

    def score(self, metrics: dict[str, float]) -> float:
        """Lower is better; the primary model with the lowest score is kept."""
        return float(metrics.get("loss", math.inf))

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def distributed_rank() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def state_digest(model: nn.Module) -> str:
    """SHA-256 of a model's parameters (the same on every rank: DistributedDataParallel
    averages the gradients, so every rank takes the same steps). Buffers such as batch-norm
    running statistics are left out: each rank updates them in its own forward pass, and DDP
    broadcasts rank 0's at the start of the next one (rank 0 saves the model)."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in sorted(model.named_parameters()):
        digest.update(key.encode("utf-8"))
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


# How a metric's name reads in the log, by the name's start, and its unit by the name's end.
_METRIC_WORDS = {
    "rmse": "RMSE",
    "psnr": "PSNR",
    "epe": "end-point error",
    "mse": "MSE",
    "mae": "MAE",
    "ssim": "SSIM",
}
_METRIC_UNITS = {"_m": "m", "_db": "dB", "_px": "px"}


def metric_text(name: str, value: float) -> str:
    """``("bicubic_rmse_m", 1.234)`` -> ``"bicubic RMSE 1.23 m"``; unit-free metrics (MSE of
    images scaled 0-1) are said so."""
    unit = ""
    for suffix, word in _METRIC_UNITS.items():
        if name.endswith(suffix):
            name, unit = name[: -len(suffix)], word
            break
    parts = name.split("_")
    parts[-1] = _METRIC_WORDS.get(parts[-1], parts[-1])
    number = f"{value:.4g}" if math.isfinite(value) else str(value)
    if not unit and parts[-1] in ("MSE", "MAE"):
        unit = "(images scaled 0-1)"
    return f"{' '.join(parts)} {number} {unit}".rstrip()


def losses_text(losses: dict[str, float]) -> str:
    """``{"loss": 0.01, "l1": 0.008}`` -> ``"loss 0.01, l1 0.008"``."""
    return ", ".join(f"{k} {v:.4g}" for k, v in losses.items())


class TrainingLoop:
    """Runs hooks through the stages with checkpoints in ``out_dir`` (see the module docstring)."""

    def __init__(
        self,
        hooks: TrainingHooks,
        config: LoopConfig,
        out_dir: str,
        reporter: Reporter | None = None,
        device: torch.device | None = None,
        log: Callable[[str], None] = print,
        on_validation: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.hooks, self.cfg, self.out_dir = hooks, config, out_dir
        self.on_validation = on_validation
        self.rep = reporter or Reporter()
        self.rank, self.world = distributed_rank()
        self.log = log if self.rank == 0 else (lambda _msg: None)
        if device is None and self.world > 1 and torch.cuda.is_available():
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.device = device or torch.device("cpu")
        os.makedirs(out_dir, exist_ok=True)
        torch.manual_seed(config.seed)
        self.models = {k: m.to(self.device) for k, m in hooks.models().items()}
        self.train_models = dict(self.models)
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: N817

            ids = [self.device.index] if self.device.type == "cuda" else None
            for k, m in self.models.items():
                if any(p.requires_grad for p in m.parameters()):
                    self.train_models[k] = DDP(m, device_ids=ids)
        self.stage_index, self.step = 0, 0
        self.history: list[dict[str, Any]] = []
        self._start_time, self._start_steps = time.time(), 0
        self._last_losses: dict[str, float] = {}
        self.best: dict[str, Any] = {"score": math.inf}
        self.best_state: dict[str, torch.Tensor] | None = None
        self._recent: list[float] = []
        self.final_digest = ""
        self._new_stage_state()

    # --- state -----------------------------------------------------------------------

    @property
    def stage(self) -> Stage:
        return self.cfg.stages[self.stage_index]

    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.out_dir, CHECKPOINT)

    @property
    def steps_done(self) -> int:
        """Optimiser steps taken over all stages."""
        return sum(s.steps for s in self.cfg.stages[: self.stage_index]) + self.step

    def _new_stage_state(self) -> None:
        if self.stage_index >= len(self.cfg.stages):
            return
        stage = self.stage
        self.optimizers = self.hooks.optimizers(stage.name, self.models)
        self.schedulers = self.hooks.schedulers(stage.name, self.optimizers, stage.steps)
        self._recent = []

    def save_checkpoint(self) -> None:
        if self.rank != 0:
            return
        tensors: dict[str, torch.Tensor] = {}
        meta: dict[str, Any] = {
            "stage_index": self.stage_index,
            "step": self.step,
            "history": self.history,
            "best": self.best,
            "optimizers": {},
            "schedulers": [s.state_dict() for s in self.schedulers],
            "hooks": self.hooks.state_dict(),
            "loop": asdict(self.cfg),
        }
        for name, model in self.models.items():
            tensors.update({f"model.{name}.{k}": v for k, v in model.state_dict().items()})
        if self.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_state.items()})
        for name, opt in self.optimizers.items():
            t, m = to_float_dict(opt.state_dict(), f"opt.{name}")
            tensors.update(t)
            meta["optimizers"][name] = m
        tensors["rng.torch"] = torch.get_rng_state()
        save_checkpoint(self.checkpoint_path, tensors, json.loads(json.dumps(meta, default=float)))

    def resume(self) -> bool:
        """Load the checkpoint in ``out_dir`` if there is one; True when resumed."""
        if not os.path.exists(self.checkpoint_path):
            return False
        tensors, meta = load_checkpoint(self.checkpoint_path)
        for name, model in self.models.items():
            model.load_state_dict(prefixed(tensors, f"model.{name}"))
        best = prefixed(tensors, "best")
        self.best_state = best or None
        self.stage_index, self.step = int(meta["stage_index"]), int(meta["step"])
        self.history, self.best = meta["history"], meta["best"]
        self.hooks.load_state_dict(meta["hooks"])
        self._new_stage_state()
        if self.stage_index < len(self.cfg.stages):
            for name, opt in self.optimizers.items():
                opt.load_state_dict(
                    from_float_dict(tensors, meta["optimizers"][name], f"opt.{name}")
                )
            for sched, state in zip(self.schedulers, meta["schedulers"]):
                sched.load_state_dict(state)
        torch.set_rng_state(tensors["rng.torch"])
        self.log(f"resumed at stage {self.stage_index}, step {self.step}")
        return True

    # --- running ---------------------------------------------------------------------

    def _check_loss(self, losses: dict[str, float]) -> None:
        loss = float(losses.get("loss", 0.0))
        where = f"stage {self.stage.name}, step {self.step + 1}"
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"Training stopped: the loss became {loss} at {where}. The last good checkpoint "
                f"({self.checkpoint_path}) is kept; lower the learning rate and resume."
            )
        if len(self._recent) >= 20:
            median = sorted(self._recent)[len(self._recent) // 2]
            if median > 0 and loss > self.cfg.explode_factor * median:
                raise TrainingDiverged(
                    f"Training stopped: the loss exploded to {loss:.4g} ({loss / median:.0f} times "
                    f"its recent median) at {where}. The last good checkpoint "
                    f"({self.checkpoint_path}) is kept; lower the learning rate and resume."
                )
        self._recent = (self._recent + [loss])[-50:]

    def _validate(self) -> None:
        if self.rank != 0:
            return
        metrics = self.hooks.validate(self.models)
        score = self.hooks.score(metrics)
        entry = {"stage": self.stage.name, "step": self.step, **metrics, "score": score}
        self.history.append(entry)
        best = score < self.best["score"]
        shown = ", ".join(metric_text(k, float(v)) for k, v in metrics.items())
        self.log(
            f"Validation at step {self.step}/{self.stage.steps} ({self.stage.name}): {shown}"
            + ("; best so far" if best else "")
            + (f"; training {losses_text(self._last_losses)}" if self._last_losses else "")
            + f"; {self._time_left()}."
        )
        if score < self.best["score"]:
            self.best = dict(entry)
            primary = self.models[self.hooks.primary]
            self.best_state = {k: v.detach().clone() for k, v in primary.state_dict().items()}
        if self.on_validation is not None:
            self.on_validation(self.history)

    def _time_left(self) -> str:
        """The time the remaining steps take at this run's pace so far."""
        total = sum(s.steps for s in self.cfg.stages)
        left = total - self.steps_done
        if left <= 0:
            return "last step done"
        taken = self.steps_done - self._start_steps
        if taken <= 0:
            return "time left not known yet"
        rate = (time.time() - self._start_time) / taken
        return f"{format_duration(rate * left)} left"

    def run(self) -> nn.Module:
        """Train through the remaining stages; returns the primary model at its best."""
        total = sum(s.steps for s in self.cfg.stages) or 1
        self._start_time, self._start_steps = time.time(), self.steps_done
        for m in self.models.values():
            m.train()
        try:
            while self.stage_index < len(self.cfg.stages):
                stage = self.stage
                self.hooks.start_stage(stage.name, self.step, self.rank)
                t0 = time.time()
                while self.step < stage.steps:
                    self.rep.check_cancel()
                    batch = self.hooks.batch(stage.name, self.step)
                    losses = self.hooks.train_step(
                        stage.name, batch, self.train_models, self.optimizers
                    )
                    self._check_loss(losses)
                    self._last_losses = {k: float(v) for k, v in losses.items()}
                    for sched in self.schedulers:
                        sched.step()
                    self.step += 1
                    self.rep.report(self.steps_done / total)
                    if self.step % self.cfg.log_every == 0:
                        rate = (time.time() - t0) / self.cfg.log_every
                        t0 = time.time()
                        self.log(
                            f"Step {self.step}/{stage.steps} ({stage.name}): "
                            f"{losses_text(self._last_losses)}; {rate:.2f} s/step, "
                            f"{self._time_left()}."
                        )
                    if self.step % self.cfg.validate_every == 0 or self.step == stage.steps:
                        self._validate()
                        self.save_checkpoint()
                self.stage_index, self.step = self.stage_index + 1, 0
                self._new_stage_state()
            self.save_checkpoint()
        except Cancelled:
            self.save_checkpoint()  # the state is good: resuming continues from here
            raise
        return self.best_model()

    def best_model(self) -> nn.Module:
        """The primary model at its best validation so far (eval mode), without training more:
        what :meth:`run` returns, also usable after :meth:`resume` to end a run early."""
        primary = self.models[self.hooks.primary]
        self.final_digest = state_digest(primary)
        if self.best_state is not None:
            primary.load_state_dict(self.best_state)
        primary.eval()
        return primary
