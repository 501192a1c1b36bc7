"""SARDINet training on prepared patches through the shared loop, and held-out evaluation.

The paper's recipe is the default: masked MAE loss, Adam, learning rate 1e-5, batch 24, 256 px
patches. Batches are random crops of the training patches (no flips or rotations: they would
turn the radar's look direction, which decides where layover and shadow fall).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ...core.errors import GeohazardError
from ...models.archs.registry import build_network
from ...models.training.loop import LoopConfig, Stage, TrainingHooks
from .metrics import RegionScores


@dataclass(frozen=True)
class SardinetTrainConfig:
    """Training recipe (defaults: the IGARSS 2024 paper).

    Args:
        architecture: ``{"type": "SARDINet", "fusion": ..., **widths}``.
        steps: optimisation steps.
        batch_size: patches per step. Default 24 (paper).
        learning_rate: Adam learning rate. Default 1e-5 (paper).
        crop: side of the random crops taken from the patches. Default 256 (whole patches).
        ssim_weight: share ``a`` of SSIM in the loss ``(1 - a) * MAE + a * (1 - SSIM)``.
            Default 0 (the paper's masked MAE alone).
        validate_every: steps between validations.
        seed: seed of the data order and initialisation.
    """

    architecture: dict[str, Any] = field(default_factory=lambda: {"type": "SARDINet"})
    steps: int = 1000
    batch_size: int = 24
    learning_rate: float = 1e-5
    crop: int = 256
    ssim_weight: float = 0.0
    validate_every: int = 100
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def network_inputs(inputs: np.ndarray, fusion: str) -> np.ndarray:
    """Patches' (N, 3, h, w) VV, VH, DEM to the variant's channels (drops the DEM if SAR-only)."""
    return inputs[:, :2] if fusion == "sar-only" else inputs


class PatchSampler:
    """Random crops of prepared patches, from a seeded generator."""

    def __init__(self, data: dict[str, np.ndarray], fusion: str, crop: int, seed: int) -> None:
        self.x = network_inputs(data["inputs"], fusion)
        self.y = data["targets"]
        self.valid = data["valid"]
        self.crop = min(crop, self.x.shape[-1])
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.rng.integers(0, len(self.x), n)
        size = self.x.shape[-1]
        r = self.rng.integers(0, size - self.crop + 1, n)
        c = self.rng.integers(0, size - self.crop + 1, n)
        sl = [(slice(a, a + self.crop), slice(b, b + self.crop)) for a, b in zip(r, c)]
        x = np.stack([self.x[i][:, s0, s1] for i, (s0, s1) in zip(idx, sl)]).astype(np.float32)
        y = np.stack([self.y[i][:, s0, s1] for i, (s0, s1) in zip(idx, sl)]).astype(np.float32)
        m = np.stack([self.valid[i][s0, s1] for i, (s0, s1) in zip(idx, sl)])
        return torch.from_numpy(x), torch.from_numpy(y / 255.0), torch.from_numpy(m)


def masked_mae(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over valid pixels (all bands)."""
    w = valid[:, None].to(pred.dtype).expand_as(pred)
    return (torch.abs(pred - target) * w).sum() / w.sum().clamp_min(1.0)


def predict(
    net: nn.Module, inputs: np.ndarray, fusion: str, device: torch.device, batch: int = 4
) -> np.ndarray:
    """Network output (N, 3, h, w) in 0..1 for prepared patches (N, 3, h, w)."""
    x = network_inputs(inputs, fusion)
    out = []
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(x[i : i + batch].astype(np.float32)).to(device)
            out.append(net(xb).float().cpu().numpy())
    net.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 3) + x.shape[2:], np.float32)


