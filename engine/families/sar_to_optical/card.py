"""The model card of a SARDINet translation model, written the same way by every trainer."""

from __future__ import annotations

from typing import Any

from ...models.model_card import BandSet, HeldOut, ModelCard, Normalisation
from . import FAMILY
from .data import PrepConfig
from .task import NORMALISATION_KIND, OUTPUT_BANDS, TASK

SAR = BandSet("sar", ("VV sigma0 (linear or dB)", "VH sigma0 (linear or dB)"))
DEM = BandSet("dem", ("elevation (m)",))
OPTICAL = BandSet("optical", tuple(OUTPUT_BANDS))
# Tiles overlap by 64 px by default. The network's receptive field is larger (1/8-resolution
# 5x5 convolutions), but blended 48 px overlaps already agree with an untiled run within 2 of
# 255 colour levels (tests/test_sar_to_optical.py, tiny network).
CONTEXT_PX = FAMILY.context_px
BASELINE = "linear colour mapping"


def normalisation(prep: PrepConfig) -> Normalisation:
    return Normalisation(
        NORMALISATION_KIND,
        {
            "sar_db_min": prep.sar_db_range[0],
            "sar_db_max": prep.sar_db_range[1],
            "dem_max_m": prep.dem_max_m,
            "sar": "(10 log10(sigma0) - sar_db_min) / (sar_db_max - sar_db_min), clipped 0..1",
            "dem": "elevation / dem_max_m",
            "optical": "each band stretched linearly between its 1st and 99th percentiles to 0..1",
            "nodata": "set to 0 in every input; output nodata where SAR (or DEM) is nodata",
        },
    )


def _inputs(architecture: dict[str, Any]) -> tuple[BandSet, ...]:
    return (SAR,) if architecture.get("fusion") == "sar-only" else (SAR, DEM)


def _card(
    name: str, description: str, architecture: dict[str, Any], prep: PrepConfig, **rest: Any
) -> ModelCard:
    """A SARDINet card: its bands for the fusion variant, the normalisation of ``prep``, the
    context, with ``rest`` (parameters, training, held-out data...)."""
    return TASK.card(
        name=name,
        description=description,
        architecture=architecture,
        inputs=_inputs(architecture),
        output=OPTICAL,
        normalisation=normalisation(prep),
        context_px=CONTEXT_PX,
        **rest,
    )


def sardinet_card(
    name: str,
    architecture: dict[str, Any],
    parameters: int,
    description: str,
    training: dict[str, Any],
    prep: PrepConfig,
    test_data: str,
    metrics: dict[str, dict[str, float]],
    notes: str,
    limitations: str,
) -> ModelCard:
    """A card whose held-out comparison is against the linear colour mapping of the SAR bands;
    ``model_beats_baseline`` is computed from the global MSE and SSIM, never stated by hand."""
    beats = (
        metrics["model"]["mse"] < metrics[BASELINE]["mse"]
        and metrics["model"]["ssim"] > metrics[BASELINE]["ssim"]
    )
    return _card(
        name,
        description,
        architecture,
        prep,
        scale=1,
        parameters=parameters,
        training=training,
        held_out=HeldOut(test_data, metrics, BASELINE, beats, notes),
        limitations=limitations,
    )


def draft_card(architecture: dict[str, Any], prep: PrepConfig, name: str = "training") -> ModelCard:
    """A card for a network still being trained."""
    return _card(name, "model being trained", architecture, prep)
