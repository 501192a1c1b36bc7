"""Fine-tuning a DEM super-resolution model on the user's own high-resolution DEMs.

The user's DEM makes its own pairs: each training patch is degraded by block mean (the bundled
recipe's LR, what a coarser cell measures) and the network learns to restore it. Validation is a
spatially separate part of each DEM: the DEM is cut into square blocks of ``2 x patch`` pixels
and a seeded choice of whole blocks (``validation_share`` of them) is held out, with a buffer
around them where no training patch may reach. Training starts from the base model's weights
with the bundled recipe's fine-tuning stages (L1 + slope L1, then the adversarial terms for the
last ``adversarial_share`` of the steps). The card records the user's data, the recipe, and the
metrics on the validation blocks of the fine-tuned model, of the base model and of bicubic.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...models.training.finetune import FineTuneSettings, check_total_steps, steps_per_epoch
from ...models.training.finetune_family import FineTunePlan, FinishedRun, finetune
from ...models.training.recipe_fields import recipe_value

# Bytes held per pixel of a training DEM: the DEM read whole (float32 with its mask and a
# float64 copy while it is checked) and its downsampled input.
DEM_BYTES_PER_PIXEL = 32

BUFFER_PX = 4
MIN_VALID_SHARE = 0.9


@dataclass(frozen=True)
class DemRecipe:
    """The DEM recipe values (defaults: the bundled models' recipe and the ESRGAN paper's).

    Args:
        scale: 2 or 4; the base model must be of this scale.
        patch: HR patch side in pixels (multiple of 16 and of the scale); 0 picks the bundled
            recipe's (64 at x4, 48 at x2).
        adversarial_share: share of the steps trained with the adversarial terms (last steps).
        w_l1: weight of the elevation L1 loss.
        w_gradient: weight of the slope-gradient L1 loss.
        w_feature: weight of discriminator feature matching (the perceptual substitute).
        w_adversarial: weight of the adversarial loss.
        elevation_bins: equal-width bins of patch mean elevation drawn uniformly (oversamples
            high terrain, as the paper does).
    """

    scale: int = 4
    patch: int = recipe_value(
        0, "PATCH_SIZE", "Training patch side (HR pixels; 0: 64 at x4, 48 at x2)", 0, 512
    )
    adversarial_share: float = recipe_value(
        0.125, "ADVERSARIAL_SHARE", "Share of steps with the adversarial terms", 0.0, 1.0
    )
    w_l1: float = recipe_value(1.0, "W_L1", "Loss weight: elevation L1", 0.0, 1000.0)
    w_gradient: float = recipe_value(
        0.5, "W_GRADIENT", "Loss weight: slope-gradient L1", 0.0, 1000.0
    )
    w_feature: float = recipe_value(0.1, "W_FEATURE", "Loss weight: feature matching", 0.0, 1000.0)
    w_adversarial: float = recipe_value(
        0.005, "W_ADVERSARIAL", "Loss weight: adversarial", 0.0, 1000.0
    )
    elevation_bins: int = recipe_value(8, "ELEVATION_BINS", "Elevation bins drawn equally", 1, 64)

    def hr_patch(self) -> int:
        return self.patch or (64 if self.scale == 4 else 48)

    def validate(self) -> None:
        p = self.hr_patch()
        if self.scale not in (2, 4):
            raise GeohazardError(f"SCALE must be 2 or 4, not {self.scale}.")
        if p < 16 or p > 512 or p % 16 or p % self.scale:
            raise GeohazardError(
                f"PATCH_SIZE must be a multiple of 16 between 16 and 512 pixels, not {p}."
            )
        if not 0 <= self.adversarial_share <= 1:
            raise GeohazardError("ADVERSARIAL_SHARE must be between 0 and 1.")
        for name in ("w_l1", "w_gradient", "w_feature", "w_adversarial"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 <= value <= 1000):
                raise GeohazardError(f"{name.upper()} must be between 0 and 1000.")
        if not 1 <= self.elevation_bins <= 64:
            raise GeohazardError("ELEVATION_BINS must be between 1 and 64.")


RECIPE = DemRecipe  # this family's recipe, for scripts/finetune.py


@dataclass
class DemSplit:
    """One DEM cut into training area and validation blocks."""

    name: str
    array: np.ndarray
    allowed: np.ndarray
    blocks: list[tuple[int, int, int, int]] = field(default_factory=list)
    pixel_m: tuple[float, float] = (1.0, 1.0)


def read_dem(path: str) -> tuple[np.ndarray, Any]:
    """The one band of a DEM GeoTIFF as float32 metres (NaN nodata) and its grid."""
    from ...io.raster_io import inspect_raster, open_band

    info = inspect_raster(path)
    if info.count != 1:
        raise GeohazardError(
            f"'{os.path.basename(path)}' has {info.count} bands; a DEM must have exactly one."
        )
    with open_band(info, 1) as reader:
        return reader.read().astype(np.float32), info.grid


def split_dem(
    name: str, dem: np.ndarray, block_px: int, share: float, seed: int
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """(training mask, validation blocks as (r0, r1, c0, c1)) for one DEM.

    The DEM is cut into whole ``block_px`` squares; ``share`` of those with at least 90% valid
    pixels (at least one, and never all) are held out, chosen with a seeded generator.
    """
    rows, cols = dem.shape[0] // block_px, dem.shape[1] // block_px
    valid = np.isfinite(dem)
    cells = [
        (r * block_px, (r + 1) * block_px, c * block_px, (c + 1) * block_px)
        for r in range(rows)
        for c in range(cols)
    ]
    usable = [b for b in cells if valid[b[0] : b[1], b[2] : b[3]].mean() >= MIN_VALID_SHARE]
    if len(cells) < 2 or not usable:
        raise GeohazardError(
            f"'{name}' is only {dem.shape[1]}x{dem.shape[0]} pixels (or mostly nodata): "
            f"fine-tuning needs at least two whole {block_px}x{block_px} px blocks of valid "
            f"elevations in each DEM (one held out for validation, the rest for training). Use a "
            "larger DEM or a smaller PATCH_SIZE."
        )
    n_val = min(max(1, round(share * len(cells))), len(usable), len(cells) - 1)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(usable), n_val, replace=False).tolist())
    blocks = [usable[i] for i in chosen]
    allowed = valid.copy()
    for r0, r1, c0, c1 in blocks:
        allowed[
            max(r0 - BUFFER_PX, 0) : r1 + BUFFER_PX, max(c0 - BUFFER_PX, 0) : c1 + BUFFER_PX
        ] = False
    return allowed, blocks


def prepare_data(paths: list[str], recipe: DemRecipe, share: float, seed: int) -> list[DemSplit]:
    """Read the user's DEMs and split each into training area and validation blocks."""
    from ...dem.dem_metrics import grid_pixel_m

    if not paths:
        raise GeohazardError("No training DEM was given: choose DEM layers or a folder of DEMs.")
    block_px = 2 * recipe.hr_patch()
    splits = []
    for k, path in enumerate(paths):
        name = os.path.basename(path)
        dem, grid = read_dem(path)
        allowed, blocks = split_dem(name, dem, block_px, share, seed + k)
        splits.append(DemSplit(name, dem, allowed, blocks, grid_pixel_m(grid)))
    return splits


