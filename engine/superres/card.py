"""The model card of a DEM super-resolution model, written the same way by every trainer."""

from __future__ import annotations

from typing import Any

from ..model_card import BandSet, HeldOut, ModelCard, Normalisation
from ..tasks.dem_superres import TASK

ELEVATION = BandSet("dem", ("elevation (m)",))
NORMALISATION = Normalisation(
    "per-tile-standardise",
    {
        "offset": "mean of the tile's valid low-resolution elevations",
        "scale": "their standard deviation, at least min_scale_m",
        "min_scale_m": 0.01,
        "restore": "metres = normalised * scale + offset (float64)",
        "nodata": "filled from the nearest valid pixel before the network; outputs over a "
        "nodata parent are nodata",
    },
)
CONTEXT_PX = 12  # tile-border effects below 1e-5 of the tile relief beyond 12 input pixels


def dem_sr_card(
    name: str,
    scale: int,
    architecture: dict[str, Any],
    parameters: int,
    description: str,
    training: dict[str, Any],
    test_data: str,
    metrics: dict[str, dict[str, float]],
    notes: str,
    limitations: str,
) -> ModelCard:
    """A DEM SR card; the held-out comparison is against bicubic, the strongest classical method
    measured, and ``model_beats_baseline`` is computed from the numbers, never stated by hand."""
    beats = (
        metrics["model"]["rmse_m"] < metrics["bicubic"]["rmse_m"]
        and metrics["model"]["psnr_db"] > metrics["bicubic"]["psnr_db"]
    )
    return ModelCard(
        name=name,
        task=TASK.name,
        description=description,
        architecture=architecture,
        inputs=(ELEVATION,),
        output=ELEVATION,
        normalisation=NORMALISATION,
        context_px=CONTEXT_PX,
        tile_size=TASK.tile_size,
        overlap=TASK.overlap,
        scale=scale,
        parameters=parameters,
        training=training,
        held_out=HeldOut(test_data, metrics, "bicubic", beats, notes),
        limitations=limitations,
    )


def draft_card(architecture: dict[str, Any], scale: int, name: str = "training") -> ModelCard:
    """A card for a network still being trained (validation runs it like a finished model)."""
    return ModelCard(
        name=name,
        task=TASK.name,
        description="model being trained",
        architecture=architecture,
        inputs=(ELEVATION,),
        output=ELEVATION,
        normalisation=NORMALISATION,
        context_px=CONTEXT_PX,
        tile_size=TASK.tile_size,
        overlap=TASK.overlap,
        scale=scale,
    )


def super_resolve_array(net: Any, lr: Any, scale: int, device: Any = None) -> Any:
    """Super-resolve a whole LR array (metres, NaN nodata) in one pass, as validation does."""
    from ..model_store import LoadedModel
    from ..run_options import RunOptions
    from ..tiled_runner import run_untiled

    arch = {"type": "RRDBNet", "scale": scale}
    model = LoadedModel(net, draft_card(arch, scale), "")
    options = RunOptions(device=str(device) if device is not None else "cpu")
    return run_untiled(TASK, model, (lr[None].astype("float32"),), options)[0]
