"""The model card of a deep offset tracking model, written the same way by every trainer."""

from __future__ import annotations

from typing import Any

from ...models.model_card import BandSet, HeldOut, ModelCard, Normalisation
from ...offsets.bands import OUTPUT_BANDS
from ...offsets.dense_prior import PriorConfig, channel_names
from ...offsets.network_inputs import AMPLITUDE_KIND
from . import FAMILY
from .task import TASK

CONTEXT_PX = FAMILY.context_px
BASELINE = "classical multi-window NCC offset tracking"


def normalisation(prior: PriorConfig, sigma_scale: float, trained_max_px: float) -> Normalisation:
    return Normalisation(
        AMPLITUDE_KIND,
        {
            "amplitude": "natural log, standardised over the tile's valid pixels; nodata -> 0",
            "prior": {
                "window_sizes": list(prior.window_sizes),
                "step": prior.step,
                "search": prior.search,
                "min_quality": prior.min_quality,
            },
            "prior_units": "pixels (dx right, dy down), bilinear between window centres",
            "sigma_scale": sigma_scale,
            "trained_max_px": trained_max_px,
        },
    )


def flat_metrics(groups: dict[str, dict[str, float]], prefix: str) -> dict[str, float]:
    """``{"<group> <metric>": value}`` for the metrics whose name starts with ``prefix``."""
    return {
        f"{group} {name[len(prefix) + 1 :]}": value
        for group, metrics in groups.items()
        for name, value in metrics.items()
        if name.startswith(prefix + "_")
    }


def held_out(groups: dict[str, dict[str, float]], data: str, notes: str) -> HeldOut:
    """The card's held-out section: the model and classical tracking at the same points;
    ``model_beats_baseline`` is computed from the overall RMSEs, never stated by hand."""
    overall = groups["all"]
    beats = (
        overall["model_dense_rmse_px"] <= overall["ncc_prior_dense_rmse_px"]
        and overall["model_at_centres_rmse_px"] <= overall["classical_at_centres_rmse_px"]
    )
    metrics = {
        "model (every pixel)": flat_metrics(groups, "model_dense"),
        "classical NCC interpolated to every pixel": flat_metrics(groups, "ncc_prior_dense"),
        "model (at classical window centres)": flat_metrics(groups, "model_at_centres"),
        "classical tracker (at its window centres)": flat_metrics(groups, "classical_at_centres"),
        "classical tracker, windows 32/64 px at step 8 (at its window centres)": flat_metrics(
            groups, "classical_step8"
        ),
        "model (at the step-8 window centres)": flat_metrics(groups, "model_at_step8_centres"),
        "share of per-axis errors within 2 sigma": {
            group: m["sigma_coverage_2"] for group, m in groups.items() if "sigma_coverage_2" in m
        },
    }
    return HeldOut(data, metrics, BASELINE, beats, notes)


def deep_offsets_card(
    name: str,
    architecture: dict[str, Any],
    prior: PriorConfig,
    parameters: int,
    description: str,
    training: dict[str, Any],
    test_data: str,
    groups: dict[str, dict[str, float]],
    sigma_scale: float,
    trained_max_px: float,
    notes: str,
    limitations: str,
) -> ModelCard:
    """A card whose held-out section compares the model with classical tracking at the same
    points (see :func:`held_out`)."""
    return TASK.card(
        name=name,
        description=description,
        architecture=architecture,
        inputs=(
            BandSet("reference", ("amplitude (linear)",)),
            BandSet("secondary", ("amplitude (linear)",)),
            BandSet("ncc prior", tuple(channel_names(prior))),
        ),
        output=BandSet("offsets", OUTPUT_BANDS),
        normalisation=normalisation(prior, sigma_scale, trained_max_px),
        context_px=CONTEXT_PX,
        scale=1,
        parameters=parameters,
        training=training,
        held_out=held_out(groups, test_data, notes),
        limitations=limitations,
    )