def dem_files(folder: str) -> list[str]:
    """The GeoTIFFs of a folder (not its subfolders), sorted."""
    if not os.path.isdir(folder):
        raise GeohazardError(f"The training folder '{folder}' does not exist.")
    found = sorted(
        os.path.join(folder, f)
        for f in os.listdir(folder)
        if f.lower().endswith((".tif", ".tiff")) and not f.startswith(".")
    )
    if not found:
        raise GeohazardError(f"The training folder '{folder}' holds no GeoTIFF (.tif) DEM.")
    return found


def block_metrics(splits: list[DemSplit], scale: int, upsampler: Any) -> dict[str, float]:
    """Mean of the DEM metrics over all validation blocks; ``upsampler(lr) -> hr`` array."""
    from ...dem.dem_metrics import compare_dems
    from .degrade import block_mean

    rows = []
    for s in splits:
        for r0, r1, c0, c1 in s.blocks:
            hr = s.array[r0:r1, c0:c1]
            rows.append(compare_dems(upsampler(block_mean(hr, scale)), hr, *s.pixel_m).as_dict())
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def finetune_dem_sr(
    dem_paths: list[str],
    settings: FineTuneSettings,
    recipe: DemRecipe,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Fine-tune a DEM super-resolution model on the user's DEMs (the shared driver, with
    :func:`plan_dem_sr`); returns a summary (model path, metrics, steps, beats_bicubic)."""
    from .task import TASK

    memory = (list(dem_paths), DEM_BYTES_PER_PIXEL)
    return finetune(TASK, plan_dem_sr, dem_paths, settings, recipe, reporter, memory)


def plan_dem_sr(
    base: Any, dem_paths: list[str], settings: FineTuneSettings, recipe: DemRecipe, rep: Reporter
) -> FineTunePlan:
    """Split the DEMs, size the stages and build the recipe's hooks for :func:`finetune`."""
    from ...models.training.loop import Stage
    from .card import super_resolve_array
    from .degrade import upsample
    from .patches import PatchSampler, PatchSource
    from .training import DemSrHooks, TrainConfig, ValidationSet

    if base.card.scale != recipe.scale:
        raise GeohazardError(
            f"The base model '{base.card.name}' is a x{base.card.scale} model but SCALE is "
            f"{recipe.scale}; choose SCALE={base.card.scale} or a x{recipe.scale} base model."
        )
    splits = prepare_data(dem_paths, recipe, settings.validation_share, settings.seed)
    hr_patch = recipe.hr_patch()
    sources = [PatchSource(s.array, s.allowed, 1.0, s.name) for s in splits]
    try:
        PatchSampler(sources, hr_patch, recipe.scale, settings.seed, recipe.elevation_bins)
    except ValueError as exc:
        raise GeohazardError(
            f"After holding out the validation blocks, no {hr_patch}x{hr_patch} px training patch "
            "of valid elevations is left; use a larger DEM, a smaller VALIDATION_SHARE or a "
            "smaller PATCH_SIZE."
        ) from exc
    train_px = int(sum(s.allowed.sum() for s in splits))
    per_epoch = steps_per_epoch(train_px, settings.batch_size, hr_patch * hr_patch)
    total = check_total_steps(settings.epochs, per_epoch)
    gan_steps = int(round(recipe.adversarial_share * total))
    cfg = TrainConfig(
        scale=recipe.scale,
        generator=dict(base.card.architecture),
        hr_patch=hr_patch,
        batch_size=settings.batch_size,
        pretrain_steps=0,
        finetune_steps=total - gan_steps,
        finetune_lr=settings.learning_rate,
        gan_steps=gan_steps,
        gan_lr=settings.learning_rate,
        w_l1=recipe.w_l1,
        w_gradient=recipe.w_gradient,
        w_feature=recipe.w_feature,
        w_adversarial=recipe.w_adversarial,
        elevation_bins=recipe.elevation_bins,
        validate_every=per_epoch,
        seed=settings.seed,
    )
    val = ValidationSet(
        [s.array[r0:r1, c0:c1] for s in splits for r0, r1, c0, c1 in s.blocks],
        [s.pixel_m for s in splits for _ in s.blocks],
    )
    inner = DemSrHooks(
        cfg,
        {"dems": lambda s: PatchSampler(sources, hr_patch, recipe.scale, s, cfg.elevation_bins)},
        val,
    )
    scale = recipe.scale

    def measure(net: Any) -> dict[str, dict[str, float]]:
        base.net.cpu().eval()
        return {
            "model": block_metrics(splits, scale, lambda lr: super_resolve_array(net, lr, scale)),
            "bicubic": block_metrics(splits, scale, lambda lr: upsample(lr, scale, "bicubic")),
            "base_model": block_metrics(
                splits, scale, lambda lr: super_resolve_array(base.net, lr, scale)
            ),
        }

    def beats(m: dict[str, dict[str, float]]) -> bool:
        return bool(
            m["model"]["rmse_m"] < m["bicubic"]["rmse_m"]
            and m["model"]["psnr_db"] > m["bicubic"]["psnr_db"]
        )

    return FineTunePlan(
        inner,
        [Stage(n, cfg.steps(n)) for n in ("finetune", "gan") if cfg.steps(n) > 0],
        per_epoch,
        "rmse_m",
        "validation elevation RMSE (m)",
        dem_paths,
        measure,
        lambda net, run, metrics: _card(run, cfg, base.card, splits, metrics, net),
        lambda m: {
            "bicubic": m["bicubic"]["rmse_m"],
            f"base model ({base.card.name})": m["base_model"]["rmse_m"],
        },
        f"Fine-tuning {base.card.name} on {len(splits)} DEM(s): {settings.epochs} epoch(s) of "
        f"{per_epoch} step(s), batch {settings.batch_size}, {hr_patch} px patches; "
        f"{len(val.arrays)} validation block(s) of {2 * hr_patch} px held out.",
        lambda m: (
            f"Saved {settings.output_name}: validation RMSE {m['model']['rmse_m']:.3f} m "
            f"(base model {m['base_model']['rmse_m']:.3f} m, bicubic "
            f"{m['bicubic']['rmse_m']:.3f} m); beats bicubic: {beats(m)}."
        ),
        summary=lambda m: {"beats_bicubic": beats(m)},
    )


