"""Two-stage training of the DEM super-resolution generator, as in the paper, on the CPU or GPU.

Stage 1 (``pretrain``): L1 on natural grayscale images. Stage 2 fine-tunes on DEMs, first with
L1 + slope-gradient L1 (``finetune``), then with the adversarial terms added (``gan``):
L1 + slope-gradient + feature matching (or a user feature network) + adversarial. Each stage
halves its learning rate at 50% and 75% of its steps. Validation metrics (elevation RMSE and
PSNR against the HR truth, with bicubic for comparison) are computed every ``validate_every``
steps (an "epoch" here) and the generator with the lowest validation RMSE is kept as the result.
Checkpoints (safetensors + JSON, no pickle) let an interrupted run resume where it stopped.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the same recipe runs with DistributedDataParallel: one
process per GPU (NCCL) or per CPU process (gloo), each drawing its own patches, gradients
averaged; rank 0 validates, logs and writes checkpoints.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..archs.registry import build_network
from ..dem_metrics import compare_dems
from ..progress import Reporter
from .degrade import block_mean, upsample
from .losses import adversarial_d, adversarial_g, feature_matching, gradient_l1, user_feature_loss
from .model_store import from_float_dict, to_float_dict
from .patches import PatchSampler
from .tile_model import super_resolve_array

STAGES = ("pretrain", "finetune", "gan")


def small_generator(scale: int) -> dict[str, Any]:
    """The CPU-sized generator of the bundled models (0.77 M parameters at x2, 0.81 M at x4)."""
    return {
        "type": "RRDBNet",
        "num_in_ch": 1,
        "num_out_ch": 1,
        "scale": scale,
        "num_feat": 32,
        "num_block": 4,
        "num_grow_ch": 16,
        "res_scale": 0.2,
        "cubic_skip": True,
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

    def lr(self, stage: str, step: int) -> float:
        base = float(getattr(self, f"{stage}_lr"))
        n = max(self.steps(stage), 1)
        return base * (0.5 ** (int(step >= n // 2) + int(step >= (3 * n) // 4)))


@dataclass
class ValidationSet:
    """HR truth arrays (metres) with their pixel size in metres, for validation."""

    arrays: list[np.ndarray]
    pixel_m: list[tuple[float, float]]


def distributed_rank() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


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


class Trainer:
    """Runs the stages with checkpoints in ``out_dir``; see the module docstring."""

    def __init__(
        self,
        config: TrainConfig,
        samplers: dict[str, Callable[[int], PatchSampler]],
        validation: ValidationSet,
        out_dir: str,
        reporter: Reporter | None = None,
        feature_net: nn.Module | None = None,
        log: Callable[[str], None] = print,
        device: torch.device | None = None,
    ) -> None:
        self.cfg, self.samplers, self.val, self.out_dir = config, samplers, validation, out_dir
        self.rep = reporter or Reporter()
        self.rank, self.world = distributed_rank()
        self.log = log if self.rank == 0 else (lambda _msg: None)
        if device is None and self.world > 1 and torch.cuda.is_available():
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.device = device or torch.device("cpu")
        self.feature_net = feature_net.eval().to(self.device) if feature_net is not None else None
        os.makedirs(out_dir, exist_ok=True)
        torch.manual_seed(config.seed)
        self.G = build_network(config.generator).to(self.device)
        self.D = build_network(config.discriminator).to(self.device)
        self.G_train: nn.Module = self.G
        self.D_train: nn.Module = self.D
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.G_train = DDP(self.G, device_ids=ids)
            self.D_train = DDP(self.D, device_ids=ids)
        self.stage, self.step = STAGES[0], 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {"rmse_m": float("inf")}
        self.best_state: dict[str, torch.Tensor] | None = None
        self._new_optimisers()

    def _new_optimisers(self) -> None:
        betas = self.cfg.adam_betas
        self.opt_g = torch.optim.Adam(
            self.G.parameters(), lr=self.cfg.lr(self.stage, 0), betas=betas
        )
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=self.cfg.lr(self.stage, 0), betas=betas
        )

    # --- checkpoints -----------------------------------------------------------------

    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.out_dir, "checkpoint.safetensors")

    def save_checkpoint(self) -> None:
        if self.rank != 0:
            return
        tensors = {f"G.{k}": v.detach().cpu().clone() for k, v in self.G.state_dict().items()}
        tensors.update({f"D.{k}": v.detach().cpu().clone() for k, v in self.D.state_dict().items()})
        if self.best_state is not None:
            tensors.update({f"best.{k}": v.cpu() for k, v in self.best_state.items()})
        tg, mg = to_float_dict(self.opt_g.state_dict(), "opt_g")
        td, md = to_float_dict(self.opt_d.state_dict(), "opt_d")
        tensors.update(tg)
        tensors.update(td)
        meta = {
            "stage": self.stage,
            "step": self.step,
            "history": self.history,
            "best": self.best,
            "opt_g": mg,
            "opt_d": md,
            "config": asdict(self.cfg),
        }
        tmp = self.checkpoint_path + ".tmp"
        save_file(
            {k: v.contiguous() for k, v in tensors.items()},
            tmp,
            metadata={"state": json.dumps(meta)},
        )
        os.replace(tmp, self.checkpoint_path)

    def resume(self) -> bool:
        """Load the checkpoint in ``out_dir`` if there is one; True when resumed."""
        if not os.path.exists(self.checkpoint_path):
            return False
        from safetensors import safe_open

        with safe_open(self.checkpoint_path, framework="pt") as fh:
            meta = json.loads(fh.metadata()["state"])
        tensors = load_file(self.checkpoint_path)
        self.G.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
        self.D.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("D.")})
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        self.best_state = best or None
        self.stage, self.step = meta["stage"], meta["step"]
        self.history, self.best = meta["history"], meta["best"]
        self._new_optimisers()
        self.opt_g.load_state_dict(from_float_dict(tensors, meta["opt_g"], "opt_g"))
        self.opt_d.load_state_dict(from_float_dict(tensors, meta["opt_d"], "opt_d"))
        self.log(f"resumed at stage {self.stage}, step {self.step}")
        return True

    # --- training --------------------------------------------------------------------

    def _g_loss(self, lr: torch.Tensor, hr: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        sr = self.G_train(lr)
        l1 = (sr - hr).abs().mean()
        parts = {"l1": float(l1.detach())}
        loss = cfg.w_l1 * l1
        if self.stage == "pretrain":
            return loss, parts
        grad = gradient_l1(sr, hr)
        loss = loss + cfg.w_gradient * grad
        parts["grad"] = float(grad.detach())
        if self.stage == "gan":
            if self.feature_net is not None:
                feat = user_feature_loss(self.feature_net, sr, hr)
            else:
                feat = feature_matching(self.D.feature_maps(sr), self.D.feature_maps(hr))
            adv = adversarial_g(self.D_train(sr))
            loss = loss + cfg.w_feature * feat + cfg.w_adversarial * adv
            parts.update(feat=float(feat.detach()), adv=float(adv.detach()))
            self._last_sr = sr.detach()
        return loss, parts

    def _d_step(self, hr: torch.Tensor) -> float:
        for p in self.D.parameters():
            p.requires_grad_(True)
        if self.world > 1:
            # DDP allows one forward per backward: real and generated patches in one batch.
            real, fake = self.D_train(torch.cat([hr, self._last_sr])).split(len(hr))
        else:
            real, fake = self.D(hr), self.D(self._last_sr)
        loss = adversarial_d(real, fake)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return float(loss.detach())

    def _validate(self) -> None:
        if self.rank != 0:
            return
        metrics = validate(self.G, self.val, self.cfg.scale, self.device)
        entry = {
            "stage": self.stage,
            "step": self.step,
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        self.history.append(entry)
        self.log("validation " + json.dumps(entry))
        if metrics["rmse_m"] < self.best["rmse_m"]:
            self.best = dict(entry)
            self.best_state = {k: v.detach().clone() for k, v in self.G.state_dict().items()}

    def run(self) -> nn.Module:
        """Train through all stages (from the checkpoint, if resumed); returns the best generator."""
        cfg = self.cfg
        total = sum(cfg.steps(s) for s in STAGES) or 1
        self.G.train()
        self.D.train()
        for stage in STAGES[STAGES.index(self.stage) :]:
            if stage != self.stage:
                self.stage, self.step = stage, 0
                self._new_optimisers()
            n = cfg.steps(stage)
            if n == 0:
                continue
            sampler = self.samplers["images" if stage == "pretrain" else "dems"](
                cfg.seed * 1000 + STAGES.index(stage) * 100_003 + self.step + 7919 * self.rank
            )
            t0, done_before = time.time(), sum(cfg.steps(s) for s in STAGES[: STAGES.index(stage)])
            while self.step < n:
                self.rep.check_cancel()
                for group in self.opt_g.param_groups + self.opt_d.param_groups:
                    group["lr"] = cfg.lr(stage, self.step)
                lr, hr = sampler.batch(cfg.batch_size)
                lr, hr = lr.to(self.device), hr.to(self.device)
                for p in self.D.parameters():
                    p.requires_grad_(False)
                loss, parts = self._g_loss(lr, hr)
                self.opt_g.zero_grad()
                loss.backward()
                self.opt_g.step()
                if stage == "gan":
                    parts["d"] = self._d_step(hr)
                self.step += 1
                self.rep.report((done_before + self.step) / total)
                if self.step % 25 == 0:
                    rate = (time.time() - t0) / 25
                    t0 = time.time()
                    self.log(
                        f"{stage} {self.step}/{n} "
                        + " ".join(f"{k}={v:.4f}" for k, v in parts.items())
                        + f" ({rate:.2f} s/step)"
                    )
                if self.step % cfg.validate_every == 0 or self.step == n:
                    self._validate()
                    self.save_checkpoint()
        if self.best_state is not None:
            self.G.load_state_dict(self.best_state)
        self.G.eval()
        return self.G
