"""Fine-tuning the deep offset tracker on the user's own SAR pairs with known or tracked offsets.

Each training pair is a reference and a secondary amplitude raster (one band each, same grid)
and a targets raster of east and north offsets in metres (bands 1 and 2): a classical offset map
from ``geohazard:offsettracking`` (read onto the reference grid bilinearly; pixels outside its
window centres, or where it found no match, are not used) or a known displacement raster. The
targets are turned into reference pixels (dx right, dy down) through the reference grid's
transform. The NCC prior is measured on the whole pair exactly as at inference, with the base
model's prior settings; pixels within the prior's margin of the image edge (extrapolated prior)
are left out, as in the bundled model's training.

Validation is spatially separate: each pair is cut into square blocks of ``2 x PATCH_SIZE``
pixels and a seeded choice of whole blocks (``validation_share`` of them, at least one, never
all) is held out; the remaining blocks are the training scenes (random augmented crops of
``PATCH_SIZE``). After each epoch the network is measured on the held-out blocks (end-point
error, px) and the best epoch is kept; the card records the fine-tuned model, the base model
and the NCC prior (classical tracking interpolated to every pixel) on the same pixels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...models.training.finetune import (
    FineTuneSettings,
    check_total_steps,
    steps_per_epoch,
)
from ...models.training.finetune_family import FineTunePlan, FinishedRun, finetune
from ...models.training.recipe_fields import recipe_value

if TYPE_CHECKING:  # torch-free at import: the training algorithm reads the recipe without torch
    from .dataset import Scene

# Bytes held per pixel of a training pair (on the reference grid): reference, secondary, the two
# target bands and their pixel conversion, the dense prior's channels and the validity mask.
PAIR_BYTES_PER_PIXEL = 96

PRIMARY_METRIC = "epe_px"
MIN_TARGET_SHARE = 0.05


@dataclass(frozen=True)
class DeepOffsetPair:
    """One training pair: reference and secondary amplitude rasters and the targets raster."""

    reference: str
    secondary: str
    targets: str
    band: int = 1


@dataclass(frozen=True)
class DeepOffsetRecipe:
    """Recipe values (defaults: the bundled model's training recipe).

    Args:
        patch: training crop side, pixels (multiple of 16, 32-512). Default 64; the bundled
            model trained on 128 px crops of larger scenes.
        huber_px: end of the quadratic zone of the Huber loss, pixels. Default 0.1.
        w_sigma: weight of the error head's negative log-likelihood. Default 0.05.
        weight_decay: AdamW weight decay. Default 1e-4.
    """

    patch: int = recipe_value(64, "PATCH_SIZE", "Training crop side (px, multiple of 16)", 32, 512)
    huber_px: float = recipe_value(0.1, "HUBER_PX", "Huber loss quadratic zone (px)", 0.001, 100.0)
    w_sigma: float = recipe_value(0.05, "W_SIGMA", "Loss weight: error head likelihood", 0.0, 100.0)
    weight_decay: float = recipe_value(1e-4, "WEIGHT_DECAY", "AdamW weight decay", 0.0, 100.0)

    def validate(self) -> None:
        if self.patch < 32 or self.patch > 512 or self.patch % 16:
            raise GeohazardError(
                f"PATCH_SIZE must be a multiple of 16 between 32 and 512 pixels, not {self.patch}."
            )
        if not (np.isfinite(self.huber_px) and 0 < self.huber_px <= 100):
            raise GeohazardError("HUBER_PX must be above 0 and at most 100 pixels.")
        for name in ("w_sigma", "weight_decay"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 <= value <= 100):
                raise GeohazardError(f"{name.upper()} must be between 0 and 100.")


RECIPE = DeepOffsetRecipe  # this family's recipe, for scripts/finetune.py


def pair_files(folder: str) -> list[DeepOffsetPair]:
    """Pairs in a folder: ``<name>_reference.tif``, ``<name>_secondary.tif`` and
    ``<name>_offsets.tif`` (every ``<name>`` with all three)."""
    if not os.path.isdir(folder):
        raise GeohazardError(f"The training folder '{folder}' does not exist.")
    files = {f.lower(): f for f in os.listdir(folder)}
    pairs = []
    for low in sorted(files):
        for ext in (".tif", ".tiff"):
            if low.endswith("_reference" + ext):
                stem = files[low][: -len("_reference" + ext)]
                sec = files.get(f"{stem}_secondary{ext}".lower())
                off = files.get(f"{stem}_offsets{ext}".lower())
                if sec and off:
                    pairs.append(
                        DeepOffsetPair(
                            os.path.join(folder, files[low]),
                            os.path.join(folder, sec),
                            os.path.join(folder, off),
                        )
                    )
    if not pairs:
        raise GeohazardError(
            f"The training folder '{folder}' holds no complete pair: name the files "
            "<name>_reference.tif, <name>_secondary.tif and <name>_offsets.tif (east, north m)."
        )
    return pairs


def metres_to_pixels(east: np.ndarray, north: np.ndarray, grid: Any) -> tuple[Any, Any]:
    """East/north metres to (dx right, dy down) reference pixels (inverse of the task's
    conversion, pixel by pixel, so geographic grids are handled too)."""
    from ...offsets.units import pixel_offsets_to_metres

    ones, zeros = np.ones_like(east), np.zeros_like(east)
    e_dx, n_dx = pixel_offsets_to_metres(zeros, ones, grid, grid)  # one pixel right
    e_dy, n_dy = pixel_offsets_to_metres(ones, zeros, grid, grid)  # one pixel down
    det = e_dx * n_dy - e_dy * n_dx
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = (east * n_dy - north * e_dy) / det
        dy = (north * e_dx - east * n_dx) / det
    return dx.astype(np.float32), dy.astype(np.float32)


TRACKER_OUTPUTS = {
    "offsettracking": "Offset tracking",
    "deepoffsettracking": "Deep offset tracking",
}


def warn_if_tracker_output(path: str, rep: Reporter) -> None:
    """Warn when a targets raster was written by one of the plugin's trackers: a network trained
    on a tracker's offsets learns to reproduce that tracker, errors and smoothing included."""
    import rasterio

    with rasterio.open(path) as src:
        algorithm = src.tags().get("GEOHAZARD_ALGORITHM", "")
    if algorithm in TRACKER_OUTPUTS:
        rep.warning(
            f"'{os.path.basename(path)}' was written by {TRACKER_OUTPUTS[algorithm]}: targets "
            "from a tracker teach the network that tracker's answer (its smoothing across "
            "faults and landslide edges included), so fine-tuning on them cannot beat it. Use "
            "offsets better than the tracker where you have them: GNSS-interpolated motion, a "
            "correlation of finer (LiDAR or optical) images, or a simulated event."
        )


def check_targets(
    dx: np.ndarray,
    dy: np.ndarray,
    metres: np.ndarray,
    grid: Any,
    name: str,
    trained_max_px: float,
    rep: Reporter,
) -> None:
    """Refuse target offsets no displacement between the two images can have (longer than the
    image itself), and warn, with a count, of targets beyond what the base model was trained
    for (its card's ``trained_max_px``)."""
    finite = np.isfinite(dx) & np.isfinite(dy)
    impossible = finite & ((np.abs(dx) > grid.width) | (np.abs(dy) > grid.height))
    if impossible.any():
        raise GeohazardError(
            f"'{name}' holds {int(impossible.sum())} target offset(s) longer than the image "
            f"itself ({grid.width} x {grid.height} px; up to {np.nanmax(metres[impossible]):.4g} "
            "m), which no displacement between the two images can be: check that the targets "
            "are east and north offsets in metres of this pair."
        )
    length = np.hypot(dx, dy)
    beyond = finite & (length > trained_max_px)
    if beyond.any():
        rep.warning(
            f"'{name}': {int(beyond.sum())} target pixel(s) move more than the "
            f"{trained_max_px:.0f} px the base model was trained for (up to "
            f"{float(length[beyond].max()):.0f} px); the model learns them from a start that "
            "never saw such motion, and its offsets there deserve a check against the "
            "classical tracker."
        )


def read_pair(
    pair: DeepOffsetPair, prior_cfg: Any, rep: Reporter, trained_max_px: float = np.inf
) -> Scene:
    """One pair on the reference grid as a whole-image scene (truth in pixels); targets no
    displacement can have are refused before the prior is measured (see check_targets)."""
    from rasterio.enums import Resampling

    from ...io.raster_io import inspect_raster, open_band
    from ...offsets.dense_prior import dense_prior
    from .dataset import Scene

    ref_info = inspect_raster(pair.reference)
    grid = ref_info.grid
    with open_band(ref_info, pair.band) as reader:
        ref = reader.read().astype(np.float32)
    sec_info = inspect_raster(pair.secondary)
    if (sec_info.grid.width, sec_info.grid.height) != (grid.width, grid.height) or (
        sec_info.grid.transform != grid.transform
    ):
        raise GeohazardError(
            f"'{os.path.basename(pair.secondary)}' is not on the grid of "
            f"'{os.path.basename(pair.reference)}'; coregister the pair first."
        )
    with open_band(sec_info, pair.band) as reader:
        sec = reader.read().astype(np.float32)
    tgt_info = inspect_raster(pair.targets)
    if tgt_info.count < 2:
        raise GeohazardError(
            f"'{os.path.basename(pair.targets)}' has {tgt_info.count} band; the targets need two, "
            "east then north offsets in metres (as written by Offset tracking)."
        )
    with open_band(
        tgt_info, [1, 2], grid, rep, role="targets", resampling=Resampling.bilinear
    ) as reader:
        east, north = reader.read().astype(np.float32)
    warn_if_tracker_output(pair.targets, rep)
    dx, dy = metres_to_pixels(east, north, grid)
    check_targets(
        dx,
        dy,
        np.hypot(east, north),
        grid,
        os.path.basename(pair.targets),
        trained_max_px,
        rep,
    )
    rep.check_cancel()
    prior = dense_prior(ref, sec, prior_cfg)
    m = prior_cfg.margin
    valid = np.isfinite(dx) & np.isfinite(dy) & np.isfinite(ref) & np.isfinite(sec)
    valid[:m], valid[-m:], valid[:, :m], valid[:, -m:] = False, False, False, False
    if valid.mean() < MIN_TARGET_SHARE:
        raise GeohazardError(
            f"Only {100 * valid.mean():.1f}% of '{os.path.basename(pair.reference)}' has target "
            f"offsets away from the image edge ({m} px, the prior's margin); the targets must "
            "cover the pair (an offset map of the same area, east and north in metres)."
        )
    truth = np.stack([np.nan_to_num(dx), np.nan_to_num(dy)]).astype(np.float32)
    meta: dict[str, str | float] = {
        "kind": "user",
        "regime": "",
        "source": os.path.basename(pair.reference),
    }
    return Scene(ref, sec, prior.astype(np.float32), truth, valid, meta)


def split_scene(
    scene: Scene, block: int, share: float, seed: int
) -> tuple[list[Scene], list[Scene], list[tuple[int, int, int, int]]]:
    """(training blocks, validation blocks, validation boxes) of one whole-image scene."""
    rows, cols = scene.reference.shape[0] // block, scene.reference.shape[1] // block
    boxes = [
        (r * block, (r + 1) * block, c * block, (c + 1) * block)
        for r in range(rows)
        for c in range(cols)
    ]
    usable = [b for b in boxes if scene.valid[b[0] : b[1], b[2] : b[3]].mean() >= 0.5]
    name = scene.meta.get("source", "")
    if len(usable) < 2:
        raise GeohazardError(
            f"'{name}' is {scene.reference.shape[1]}x{scene.reference.shape[0]} px: fine-tuning "
            f"needs at least two {block}x{block} px blocks with targets in each pair (one held "
            "out for validation); use a larger pair or a smaller PATCH_SIZE."
        )
    n_val = min(max(1, round(share * len(usable))), len(usable) - 1)
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(len(usable), n_val, replace=False).tolist())

    from .dataset import Scene

    def cut(box: tuple[int, int, int, int]) -> Scene:
        r0, r1, c0, c1 = box
        return Scene(
            scene.reference[r0:r1, c0:c1],
            scene.secondary[r0:r1, c0:c1],
            scene.prior[:, r0:r1, c0:c1],
            scene.truth[:, r0:r1, c0:c1],
            scene.valid[r0:r1, c0:c1],
            {**scene.meta, "region": f"rows {r0}:{r1} cols {c0}:{c1}"},
        )

    train = [cut(b) for i, b in enumerate(usable) if i not in chosen]
    val_boxes = [b for i, b in enumerate(usable) if i in chosen]
    return train, [cut(b) for b in val_boxes], val_boxes


