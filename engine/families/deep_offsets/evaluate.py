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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import nn

from ...offsets.dense_prior import PriorConfig, classical_offsets
from .dataset import Scene
from .training import predict_scene

CLASSICAL = PriorConfig(window_sizes=(32, 64, 128), step=16, search=16)


def _stats(err: np.ndarray) -> dict[str, float]:
    if err.size == 0:
        return {"epe_px": float("nan"), "rmse_px": float("nan"), "points": 0.0}
    return {
        "epe_px": float(err.mean()),
        "rmse_px": float(np.sqrt((err**2).mean())),
        "points": float(err.size),
    }


def scene_comparison(net: nn.Module, scene: Scene) -> dict[str, np.ndarray]:
    """Per-point errors of one scene: dense (model, prior) and at window centres (model,
    classical), plus the classical coverage."""
    pred = predict_scene(net, scene)
    ok = scene.valid & np.isfinite(scene.reference) & np.isfinite(scene.secondary)
    tx, ty = scene.truth
    dense_model = np.hypot(pred[0] - tx, pred[1] - ty)[ok]
    dense_prior = np.hypot(scene.prior[0] - tx, scene.prior[1] - ty)[ok]
    grid, cdy, cdx = classical_offsets(scene.reference, scene.secondary, CLASSICAL)
    rows = grid.first_row + grid.step * np.arange(grid.rows)
    cols = grid.first_col + grid.step * np.arange(grid.cols)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")  # pixel (r, c) whose corner is the centre
    inside = ok[rr, cc]
    found = inside & np.isfinite(cdy) & np.isfinite(cdx)
    r, c = rr[found], cc[found]
    grid_classical = np.hypot(cdx[found] - tx[r, c], cdy[found] - ty[r, c])
    grid_model = np.hypot(pred[0][r, c] - tx[r, c], pred[1][r, c] - ty[r, c])
    return {
        "dense_model": dense_model,
        "dense_prior": dense_prior,
        "grid_model": grid_model,
        "grid_classical": grid_classical,
        "coverage": np.array([found.sum(), inside.sum()], float),
    }


def held_out_metrics(net: nn.Module, scenes: Sequence[Scene]) -> dict[str, dict[str, float]]:
    """Metrics grouped as ``{"<kind>/<regime>", "region <region>" or "all": {metric: value}}``
    (per region: e.g. the real SAR speckle of the test split apart from the optical textures)."""
    groups: dict[str, list[dict[str, np.ndarray]]] = {}
    for s in scenes:
        comp = scene_comparison(net, s)
        key = f"{s.meta.get('kind')}/{s.meta.get('regime')}"
        for k in (key, f"region {s.meta.get('region')}", "all"):
            groups.setdefault(k, []).append(comp)
    out: dict[str, dict[str, float]] = {}
    for key, comps in sorted(groups.items()):
        row: dict[str, float] = {"scenes": float(len(comps))}
        for part, label in (
            ("dense_model", "model_dense"),
            ("dense_prior", "ncc_prior_dense"),
            ("grid_model", "model_at_centres"),
            ("grid_classical", "classical_at_centres"),
        ):
            st = _stats(np.concatenate([c[part] for c in comps]))
            row[f"{label}_epe_px"] = st["epe_px"]
            row[f"{label}_rmse_px"] = st["rmse_px"]
        cov = np.sum([c["coverage"] for c in comps], axis=0)
        row["classical_coverage"] = float(cov[0] / max(cov[1], 1.0))
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