def _card(
    run: FinishedRun,
    cfg: Any,
    base_card: Any,
    splits: list[DemSplit],
    metrics: dict[str, dict[str, float]],
    net: Any,
) -> Any:
    from .card import dem_sr_card

    recipe = run.recipe
    blocks = "; ".join(
        f"{s.name}: " + ", ".join(f"rows {r0}:{r1} cols {c0}:{c1}" for r0, r1, c0, c1 in s.blocks)
        for s in splits
    )
    training = run.record(
        "geohazard:traindemsuperresolution",
        [s.name for s in splits],
        pairs=f"LR = mean of each {recipe.scale}x{recipe.scale} block of the HR patch",
        config=asdict(cfg),
    )
    return dem_sr_card(
        run.settings.output_name,
        recipe.scale,
        dict(base_card.architecture),
        sum(p.numel() for p in net.parameters()),
        f"{base_card.name} fine-tuned on the user's DEMs ({', '.join(s.name for s in splits)}).",
        training,
        f"validation blocks of the user's DEMs, never in training patches (4 px buffer): {blocks}",
        metrics,
        "The validation blocks also chose the best step, so these numbers are slightly "
        "optimistic; 'base_model' is the model fine-tuning started from, on the same blocks.",
        f"Fine-tuned on {len(splits)} DEM(s) of one area; trust it on that kind of terrain and "
        f"resolution. {base_card.limitations}".strip(),
    )