class SardinetHooks(TrainingHooks):
    """The paper's recipe as hooks on the shared training loop."""

    primary = "model"

    def __init__(
        self,
        config: SardinetTrainConfig,
        train: dict[str, np.ndarray],
        validation: dict[str, np.ndarray],
    ) -> None:
        self.cfg = config
        self.fusion = str(config.architecture.get("fusion", "late"))
        self.train_data, self.val = train, validation
        self.sampler: PatchSampler | None = None
        self._sampler_state: dict[str, Any] | None = None
        self.device = torch.device("cpu")

    def loop_config(self) -> LoopConfig:
        return LoopConfig(
            stages=[Stage("translate", self.cfg.steps)],
            validate_every=self.cfg.validate_every,
            seed=self.cfg.seed,
        )

    def models(self) -> dict[str, nn.Module]:
        return {"model": build_network(self.cfg.architecture, ("SARDINet",))}

    def optimizers(
        self, stage: str, models: dict[str, nn.Module]
    ) -> dict[str, torch.optim.Optimizer]:
        self.device = next(models["model"].parameters()).device
        return {"model": torch.optim.Adam(models["model"].parameters(), lr=self.cfg.learning_rate)}

    def start_stage(self, stage: str, step: int, rank: int) -> None:
        seed = self.cfg.seed * 1000 + 7919 * rank
        self.sampler = PatchSampler(self.train_data, self.fusion, self.cfg.crop, seed)
        if step > 0 and self._sampler_state is not None:
            self.sampler.rng.bit_generator.state = self._sampler_state
        self._sampler_state = None

    def batch(self, stage: str, step: int) -> tuple[torch.Tensor, ...]:
        if self.sampler is None:
            raise GeohazardError("The training stage was not started (no data sampler).")
        return tuple(t.to(self.device) for t in self.sampler.batch(self.cfg.batch_size))

    def train_step(
        self,
        stage: str,
        batch: tuple[torch.Tensor, ...],
        models: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
    ) -> dict[str, float]:
        x, y, m = batch
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        pred = models["model"](x)
        mae = masked_mae(pred, y, m)
        loss, parts = mae, {}
        if self.cfg.ssim_weight > 0:  # the paper's loss is the MAE alone
            from .ssim_loss import masked_ssim

            ssim = masked_ssim(pred, y, m)
            loss = (1.0 - self.cfg.ssim_weight) * mae + self.cfg.ssim_weight * (1.0 - ssim)
            parts = {"mae": float(mae.detach()), "ssim": float(ssim.detach())}
        loss.backward()
        opt.step()
        return {"loss": loss.item(), **parts}

    def validate(self, models: dict[str, nn.Module]) -> dict[str, float]:
        if len(self.val["inputs"]) == 0:
            return {}
        pred = predict(models["model"], self.val["inputs"], self.fusion, self.device)
        target = self.val["targets"].astype(np.float32) / 255.0
        valid = self.val["valid"][:, None]
        n = max(float(valid.sum()) * 3, 1.0)
        mse = float((((pred - target) ** 2) * valid).sum() / n)
        mae = float((np.abs(pred - target) * valid).sum() / n)
        return {"mse": mse, "mae": mae}

    def score(self, metrics: dict[str, float]) -> float:
        return float(metrics.get("mse", np.inf))

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.rng.bit_generator.state if self.sampler else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._sampler_state = state.get("sampler")


def fit_linear_colour_mapping(data: dict[str, np.ndarray], samples: int = 200_000) -> np.ndarray:
    """Least-squares RGB = A @ [VV, VH, 1] on valid training pixels; returns A (3, 3)."""
    x = data["inputs"][:, :2].astype(np.float32)
    valid = data["valid"]
    feats = np.concatenate([x[:, 0][valid][:, None], x[:, 1][valid][:, None]], axis=1)
    rgb = np.stack([data["targets"][:, b][valid] for b in range(3)], axis=1) / 255.0
    rng = np.random.default_rng(0)
    pick = rng.choice(len(feats), min(samples, len(feats)), replace=False)
    design = np.concatenate([feats[pick], np.ones((len(pick), 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design, rgb[pick], rcond=None)
    return coef.T.astype(np.float64)


def linear_colour_mapping(coef: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Apply :func:`fit_linear_colour_mapping`'s A to patches (N, 3, h, w) -> RGB 0..1."""
    vv, vh = inputs[:, 0].astype(np.float64), inputs[:, 1].astype(np.float64)
    out = np.stack([coef[b, 0] * vv + coef[b, 1] * vh + coef[b, 2] for b in range(3)], axis=1)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def evaluate(
    predict_fn: Callable[[np.ndarray], np.ndarray], data: dict[str, np.ndarray], batch: int = 8
) -> dict[str, dict[str, float]]:
    """Table 1 metrics of a predictor over prepared patches (global and per distortion)."""
    scores = RegionScores()
    for i in range(0, len(data["inputs"]), batch):
        pred = predict_fn(data["inputs"][i : i + batch])
        target = data["targets"][i : i + batch].astype(np.float32) / 255.0
        for k in range(len(pred)):
            scores.add(pred[k], target[k], data["valid"][i + k], data["classes"][i + k])
    return scores.result()
