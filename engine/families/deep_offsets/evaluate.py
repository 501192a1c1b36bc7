"""Held-out accuracy of the deep tracker next to the classical tracker, per kind of displacement.

Two comparisons on every held-out scene, both at the same points for both methods:

- **every pixel** (the deep tracker's product): the network against the classical multi-window
  NCC offsets interpolated to every pixel (its prior, which is what dense classical tracking at
  those window sizes gives up to the interpolation), over the valid pixels;
- **window centres** (the classical product): the classical tracker with its usual settings
  (windows 32, 64, 128 px, step 16, search 16, 2-sigma outlier removal) at its window centres,
  and the network at those same pixels, over the centres where the classical tracker found a
  match (its coverage is reported).

End-point error (EPE, mean length of the error vector) and RMSE (root mean square of that length)
in pixels, per displacement kind and magnitude regime, and over all scenes.

Where windows fail: every pixel is also placed by its distance to the nearest discontinuity of
the true field (a pixel where the motion changes by more than :data:`EDGE_GRADIENT` px per px, a
change no 32 px window can follow). Errors are reported within :data:`NEAR_EDGE_PX` of one and
beyond :data:`FAR_FROM_EDGE_PX`, for the network and its prior at every pixel and for the classical
tracker with windows of 32 and 64 px at step 8 at its window centres (the network at the same
centres beside it). The calibration of the predicted sigma is the share of per-axis errors within
2 sigma (the card's sigma scale applied).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from torch import nn

from ...offsets.dense_prior import PriorConfig, classical_offsets
from .dataset import Scene
from .training import predict_scene

CLASSICAL = PriorConfig(window_sizes=(32, 64, 128), step=16, search=16)
CLASSICAL_STEP_8 = PriorConfig(window_sizes=(32, 64), step=8, search=16)
EDGE_GRADIENT = 0.25  # px of motion per px
NEAR_EDGE_PX = 12.0
FAR_FROM_EDGE_PX = 24.0
ZONES = ("near_edges", "away_from_edges")


def edge_distance(truth: np.ndarray) -> np.ndarray:
    """Distance in pixels from each pixel to the nearest discontinuity of the true (dx, dy)
    field; infinite everywhere when the field has none."""
    grad = np.zeros(truth.shape[1:])
    for comp in truth:
        gy, gx = np.gradient(comp.astype(np.float64))
        grad = np.maximum(grad, np.hypot(gy, gx))
    edges = grad > EDGE_GRADIENT
    if not edges.any():
        return np.full(grad.shape, np.inf)
    return np.asarray(ndimage.distance_transform_edt(~edges))


def _zone_masks(distance: np.ndarray) -> dict[str, np.ndarray]:
    return {"near_edges": distance <= NEAR_EDGE_PX, "away_from_edges": distance > FAR_FROM_EDGE_PX}


def _centre_errors(
    pred: np.ndarray, scene: Scene, ok: np.ndarray, cfg: PriorConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, classical error, network error) at the classical tracker's matched centres,
    and (matched, valid) centre counts."""
    tx, ty = scene.truth
    grid, cdy, cdx = classical_offsets(scene.reference, scene.secondary, cfg)
    rows = grid.first_row + grid.step * np.arange(grid.rows)
    cols = grid.first_col + grid.step * np.arange(grid.cols)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")  # pixel (r, c) whose corner is the centre
    inside = ok[rr, cc]
    found = inside & np.isfinite(cdy) & np.isfinite(cdx)
    r, c = rr[found], cc[found]
    classical = np.hypot(cdx[found] - tx[r, c], cdy[found] - ty[r, c])
    model = np.hypot(pred[0][r, c] - tx[r, c], pred[1][r, c] - ty[r, c])
    return r, c, classical, model, np.array([found.sum(), inside.sum()], float)


def _stats(err: np.ndarray) -> dict[str, float]:
    if err.size == 0:
        return {"epe_px": float("nan"), "rmse_px": float("nan"), "points": 0.0}
    return {
        "epe_px": float(err.mean()),
        "rmse_px": float(np.sqrt((err**2).mean())),
        "points": float(err.size),
    }


def scene_comparison(
    net: nn.Module, scene: Scene, sigma_scale: float = 1.0
) -> dict[str, np.ndarray]:
    """Per-point errors of one scene: dense (model, prior) and at window centres (model,
    classical), each also near and away from discontinuities, the classical coverage and the
    per-axis sigma coverage counts."""
    pred = predict_scene(net, scene)
    ok = scene.valid & np.isfinite(scene.reference) & np.isfinite(scene.secondary)
    tx, ty = scene.truth
    model_err = np.hypot(pred[0] - tx, pred[1] - ty)
    prior_err = np.hypot(scene.prior[0] - tx, scene.prior[1] - ty)
    _r, _c, grid_classical, grid_model, coverage = _centre_errors(pred, scene, ok, CLASSICAL)
    out: dict[str, np.ndarray] = {
        "dense_model": model_err[ok],
        "dense_prior": prior_err[ok],
        "grid_model": grid_model,
        "grid_classical": grid_classical,
        "coverage": coverage,
    }
    distance = edge_distance(scene.truth)
    r8, c8, classical8, model8, _ = _centre_errors(pred, scene, ok, CLASSICAL_STEP_8)
    for zone, mask in _zone_masks(distance).items():
        out[f"dense_model_{zone}"] = model_err[ok & mask]
        out[f"dense_prior_{zone}"] = prior_err[ok & mask]
        out[f"step8_classical_{zone}"] = classical8[mask[r8, c8]]
        out[f"step8_model_{zone}"] = model8[mask[r8, c8]]
    if pred.shape[0] >= 4:
        within = 0
        for axis in (0, 1):
            sigma = sigma_scale * np.exp(pred[2 + axis])
            within += int((np.abs(pred[axis] - scene.truth[axis]) <= 2 * sigma)[ok].sum())
        out["sigma_within_2"] = np.array([within, 2 * ok.sum()], float)
    return out


