"""Fine-tuning a SAR-to-optical (SARDINet) model on the user's own SAR, DEM and optical rasters.

Each training area is a two-band SAR raster (VV, VH; sigma0 linear or dB), a DEM (m) and an
optical RGB raster (optionally a mask of clouds or snow, non-zero = unusable), read onto the SAR
grid and transformed exactly as the bundled models' data (data.py of this
family) with the
base model's normalisation (SAR dB range, maximum elevation). The area is cut into square
patches of ``PATCH_SIZE`` pixels (at least half valid); a seeded choice of whole patches
(``validation_share`` of them, at least one, never all) is held out for validation, the rest are
the training patches (whole patches, no flips: they would turn the radar's look direction).

The paper's recipe (Bralet et al., IGARSS 2024): masked MAE loss on RGB in 0..1, Adam, learning
rate 1e-5, batch 24. After each epoch the model is measured on the validation patches (MSE of
RGB in 0..1) and the best epoch is kept; the card records the fine-tuned model, the base model
and the linear colour mapping of the SAR bands (fitted on the training patches) on the same
patches, globally and per distortion class (foreshortening, layover, shadow, undistorted).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...models.training.finetune import FineTuneSettings, check_total_steps, steps_per_epoch
from ...models.training.finetune_family import FineTunePlan, FinishedRun, finetune
from ...models.training.recipe_fields import recipe_value

# Bytes held per pixel of a training area (on the SAR grid): SAR VV and VH, the DEM, the optical
# RGB and the mask read whole as float32, with the distortion classes and validity masks.
AREA_BYTES_PER_PIXEL = 64

PRIMARY_METRIC = "mse"


@dataclass(frozen=True)
class SarOpticalArea:
    """One training area: SAR (VV, VH), DEM and optical RGB rasters, and an optional mask.

    The SAR and optical may be in the product layouts the family's inputs.py recognises;
    ``sar_vh`` is the VH file of a VV file whose twin is not found by name, ``scl`` a
    Sentinel-2 L2A scene classification and ``sar_units`` one of its SAR_UNITS."""

    sar: str
    dem: str
    optical: str
    mask: str = ""
    sar_vh: str = ""
    scl: str = ""
    sar_units: str = "auto"

    def files(self) -> list[str]:
        """Every file the area reads (twins found by name included): the run's fingerprint."""
        from .inputs import find_optical, find_sar

        sar = find_sar(self.sar, self.sar_vh or None).files
        optical = find_optical(self.optical).files
        return [*sar, self.dem, *optical, *(p for p in (self.mask, self.scl) if p)]


@dataclass(frozen=True)
class SarOpticalRecipe:
    """Recipe values.

    Args:
        patch: patch side in pixels (multiple of 16, 32-1024). Default 256 (paper).
        min_valid: share of valid pixels a patch needs. Default 0.5.
        fusion: fusion variant whose bundled model ``default`` means (sar-only, early, late,
            intermediate). Default late.
        ssim_weight: share ``a`` of SSIM in the loss ``(1 - a) * MAE + a * (1 - SSIM)``, 0 to
            0.99. Default 0 (the paper's masked MAE alone); 0.84 is Zhao et al.'s (2017) mix.
    """

    patch: int = recipe_value(256, "PATCH_SIZE", "Patch side (px, multiple of 16)", 32, 1024)
    min_valid: float = recipe_value(
        0.5, "MIN_VALID", "Valid pixels a patch needs (%)", 1, 100, percent=True
    )
    fusion: str = "late"
    ssim_weight: float = recipe_value(
        0.0, "SSIM_WEIGHT", "Share of SSIM in the loss (0: MAE alone)", 0.0, 0.99
    )

    def validate(self) -> None:
        from .task import FUSIONS

        if self.patch < 32 or self.patch > 1024 or self.patch % 16:
            raise GeohazardError(
                f"PATCH_SIZE must be a multiple of 16 between 32 and 1024 pixels, not {self.patch}."
            )
        if not 0 < self.min_valid <= 1:
            raise GeohazardError("The minimum valid share of a patch must be above 0, at most 1.")
        if self.fusion not in FUSIONS:
            raise GeohazardError(f"FUSION must be one of {', '.join(FUSIONS)}.")
        if not (np.isfinite(self.ssim_weight) and 0 <= self.ssim_weight <= 0.99):
            raise GeohazardError(
                f"SSIM_WEIGHT must be between 0 and 0.99 (the share of SSIM in the loss), not "
                f"{self.ssim_weight}."
            )


