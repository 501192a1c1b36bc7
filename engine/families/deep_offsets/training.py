"""Training CC-ResSiamNet through the shared loop: masked Huber loss, error head, validation.

Loss: a Huber (smooth-L1) loss on (dx, dy) in pixels, with the quadratic zone below ``huber_px``
so sub-pixel errors keep a useful gradient, averaged over valid pixels only (the simulator's
validity mask: truth visible in both images, data in both). With the error head, a Gaussian
negative log-likelihood of the (detached) error under the predicted log-sigma is added with
weight ``w_sigma``; the offsets are never pulled by it. AdamW with a one-cycle schedule (a short
warm-up, then cosine decay). Validation runs the network on whole held-out scenes of the
validation regions and keeps the weights with the lowest end-point error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch's convention)
from torch import nn

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...models.archs.registry import build_network
from ...models.training.loop import LoopConfig, Stage, TrainingHooks, TrainingLoop
from ...offsets.dense_prior import PriorConfig, channel_names
from ...offsets.network_inputs import normalise_amplitude, pad_to_multiple
from ...simulate.pair_sampler import SamplerConfig
from .dataset import BatchSampler, Scene


def small_architecture(num_prior_ch: int) -> dict[str, Any]:
    """The CPU-sized network of the bundled model (about 0.4 M weights)."""
    return {
        "type": "CCResSiamNet",
        "num_prior_ch": num_prior_ch,
        "base_ch": 12,
        "levels": 4,
        "blocks": 1,
        "corr_radius": 3,
        "corr_radius_full": 1,
        "attention": True,
        "residual_over_prior": True,
        "disp_scale": 4.0,
        "predict_uncertainty": True,
        "residual_scale": 1.0,
    }


def large_architecture(num_prior_ch: int) -> dict[str, Any]:
    """The GPU-sized network (about 5 M weights)."""
    return {**small_architecture(num_prior_ch), "base_ch": 32, "levels": 5, "blocks": 2}


@dataclass
class TrainConfig:
    """A training run of the deep offset tracker (stored in the card).

    Args:
        architecture: the network (``small_architecture`` when empty).
        prior: how the NCC prior is measured.
        sampler: the distribution of simulated pairs.
        patch: training crop side, pixels.
        batch_size: crops per step.
        steps: optimiser steps.
        lr: peak learning rate of the one-cycle schedule.
        weight_decay: AdamW weight decay.
        huber_px: end of the quadratic zone of the Huber loss, pixels.
        w_sigma: weight of the error head's negative log-likelihood.
        validate_every: steps between validations.
        seed: seeds the network and the batch sampler.
    """

    architecture: dict[str, Any] = field(default_factory=dict)
    prior: PriorConfig = field(default_factory=PriorConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    patch: int = 128
    batch_size: int = 8
    steps: int = 1000
    lr: float = 5e-4
    weight_decay: float = 1e-4
    huber_px: float = 0.1
    w_sigma: float = 0.05
    validate_every: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.architecture:
            self.architecture = small_architecture(len(channel_names(self.prior)))


def masked_huber(
    pred: torch.Tensor, truth: torch.Tensor, valid: torch.Tensor, beta: float
) -> torch.Tensor:
    """Huber loss of (dx, dy) averaged over valid pixels (``valid`` is (N, 1, H, W))."""
    per_px = F.smooth_l1_loss(pred, truth, reduction="none", beta=beta).sum(1, keepdim=True)
    return (per_px * valid).sum() / valid.sum().clamp_min(1.0)


def sigma_nll(log_sigma: torch.Tensor, error: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Gaussian negative log-likelihood of detached errors under predicted log-sigma."""
    ls = log_sigma.clamp(-7.0, 4.0)
    nll = 0.5 * (error.detach() / ls.exp()) ** 2 + ls
    return (nll.sum(1, keepdim=True) * valid).sum() / valid.sum().clamp_min(1.0)


def predict_scene(net: nn.Module, scene: Scene, device: torch.device | None = None) -> np.ndarray:
    """Network output (2 or 4, H, W) on a whole scene (padded to the network's multiple)."""
    dev = device or next(net.parameters()).device
    multiple = int(getattr(net, "multiple", 1))
    h, w = scene.reference.shape
    ref = pad_to_multiple(normalise_amplitude(scene.reference), multiple)
    sec = pad_to_multiple(normalise_amplitude(scene.secondary), multiple)
    prior = pad_to_multiple(scene.prior, multiple)
    with torch.no_grad():
        out = net(
            torch.from_numpy(ref)[None, None].to(dev),
            torch.from_numpy(sec)[None, None].to(dev),
            torch.from_numpy(prior)[None].to(dev),
        )
    return out[0, :, :h, :w].float().cpu().numpy()


def scene_errors(pred: np.ndarray, scene: Scene) -> np.ndarray:
    """End-point error per valid pixel (1-D)."""
    ok = scene.valid & np.isfinite(scene.reference) & np.isfinite(scene.secondary)
    return np.hypot(pred[0] - scene.truth[0], pred[1] - scene.truth[1])[ok]