def held_out_metrics(
    net: nn.Module, scenes: Sequence[Scene], sigma_scale: float = 1.0
) -> dict[str, dict[str, float]]:
    """Metrics grouped as ``{"<kind>/<regime>", "region <region>" or "all": {metric: value}}``
    (per region: e.g. the real SAR speckle of the test split apart from the optical textures)."""
    groups: dict[str, list[dict[str, np.ndarray]]] = {}
    for s in scenes:
        comp = scene_comparison(net, s, sigma_scale)
        key = f"{s.meta.get('kind')}/{s.meta.get('regime')}"
        for k in (key, f"region {s.meta.get('region')}", "all"):
            groups.setdefault(k, []).append(comp)
    out: dict[str, dict[str, float]] = {}
    for key, comps in sorted(groups.items()):
        row: dict[str, float] = {"scenes": float(len(comps))}
        parts = [
            ("dense_model", "model_dense", "epe_px"),
            ("dense_prior", "ncc_prior_dense", "epe_px"),
            ("grid_model", "model_at_centres", "epe_px"),
            ("grid_classical", "classical_at_centres", "epe_px"),
        ]
        for zone in ZONES:
            parts += [
                (f"dense_model_{zone}", f"model_dense_{zone}", "points"),
                (f"dense_prior_{zone}", f"ncc_prior_dense_{zone}", "points"),
                (f"step8_model_{zone}", f"model_at_step8_centres_{zone}", "points"),
                (f"step8_classical_{zone}", f"classical_step8_{zone}", "points"),
            ]
        for part, label, extra in parts:
            st = _stats(np.concatenate([c[part] for c in comps]))
            row[f"{label}_{extra}"] = st[extra]
            row[f"{label}_rmse_px"] = st["rmse_px"]
        cov = np.sum([c["coverage"] for c in comps], axis=0)
        row["classical_coverage"] = float(cov[0] / max(cov[1], 1.0))
        sig = [c["sigma_within_2"] for c in comps if "sigma_within_2" in c]
        if sig:
            counts = np.sum(sig, axis=0)
            row["sigma_coverage_2"] = float(counts[0] / max(counts[1], 1.0))
        out[key] = row
    return out


def format_table(metrics: dict[str, dict[str, float]]) -> str:
    """A Markdown table of RMSE (px) per group: model and classical, dense and at centres."""
    lines = [
        "| kind/regime | scenes | deep, every pixel | NCC interpolated | deep at centres | "
        "classical at centres | classical coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, m in metrics.items():
        lines.append(
            f"| {key} | {m['scenes']:.0f} | {m['model_dense_rmse_px']:.3f} | "
            f"{m['ncc_prior_dense_rmse_px']:.3f} | {m['model_at_centres_rmse_px']:.3f} | "
            f"{m['classical_at_centres_rmse_px']:.3f} | {100 * m['classical_coverage']:.0f}% |"
        )
    return "\n".join(lines)


def format_edge_table(metrics: dict[str, dict[str, float]]) -> str:
    """A Markdown table of RMSE (px) near and away from discontinuities, and the sigma coverage."""
    lines = [
        "| kind/regime | zone | deep, every pixel | NCC prior | classical 32/64 step 8 | "
        "deep at its centres | 2-sigma coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, m in metrics.items():
        for zone in ZONES:
            if not m.get(f"model_dense_{zone}_points"):
                continue
            lines.append(
                f"| {key} | {zone.replace('_', ' ')} | {m[f'model_dense_{zone}_rmse_px']:.3f} | "
                f"{m[f'ncc_prior_dense_{zone}_rmse_px']:.3f} | "
                f"{m[f'classical_step8_{zone}_rmse_px']:.3f} | "
                f"{m[f'model_at_step8_centres_{zone}_rmse_px']:.3f} | "
                f"{100 * m.get('sigma_coverage_2', float('nan')):.0f}% |"
            )
    return "\n".join(lines)


def where_it_loses(metrics: dict[str, dict[str, float]], tolerance: float = 1.0) -> list[str]:
    """Groups and zones where the network's RMSE exceeds its prior's or the classical tracker's
    (at the same centres) by more than ``tolerance`` times, as short sentences for the card."""
    losses = []
    for key, m in metrics.items():
        for zone in ZONES:
            model = m.get(f"model_dense_{zone}_rmse_px", float("nan"))
            prior = m.get(f"ncc_prior_dense_{zone}_rmse_px", float("nan"))
            at_c = m.get(f"model_at_step8_centres_{zone}_rmse_px", float("nan"))
            classical = m.get(f"classical_step8_{zone}_rmse_px", float("nan"))
            if model > tolerance * prior:
                losses.append(f"{key}, {zone}: {model:.3f} px against the prior's {prior:.3f} px")
            if at_c > tolerance * classical:
                losses.append(
                    f"{key}, {zone}: {at_c:.3f} px against the classical tracker's "
                    f"{classical:.3f} px at its centres"
                )
    return losses