RECIPE = SarOpticalRecipe  # this family's recipe, for scripts/finetune.py


def area_files(folder: str) -> list[SarOpticalArea]:
    """Areas in a folder: ``<name>_sar.tif``, ``<name>_dem.tif``, ``<name>_optical.tif`` and
    optionally ``<name>_mask.tif``."""
    if not os.path.isdir(folder):
        raise GeohazardError(f"The training folder '{folder}' does not exist.")
    files = {f.lower(): f for f in os.listdir(folder)}
    areas = []
    for low in sorted(files):
        for ext in (".tif", ".tiff"):
            if low.endswith("_sar" + ext):
                stem = files[low][: -len("_sar" + ext)]
                found = [files.get(f"{stem}_{k}{ext}".lower()) for k in ("dem", "optical", "mask")]
                if found[0] and found[1]:
                    areas.append(
                        SarOpticalArea(
                            os.path.join(folder, files[low]),
                            os.path.join(folder, found[0]),
                            os.path.join(folder, found[1]),
                            os.path.join(folder, found[2]) if found[2] else "",
                        )
                    )
    if not areas:
        raise GeohazardError(
            f"The training folder '{folder}' holds no complete area: name the files "
            "<name>_sar.tif (VV, VH), <name>_dem.tif and <name>_optical.tif (RGB), optionally "
            "<name>_mask.tif."
        )
    return areas