def finetune_deep_offsets(
    pairs: list[DeepOffsetPair],
    settings: FineTuneSettings,
    recipe: DeepOffsetRecipe,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Fine-tune a deep offset tracking model on the user's pairs (the shared driver, with
    :func:`plan_deep_offsets`); returns a summary (model path, metrics, steps)."""
    from .task import TASK

    if not pairs:
        raise GeohazardError("No training pair was given: choose the layers or a folder.")
    memory = ([p.reference for p in pairs], PAIR_BYTES_PER_PIXEL)
    return finetune(TASK, plan_deep_offsets, pairs, settings, recipe, reporter, memory)


def plan_deep_offsets(
    base: Any,
    pairs: list[DeepOffsetPair],
    settings: FineTuneSettings,
    recipe: DeepOffsetRecipe,
    rep: Reporter,
) -> FineTunePlan:
    """Measure the priors, split the pairs and build the recipe's hooks for :func:`finetune`."""
    from ...models.training.loop import Stage
    from .task import prior_config
    from .training import DeepOffsetHooks, TrainConfig, validate_scenes

    prior_cfg = prior_config(base.card)
    trained_max = float(base.card.normalisation.params.get("trained_max_px", np.inf))
    train: list[Scene] = []
    val: list[Scene] = []
    held: list[str] = []
    for k, pair in enumerate(pairs):
        rep.info(f"Measuring the NCC prior of {os.path.basename(pair.reference)}.")
        scene = read_pair(pair, prior_cfg, rep.step(0.0, 0.0), trained_max)
        t, v, boxes = split_scene(
            scene, 2 * recipe.patch, settings.validation_share, settings.seed + k
        )
        train += t
        val += v
        held.append(
            os.path.basename(pair.reference)
            + ": "
            + ", ".join(f"rows {a}:{b} cols {c}:{d}" for a, b, c, d in boxes)
        )
    train_px = int(sum(s.valid.sum() for s in train))
    per_epoch = steps_per_epoch(train_px, settings.batch_size, recipe.patch * recipe.patch)
    total = check_total_steps(settings.epochs, per_epoch)
    cfg = TrainConfig(
        architecture=dict(base.card.architecture),
        prior=prior_cfg,
        patch=recipe.patch,
        batch_size=settings.batch_size,
        steps=total,
        lr=settings.learning_rate,
        weight_decay=recipe.weight_decay,
        huber_px=recipe.huber_px,
        w_sigma=recipe.w_sigma,
        validate_every=per_epoch,
        seed=settings.seed,
    )

    def measure(net: Any) -> dict[str, dict[str, float]]:
        base.net.cpu().eval()
        model = validate_scenes(net, val)
        base_m = validate_scenes(base.net, val)
        return {
            "model": {"epe_px": model["epe_px"], "rmse_px": model["rmse_px"]},
            "base_model": {"epe_px": base_m["epe_px"], "rmse_px": base_m["rmse_px"]},
            "ncc_prior": {"epe_px": model["prior_epe_px"], "rmse_px": model["prior_rmse_px"]},
        }

    return FineTunePlan(
        DeepOffsetHooks(cfg, train, val),
        [Stage("train", total)],
        per_epoch,
        PRIMARY_METRIC,
        "validation end-point error (px)",
        [p for pair in pairs for p in (pair.reference, pair.secondary, pair.targets)],
        measure,
        lambda net, run, metrics: _card(run, base, pairs, held, metrics, net, val, train),
        lambda m: {
            "NCC prior (classical)": m["ncc_prior"]["epe_px"],
            f"base model ({base.card.name})": m["base_model"]["epe_px"],
        },
        f"Fine-tuning {base.card.name} on {len(pairs)} pair(s): {settings.epochs} epoch(s) of "
        f"{per_epoch} step(s), batch {settings.batch_size}, {recipe.patch} px crops; {len(val)} "
        f"validation block(s) of {2 * recipe.patch} px held out.",
        lambda m: (
            f"Saved {settings.output_name}: validation end-point error "
            f"{m['model']['epe_px']:.3f} px (base model {m['base_model']['epe_px']:.3f} px, "
            f"classical NCC prior {m['ncc_prior']['epe_px']:.3f} px)."
        ),
        identity={"band": [pair.band for pair in pairs]},
    )