def validate_scenes(net: nn.Module, scenes: Sequence[Scene]) -> dict[str, float]:
    """Mean EPE and RMSE (px) of the network and of its NCC prior over the scenes."""
    was_training = net.training
    net.eval()
    model_err, prior_err = [], []
    for s in scenes:
        model_err.append(scene_errors(predict_scene(net, s), s))
        prior_err.append(scene_errors(s.prior[:2], s))
    if was_training:
        net.train()
    m, p = np.concatenate(model_err), np.concatenate(prior_err)
    return {
        "epe_px": float(m.mean()),
        "rmse_px": float(np.sqrt((m**2).mean())),
        "prior_epe_px": float(p.mean()),
        "prior_rmse_px": float(np.sqrt((p**2).mean())),
    }


class DeepOffsetHooks(TrainingHooks):
    """The recipe as hooks of the shared loop (one stage, ``train``)."""

    primary = "model"

    def __init__(
        self, config: TrainConfig, train: Sequence[Scene], validation: Sequence[Scene]
    ) -> None:
        self.cfg, self.train_scenes, self.val_scenes = config, list(train), list(validation)
        self.sampler: BatchSampler | None = None
        self._sampler_state: dict[str, Any] | None = None
        self.device = torch.device("cpu")

    def loop_config(self) -> LoopConfig:
        return LoopConfig(
            stages=[Stage("train", self.cfg.steps)],
            validate_every=self.cfg.validate_every,
            seed=self.cfg.seed,
        )

    def models(self) -> dict[str, nn.Module]:
        return {"model": build_network(self.cfg.architecture)}

    def optimizers(
        self, stage: str, models: dict[str, nn.Module]
    ) -> dict[str, torch.optim.Optimizer]:
        self.device = next(models["model"].parameters()).device
        opt = torch.optim.AdamW(
            models["model"].parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay
        )
        return {"model": opt}

    def schedulers(
        self, stage: str, optimizers: dict[str, torch.optim.Optimizer], steps: int
    ) -> list[torch.optim.lr_scheduler.LRScheduler]:
        # 5% warm-up; on short runs (fine-tuning a few epochs) at least 1.5 steps, because
        # torch's one-cycle divides by the warm-up's length (20 steps at 5% divided by zero)
        total = max(steps, 4)
        pct = min(max(0.05, 1.5 / total), 0.5)
        return [
            torch.optim.lr_scheduler.OneCycleLR(
                optimizers["model"], self.cfg.lr, total_steps=total, pct_start=pct
            )
        ]

    def start_stage(self, stage: str, step: int, rank: int) -> None:
        seed = self.cfg.seed * 1000 + 7919 * rank
        self.sampler = BatchSampler(self.train_scenes, self.cfg.prior, self.cfg.patch, seed)
        if step > 0 and self._sampler_state is not None:
            self.sampler.rng.bit_generator.state = self._sampler_state
        self._sampler_state = None

    def batch(self, stage: str, step: int) -> dict[str, torch.Tensor]:
        if self.sampler is None:
            raise GeohazardError("The training data was not set up (start_stage was not called).")
        arrays = self.sampler.batch(self.cfg.batch_size)
        return {k: torch.from_numpy(v).to(self.device) for k, v in arrays.items()}

    def train_step(
        self,
        stage: str,
        batch: dict[str, torch.Tensor],
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
    ) -> dict[str, float]:
        out = models["model"](batch["reference"], batch["secondary"], batch["prior"])
        valid, truth = batch["valid"], batch["truth"]
        huber = masked_huber(out[:, :2], truth, valid, self.cfg.huber_px)
        loss = huber
        parts = {"huber": float(huber.detach())}
        if out.shape[1] >= 4:
            nll = sigma_nll(out[:, 2:4], out[:, :2] - truth, valid)
            loss = loss + self.cfg.w_sigma * nll
            parts["nll"] = float(nll.detach())
        optimizers["model"].zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(models["model"].parameters(), 10.0)
        optimizers["model"].step()
        with torch.no_grad():
            epe = (torch.linalg.vector_norm(out[:, :2] - truth, dim=1, keepdim=True) * valid).sum()
            parts["epe_px"] = float(epe / valid.sum().clamp_min(1.0))
        parts["loss"] = float(loss.detach())
        return parts

    def validate(self, models: dict[str, nn.Module]) -> dict[str, float]:
        return validate_scenes(models["model"], self.val_scenes)

    def score(self, metrics: dict[str, float]) -> float:
        return float(metrics.get("epe_px", math.inf))

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.rng.bit_generator.state if self.sampler else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._sampler_state = state.get("sampler")


def make_trainer(
    config: TrainConfig,
    train: Sequence[Scene],
    validation: Sequence[Scene],
    out_dir: str,
    reporter: Reporter | None = None,
    log: Callable[[str], None] = print,
    device: torch.device | None = None,
) -> TrainingLoop:
    """The shared training loop running this recipe."""
    hooks = DeepOffsetHooks(config, train, validation)
    return TrainingLoop(hooks, hooks.loop_config(), out_dir, reporter, device, log)


def calibrate_sigma(net: nn.Module, scenes: Sequence[Scene]) -> float:
    """Factor on the predicted sigma so that 95% of true per-axis errors lie within 2 sigma."""
    ratios = []
    net.eval()
    for s in scenes:
        out = predict_scene(net, s)
        if out.shape[0] < 4:
            return 1.0
        ok = s.valid & np.isfinite(s.reference) & np.isfinite(s.secondary)
        for axis in (0, 1):
            err = np.abs(out[axis] - s.truth[axis])[ok]
            ratios.append(err / np.exp(out[2 + axis])[ok])
    r = np.concatenate(ratios)
    return float(max(np.quantile(r, 0.95) / 2.0, 1e-3))