def split_patches(
    data: dict[str, np.ndarray], share: float, seed: int, name: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(training, validation) patches: a seeded choice of whole patches is held out."""
    n = len(data["inputs"])
    if n < 2:
        raise GeohazardError(
            f"'{name}' gives {n} usable patch(es); fine-tuning needs at least two (one held "
            "out for validation): use a larger area or a smaller PATCH_SIZE."
        )
    n_val = min(max(1, round(share * n)), n - 1)
    chosen = np.zeros(n, bool)
    chosen[np.random.default_rng(seed).choice(n, n_val, replace=False)] = True
    return (
        {k: v[~chosen] for k, v in data.items()},
        {k: v[chosen] for k, v in data.items()},
    )


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def finetune_sar_to_optical(
    areas: list[SarOpticalArea],
    settings: FineTuneSettings,
    recipe: SarOpticalRecipe,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Fine-tune a SARDINet model on the user's areas (the shared driver, with
    :func:`plan_sar_to_optical`); returns a summary (model path, metrics, steps)."""
    from .task import TASK

    if not areas:
        raise GeohazardError("No training area was given: choose the layers or a folder.")
    memory = ([a.sar for a in areas], AREA_BYTES_PER_PIXEL)
    return finetune(TASK, plan_sar_to_optical, areas, settings, recipe, reporter, memory)


def plan_sar_to_optical(
    base: Any,
    areas: list[SarOpticalArea],
    settings: FineTuneSettings,
    recipe: SarOpticalRecipe,
    rep: Reporter,
) -> FineTunePlan:
    """Read and split the areas and build the recipe's hooks for :func:`finetune`."""
    from ...models.training.loop import Stage
    from .card import BASELINE
    from .data import PrepConfig, cut_patches, load_area
    from .task import TASK
    from .training import (
        SardinetHooks,
        SardinetTrainConfig,
        evaluate,
        fit_linear_colour_mapping,
        linear_colour_mapping,
        predict,
    )

    fusion = TASK.fusion_of(base.card)
    params = base.card.normalisation.params
    prep = PrepConfig(
        patch=recipe.patch,
        stride=recipe.patch,
        min_valid=recipe.min_valid,
        sar_db_range=(float(params["sar_db_min"]), float(params["sar_db_max"])),
        dem_max_m=float(params["dem_max_m"]),
    )
    train_parts, val_parts = [], []
    for k, area in enumerate(areas):
        name = os.path.basename(area.sar)
        rep.info(f"Reading {name} with its DEM and optical image onto the SAR grid.")
        loaded = load_area(
            area.sar,
            area.dem,
            area.optical,
            area.mask or None,
            None,
            replace(prep, sar_units=area.sar_units),
            rep,
            area.sar_vh or None,
            area.scl or None,
        )
        t, v = split_patches(
            cut_patches(loaded, prep), settings.validation_share, settings.seed + k, name
        )
        train_parts.append(t)
        val_parts.append(v)
        rep.check_cancel()
    train, val = _concat(train_parts), _concat(val_parts)
    train_px = int(train["valid"].sum())
    per_epoch = steps_per_epoch(train_px, settings.batch_size, recipe.patch * recipe.patch)
    total = check_total_steps(settings.epochs, per_epoch)
    cfg = SardinetTrainConfig(
        architecture=dict(base.card.architecture),
        steps=total,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        crop=recipe.patch,
        ssim_weight=recipe.ssim_weight,
        validate_every=per_epoch,
        seed=settings.seed,
    )
    coef = fit_linear_colour_mapping(train)

    def measure(net: Any) -> dict[str, dict[str, float]]:
        import torch

        cpu = torch.device("cpu")
        base.net.cpu().eval()
        out = {
            "model": evaluate(lambda x: predict(net, x, fusion, cpu), val),
            "base_model": evaluate(lambda x: predict(base.net, x, fusion, cpu), val),
            BASELINE: evaluate(lambda x: linear_colour_mapping(coef, x), val),
        }
        return {k: v["global"] for k, v in out.items()} | {
            f"{k} ({region})": m
            for k, v in out.items()
            for region, m in v.items()
            if region != "global"
        }

    def saved(m: dict[str, dict[str, float]]) -> str:
        return (
            f"Saved {settings.output_name}: validation MSE {m['model']['mse']:.4f}, SSIM "
            f"{m['model']['ssim']:.3f} (base model {m['base_model']['mse']:.4f}, "
            f"{m['base_model']['ssim']:.3f}; {BASELINE} {m[BASELINE]['mse']:.4f}, "
            f"{m[BASELINE]['ssim']:.3f})."
        )

    return FineTunePlan(
        SardinetHooks(cfg, train, val),
        [Stage("translate", total)],
        per_epoch,
        PRIMARY_METRIC,
        "validation MSE (RGB 0-1)",
        [p for a in areas for p in a.files()],
        measure,
        lambda net, run, metrics: _card(run, base, areas, metrics, net, prep, val),
        lambda m: {
            BASELINE: m[BASELINE]["mse"],
            f"base model ({base.card.name})": m["base_model"]["mse"],
        },
        f"Fine-tuning {base.card.name} ({fusion} fusion) on {len(areas)} area(s): "
        f"{settings.epochs} epoch(s) of {per_epoch} step(s), batch {settings.batch_size}, "
        f"{len(train['inputs'])} training and {len(val['inputs'])} validation patch(es) of "
        f"{recipe.patch} px.",
        saved,
        recipe_record=asdict(replace(recipe, fusion=fusion)),
    )


def _card(
    run: FinishedRun,
    base: Any,
    areas: list[SarOpticalArea],
    metrics: dict[str, dict[str, float]],
    net: Any,
    prep: Any,
    val: dict[str, np.ndarray],
) -> Any:
    from .card import sardinet_card

    origins = ", ".join(f"({r}, {c})" for r, c in val["origins"].tolist())
    training = run.record(
        "geohazard:trainsartooptical",
        [
            {
                "sar": os.path.basename(a.sar),
                "dem": os.path.basename(a.dem),
                "optical": os.path.basename(a.optical),
                "mask": os.path.basename(a.mask),
                "sar_vh": os.path.basename(a.sar_vh),
                "scl": os.path.basename(a.scl),
                "sar_units": a.sar_units,
            }
            for a in areas
        ],
    )
    return sardinet_card(
        run.settings.output_name,
        dict(base.card.architecture),
        sum(p.numel() for p in net.parameters()),
        f"{base.card.name} fine-tuned on the user's SAR/optical areas "
        f"({', '.join(os.path.basename(a.sar) for a in areas)}).",
        training,
        prep,
        f"validation patches of {run.recipe.patch} px of the user's areas (top-left row, col: "
        f"{origins}), never in training",
        metrics,
        "RGB in 0..1 after the optical stretch; 'base_model' is the model fine-tuning started "
        "from, on the same patches. The validation patches also chose the best epoch, so these "
        "numbers are slightly optimistic. Validation patches touch training patches (no buffer).",
        f"Fine-tuned on {len(areas)} area(s); trust it on similar land cover, season and "
        f"relief. {base.card.limitations}".strip(),
    )