def _card(
    run: FinishedRun,
    base: Any,
    pairs: list[DeepOffsetPair],
    held: list[str],
    metrics: dict[str, dict[str, float]],
    net: Any,
    val: list[Scene],
    train: list[Scene],
) -> Any:
    from ...models.model_card import HeldOut
    from .card import normalisation
    from .task import prior_config
    from .training import calibrate_sigma

    params = base.card.normalisation.params
    sigma_scale = calibrate_sigma(net, val)
    net.eval()
    trained = max(
        float(params.get("trained_max_px", 0.0)),
        max(float(np.abs(s.truth[:, s.valid]).max(initial=0.0)) for s in train),
    )
    training = run.record(
        "geohazard:traindeepoffsettracking",
        [
            {
                "reference": os.path.basename(p.reference),
                "secondary": os.path.basename(p.secondary),
                "targets": os.path.basename(p.targets),
                "band": p.band,
            }
            for p in pairs
        ],
        targets="east/north offsets (m) of the targets rasters, converted to reference pixels",
    )
    beats = metrics["model"]["rmse_px"] <= metrics["base_model"]["rmse_px"]
    card = base.card
    return replace(
        card,
        name=run.settings.output_name,
        description=f"{card.name} fine-tuned on the user's SAR pairs "
        f"({', '.join(os.path.basename(p.reference) for p in pairs)}).",
        normalisation=normalisation(prior_config(card), sigma_scale, trained),
        scale=1,
        parameters=sum(p.numel() for p in net.parameters()),
        training=training,
        held_out=HeldOut(
            "validation blocks of the user's pairs, never in training crops: " + "; ".join(held),
            {
                "model": metrics["model"],
                "base_model": metrics["base_model"],
                "classical NCC prior (every pixel)": metrics["ncc_prior"],
            },
            "the base model",
            beats,
            "Errors against the user's targets (px of the reference grid); where the targets are "
            "a classical offset map, they measure agreement with it, not truth. The validation "
            "blocks also chose the best epoch, so these numbers are slightly optimistic.",
        ),
        limitations=f"Fine-tuned on {len(pairs)} pair(s) of one area; trust it on similar "
        f"scenes and motion. {card.limitations}".strip(),
    )
