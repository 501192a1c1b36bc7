"""The model card of a DEM super-resolution model, written the same way by every trainer."""

from __future__ import annotations

from typing import Any

from ...models.model_card import HeldOut, ModelCard
from .task import TASK, dem_card


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
    by_area: list[dict[str, Any]] | None = None,
) -> ModelCard:
    """A DEM SR card; ``model_beats_baseline`` is computed from the numbers, never stated by hand.

    The baseline is the strongest classical method measured: the cubic spline with
    back-projection (``spline_bp``) when the metrics have it, else bicubic (older recipes). With
    rows ``by_area`` (per held-out DEM and degradation), the model must have a lower elevation
    RMSE and a lower slope RMSE than the baseline on every block-mean row to count as beating it.
    """
    baseline = "spline_bp" if "spline_bp" in metrics else "bicubic"

    def wins(m: dict[str, dict[str, float]]) -> bool:
        if baseline == "spline_bp":
            return (
                m["model"]["rmse_m"] < m[baseline]["rmse_m"]
                and m["model"]["slope_rmse_deg"] < m[baseline]["slope_rmse_deg"]
            )
        return (
            m["model"]["rmse_m"] < m[baseline]["rmse_m"]
            and m["model"]["psnr_db"] > m[baseline]["psnr_db"]
        )

    rows = by_area or []
    beats = wins(metrics) and all(
        wins(r["metrics"]) for r in rows if r.get("degradation", "block mean") == "block mean"
    )
    return dem_card(
        name,
        description,
        architecture,
        scale,
        parameters=parameters,
        training=training,
        held_out=HeldOut(test_data, metrics, baseline, beats, notes, tuple(rows)),
        limitations=limitations,
    )


def losing_terrains(
    by_area: list[dict[str, Any]],
    baseline: str = "spline_bp",
    reasons: dict[str, str] | None = None,
) -> list[str]:
    """The block-mean rows where the model does not beat the baseline in both elevation and
    slope RMSE, each with the model's excess over the baseline in percent and, where
    ``reasons`` (terrain kind -> text) has one, why."""
    lost = []
    for r in by_area:
        if r.get("degradation", "block mean") != "block mean":
            continue
        model, base = r["metrics"]["model"], r["metrics"][baseline]
        if model["rmse_m"] < base["rmse_m"] and model["slope_rmse_deg"] < base["slope_rmse_deg"]:
            continue
        dz = 100 * (model["rmse_m"] / base["rmse_m"] - 1)
        ds = 100 * (model["slope_rmse_deg"] / base["slope_rmse_deg"] - 1)
        why = (reasons or {}).get(r["terrain"])
        lost.append(
            f"{r['terrain']} ({r['dem']}: elevation RMSE {dz:+.1f}%, slope RMSE {ds:+.1f}%"
            + (f"; why: {why}" if why else "")
            + ")"
        )
    return lost


def held_out_limitations(
    by_area: list[dict[str, Any]], trained_on: str, reasons: dict[str, str] | None = None
) -> str:
    """The limitations text: what the model was trained on, where it loses to the spline and,
    where ``reasons`` (terrain kind -> text) says, why."""
    lost = losing_terrains(by_area, reasons=reasons)
    return (
        f"{trained_on.rstrip('.')}. The held-out table (held_out.by_area) says where it gains "
        "over the cubic spline with back-projection (MODEL=spline) and by how much. "
        + (
            "It does NOT beat the spline in both elevation and slope RMSE on: "
            f"{'; '.join(lost)}; use MODEL=spline there. "
            if lost
            else ""
        )
        + "On very smooth (oversampled) DEMs the spline can be better (docs/"
        "dem_super_resolution.md). Fine-tune on your own DEMs for best results."
    )


def draft_card(architecture: dict[str, Any], scale: int, name: str = "training") -> ModelCard:
    """A card for a network still being trained (validation runs it like a finished model)."""
    return dem_card(name, "model being trained", architecture, scale)


def super_resolve_array(net: Any, lr: Any, scale: int, device: Any = None) -> Any:
    """Super-resolve a whole LR array (metres, NaN nodata) in one pass, as validation does."""
    from ...core.run_options import RunOptions
    from ...models.model_store import LoadedModel
    from ...models.tiled_runner import run_untiled

    arch = {"type": "RRDBNet", "scale": scale}
    model = LoadedModel(net, draft_card(arch, scale), "")
    options = RunOptions(device=str(device) if device is not None else "cpu")
    return run_untiled(TASK, model, (lr[None].astype("float32"),), options)[0]
