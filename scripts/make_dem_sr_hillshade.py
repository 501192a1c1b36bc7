#!/usr/bin/env python3
"""Hillshade comparison of DEM super-resolution methods on a smooth DEM (docs/figures).

    .venv/bin/python scripts/make_dem_sr_hillshade.py [--scale 4] [--model NAME_OR_PATH ...]
        [--out docs/figures/hillshade_spline_smooth_dem.png]

The DEM is the demo's 30 m grid (the Jacksboro 3 arc-second DEM reprojected to UTM with cubic
resampling, so unusually smooth: where a texture with the period of the scale factor shows
most). Its block means are upsampled back by GDAL cubic (gdalwarp -r cubic), torch bicubic (the
skip of the earlier bundled models), the cubic spline with back-projection (MODEL=spline) and
each model given; the figure shows their hillshades (sun 315 deg, 45 deg) on one crop, and the
script prints, per method, the elevation RMSE and the period-of-scale pattern of the hillshade
(:func:`phase_texture`; the truth's own value, the level of chance, is printed for comparison).
"""

from __future__ import annotations

import argparse
import os
import sys
from types import SimpleNamespace

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))


def hillshade(z: np.ndarray, pixel: float, azimuth: float = 315.0, altitude: float = 45.0):
    """Lambertian hillshade (0-1) by central differences."""
    gy, gx = np.gradient(z.astype(np.float64), pixel)
    slope = np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az, alt = np.radians(azimuth), np.radians(altitude)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0, 1)


def phase_texture(z: np.ndarray, scale: int, pixel: float) -> float:
    """The period-of-scale pattern of the hillshade, in percent of full light: the RMS over the
    ``scale x scale`` pixel phases of the mean hillshade at that phase minus the overall mean
    (a pattern repeated in every low-resolution cell adds up; real relief averages out)."""
    shade = hillshade(z, pixel)[1:-1, 1:-1]
    rows, cols = (shade.shape[0] // scale) * scale, (shade.shape[1] // scale) * scale
    cells = shade[:rows, :cols].reshape(rows // scale, scale, cols // scale, scale)
    pattern = cells.mean(axis=(0, 2))
    return float(100 * np.sqrt(np.mean((pattern - pattern.mean()) ** 2)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=4, choices=(2, 4))
    parser.add_argument("--model", action="append", default=[], help="model name or path")
    parser.add_argument(
        "--label", action="append", default=[], help="title of each --model (default: its name)"
    )
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "docs", "figures", "hillshade_spline_smooth_dem.png")
    )
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from geohazard.engine.dem.spline_upsample import spline_bp_upsample
    from geohazard.engine.families.dem_sr.card import super_resolve_array
    from geohazard.engine.families.dem_sr.degrade import block_mean, gdal_upsample, upsample
    from geohazard.engine.families.dem_sr.task import TASK
    from geohazard.engine.models.model_store import ModelStore
    from geohazard.engine.simulate.real_dem import jacksboro_dem_utm

    s = args.scale
    dem, _ = jacksboro_dem_utm(30.0)
    hr = dem[: dem.shape[0] // s * s, : dem.shape[1] // s * s]
    lr = block_mean(hr, s)
    results = {
        "truth (30 m)": hr,
        "GDAL cubic": gdal_upsample(lr, s, "cubic"),
        "bicubic (old skip)": upsample(lr, s, "bicubic"),
        "spline + back-projection": spline_bp_upsample(lr, s),
    }
    for i, ref in enumerate(args.model or [TASK.default_model(SimpleNamespace(scale=s))]):
        loaded = ModelStore().load(TASK, ref, TASK.default_model(SimpleNamespace(scale=s)))
        label = args.label[i] if i < len(args.label) else f"model {loaded.card.name}"
        results[label] = super_resolve_array(loaded.net, lr, s)
    r0, c0, size = 120, 120, 160
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.6))
    for ax, (name, z) in zip(axes, results.items()):
        rmse = float(np.sqrt(np.nanmean((z - hr) ** 2)))
        texture = phase_texture(z, s, 30.0)
        print(f"{name}: RMSE {rmse:.3f} m, phase texture {texture:.3f}")
        ax.imshow(hillshade(z, 30.0)[r0 : r0 + size, c0 : c0 + size], cmap="gray", vmin=0, vmax=1)
        label = name if name.startswith("truth") else f"{name}\nRMSE {rmse:.2f} m"
        ax.set_title(f"{label}\nperiod-{s} pattern {texture:.2f} %", fontsize=9)
        ax.axis("off")
    fig.suptitle(
        f"x{s} from block means of the demo's smooth 30 m DEM: hillshades of a {size} x {size} "
        "px crop",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
