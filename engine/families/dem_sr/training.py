"""Two-stage training of the DEM super-resolution generator, as hooks of the shared loop.

Stage 1 (``pretrain``): L1 on natural grayscale images. Stage 2 fine-tunes on DEMs, first with
L1 + slope-gradient L1 (``finetune``), then with the adversarial terms added (``gan``):
L1 + slope-gradient + feature matching (or a user feature network) + adversarial. Each stage
starts fresh Adam optimisers and halves its learning rate at 50% and 75% of its steps (torch's
``MultiStepLR``). Validation metrics (elevation RMSE and PSNR against the HR truth, with bicubic
for comparison) are computed every ``validate_every`` steps and the generator with the lowest
validation RMSE is kept. Checkpoints, resume, DDP and the divergence stop are the shared
loop's (:mod:`..training.loop`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...dem.dem_metrics import compare_dems
from ...models.archs.registry import build_network
from ...models.training.loop import LoopConfig, Stage, TrainingHooks, TrainingLoop
from .card import super_resolve_array
from .degrade import block_mean, upsample
from .losses import adversarial_d, adversarial_g, feature_matching, gradient_l1, user_feature_loss
from .patches import PatchSampler

STAGES = ("pretrain", "finetune", "gan")


def small_generator(scale: int) -> dict[str, Any]:
    """The CPU-sized generator of the bundled models (0.77 M parameters at x2, 0.81 M at x4): a
    correction of the back-projected cubic spline, itself back-projected."""
    return {
        "type": "RRDBNet",
        "num_in_ch": 1,
        "num_out_ch": 1,
        "scale": scale,
        "num_feat": 32,
        "num_block": 4,
        "num_grow_ch": 16,
        "res_scale": 0.2,
        "spline_skip": True,
        "affine_equivariant": True,
        "back_projection": True,
    }


@dataclass
class TrainConfig:
    """Everything a training run needs; stored in checkpoints and model cards.

    Loss weights (the paper's coefficients 0.5 / 0.005 / 0.1 cannot be paired with its terms
    reliably, so these are this project's choice): ``w_l1`` content L1, ``w_gradient`` slope
    L1 and ``w_feature`` feature matching (together the perceptual substitute), ``w_adversarial``.
    """

    scale: int = 4
    generator: dict[str, Any] = field(default_factory=dict)
    discriminator: dict[str, Any] = field(default_factory=dict)
    hr_patch: int = 96
    batch_size: int = 16
    pretrain_steps: int = 200
    pretrain_lr: float = 4e-4
    finetune_steps: int = 700
    finetune_lr: float = 2e-4
    gan_steps: int = 100
    gan_lr: float = 1e-4
    adam_betas: tuple[float, float] = (0.9, 0.999)
    w_l1: float = 1.0
    w_gradient: float = 0.5
    w_feature: float = 0.1
    w_adversarial: float = 0.005
    elevation_bins: int = 8
    validate_every: int = 100
    seed: int = 0
    threads: int = 0

    def __post_init__(self) -> None:
        if not self.generator:
            self.generator = small_generator(self.scale)
        if not self.discriminator:
            self.discriminator = {
                "type": "VGGStyleDiscriminator",
                "num_in_ch": 1,
                "num_feat": 16,
                "input_size": self.hr_patch,
                "dense_features": 128,
            }

    def steps(self, stage: str) -> int:
        return int(getattr(self, f"{stage}_steps"))

    def base_lr(self, stage: str) -> float:
        return float(getattr(self, f"{stage}_lr"))


@dataclass
class ValidationSet:
    """HR truth arrays (metres) with their pixel size in metres, for validation."""

    arrays: list[np.ndarray]
    pixel_m: list[tuple[float, float]]


def validate(
    net: nn.Module, val: ValidationSet, scale: int, device: torch.device | None = None
) -> dict[str, float]:
    """Mean RMSE/PSNR of the model and of bicubic over the validation arrays."""
    net.eval()
    rows: list[dict[str, float]] = []
    for hr, (dx, dy) in zip(val.arrays, val.pixel_m):
        hr = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]
        lr = block_mean(hr, scale)
        m = compare_dems(super_resolve_array(net, lr, scale, device), hr, dx, dy)
        b = compare_dems(upsample(lr, scale, "bicubic"), hr, dx, dy)
        rows.append(
            {
                "rmse_m": m.rmse_m,
                "psnr_db": m.psnr_db,
                "bicubic_rmse_m": b.rmse_m,
                "bicubic_psnr_db": b.psnr_db,
            }
        )
    net.train()
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


class DemSrHooks(TrainingHooks):
    """The DEM recipe as training hooks: data, the three stages' losses, validation."""

    primary = "generator"

    def __init__(
        self,
        config: TrainConfig,
        samplers: dict[str, Callable[[int], PatchSampler]],
        validation: ValidationSet,
        feature_net: nn.Module | None = None,
    ) -> None:
        self.cfg, self.samplers, self.val = config, samplers, validation
        self.feature_net = feature_net.eval() if feature_net is not None else None
        self.sampler: PatchSampler | None = None
        self._sampler_state: dict[str, Any] | None = None
        self.device = torch.device("cpu")

    def loop_config(self) -> LoopConfig:
        cfg = self.cfg
        return LoopConfig(
            stages=[Stage(s, cfg.steps(s)) for s in STAGES],
            validate_every=cfg.validate_every,
            seed=cfg.seed,
        )

    def models(self) -> dict[str, nn.Module]:
        return {
            "generator": build_network(self.cfg.generator),
            "discriminator": build_network(self.cfg.discriminator),
        }

    def optimizers(
        self, stage: str, models: dict[str, nn.Module]
    ) -> dict[str, torch.optim.Optimizer]:
        self.device = next(models["generator"].parameters()).device
        if self.feature_net is not None:
            self.feature_net.to(self.device)
        lr, betas = self.cfg.base_lr(stage), self.cfg.adam_betas
        return {
            name: torch.optim.Adam(models[name].parameters(), lr=lr, betas=betas)
            for name in ("generator", "discriminator")
        }

    def schedulers(
        self, stage: str, optimizers: dict[str, torch.optim.Optimizer], steps: int
    ) -> list[torch.optim.lr_scheduler.LRScheduler]:
        milestones = [max(steps, 1) // 2, (3 * max(steps, 1)) // 4]
        stepped = ("generator", "discriminator") if stage == "gan" else ("generator",)
        return [
            torch.optim.lr_scheduler.MultiStepLR(optimizers[name], milestones, gamma=0.5)
            for name in stepped
        ]

    def start_stage(self, stage: str, step: int, rank: int) -> None:
        cfg = self.cfg
        seed = cfg.seed * 1000 + STAGES.index(stage) * 100_003 + 7919 * rank
        self.sampler = self.samplers["images" if stage == "pretrain" else "dems"](seed)
        if step > 0 and self._sampler_state is not None:
            self.sampler.rng.bit_generator.state = self._sampler_state
        self._sampler_state = None

    def batch(self, stage: str, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.sampler is None:
            raise GeohazardError("The training stage was not started (no data sampler).")
        lr, hr = self.sampler.batch(self.cfg.batch_size)
        return lr.to(self.device), hr.to(self.device)

    def train_step(
        self,
        stage: str,
        batch: tuple[torch.Tensor, torch.Tensor],
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
    ) -> dict[str, float]:
        cfg = self.cfg
        lr, hr = batch
        g, d = models["generator"], models["discriminator"]
        d_raw = unwrap(d)
        for p in d_raw.parameters():
            p.requires_grad_(False)
        sr = g(lr)
        l1 = (sr - hr).abs().mean()
        parts = {"l1": float(l1.detach())}
        loss = cfg.w_l1 * l1
        if stage != "pretrain":
            grad = gradient_l1(sr, hr)
            loss = loss + cfg.w_gradient * grad
            parts["grad"] = float(grad.detach())
        if stage == "gan":
            if self.feature_net is not None:
                feat = user_feature_loss(self.feature_net, sr, hr)
            else:
                maps = getattr(d_raw, "feature_maps")  # noqa: B009 (typed as Any on purpose)
                feat = feature_matching(maps(sr), maps(hr))
            adv = adversarial_g(d(sr))
            loss = loss + cfg.w_feature * feat + cfg.w_adversarial * adv
            parts.update(feat=float(feat.detach()), adv=float(adv.detach()))
        optimizers["generator"].zero_grad()
        loss.backward()
        optimizers["generator"].step()
        parts["loss"] = float(loss.detach())
        if stage == "gan":
            parts["d"] = self._d_step(d, d_raw, hr, sr.detach(), optimizers["discriminator"])
        return parts

    def _d_step(
        self,
        d: nn.Module,
        d_raw: nn.Module,
        hr: torch.Tensor,
        sr: torch.Tensor,
        opt: torch.optim.Optimizer,
    ) -> float:
        for p in d_raw.parameters():
            p.requires_grad_(True)
        if d is not d_raw:
            # DDP allows one forward per backward: real and generated patches in one batch.
            real, fake = d(torch.cat([hr, sr])).split(len(hr))
        else:
            real, fake = d(hr), d(sr)
        loss = adversarial_d(real, fake)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())

    def validate(self, models: dict[str, nn.Module]) -> dict[str, float]:
        return validate(models["generator"], self.val, self.cfg.scale, self.device)

    def score(self, metrics: dict[str, float]) -> float:
        return float(metrics["rmse_m"])

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.rng.bit_generator.state if self.sampler else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._sampler_state = state.get("sampler")


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper, or the model itself."""
    inner = getattr(model, "module", model)
    return inner if isinstance(inner, nn.Module) else model


def make_trainer(
    config: TrainConfig,
    samplers: dict[str, Callable[[int], PatchSampler]],
    validation: ValidationSet,
    out_dir: str,
    reporter: Reporter | None = None,
    feature_net: nn.Module | None = None,
    log: Callable[[str], None] = print,
    device: torch.device | None = None,
) -> TrainingLoop:
    """The shared training loop running the DEM recipe."""
    hooks = DemSrHooks(config, samplers, validation, feature_net)
    return TrainingLoop(hooks, hooks.loop_config(), out_dir, reporter, device, log)
