"""Window deformation (engine/offsets/deform.py): accuracy gained and time added.

1. Time: the 1024 x 1024 pair of bench_offset_tracking.py (4-look speckle, smooth field up to
   2 px; 64 px windows, step 16, search 8, end to end through track_offsets) with 0 deformation
   passes (the first pass's 3-point fits, as before) and with the default passes, alternating
   runs, medians of ``--repeats``; RMSE against the true field at the window centres.
2. Accuracy: on a real texture (Jacksboro DEM radar brightness, 4-look speckle), the bias per
   fractional shift 0, 0.1, ..., 0.9 px and the RMSE with 0, 1 and 2 passes, 32 and 64 px
   windows; and a smooth field of up to 3 px (wavelength scale ``--scale``).

Usage: .venv/bin/python benchmarks/bench_subpixel.py [--repeats 5] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import rasterio  # noqa: E402
from affine import Affine  # noqa: E402
from geohazard.engine.core.progress import Reporter  # noqa: E402
from geohazard.engine.io.raster_io import Grid  # noqa: E402
from geohazard.engine.offsets.strip_preparation import ArrayReader  # noqa: E402
from geohazard.engine.offsets.tracking import (  # noqa: E402
    OffsetTrackingConfig,
    correlate,
    track_offsets,
)
from geohazard.engine.simulate import displacement  # noqa: E402
from geohazard.engine.simulate.offset_cases import real_texture  # noqa: E402
from geohazard.engine.simulate.speckle_pair import SpeckleConfig, simulate_pair  # noqa: E402
from sar_pairs import write_pair  # noqa: E402


def timing(repeats: int) -> None:
    n, w, step, search = 1024, 64, 16, 8
    dy, dx = displacement.smooth_random_field((n, n), 2.0, 300.0, seed=2)
    tmp = tempfile.mkdtemp(prefix="bench_subpixel_")
    a, b = write_pair(Path(tmp), dy, dx, seed=5)
    out = os.path.join(tmp, "off.tif")
    times: dict[int, list[float]] = {0: [], 1: [], 2: []}
    rmse = {}
    for _ in range(repeats):
        for passes in times:
            cfg = OffsetTrackingConfig(
                window_sizes=(w,),
                step=step,
                search=search,
                outlier_filter="none",
                min_quality=-1.0,
                device="cpu",
                deform_passes=passes,
            )
            t0 = time.perf_counter()
            res = track_offsets(a, b, out, cfg)
            times[passes].append(time.perf_counter() - t0)
            with rasterio.open(out) as src:
                east, north = src.read(1), src.read(2)
            first = w // 2 + search
            r = first + step * np.arange(res.grid.height)
            c = first + step * np.arange(res.grid.width)
            quad_y = (dy[:-1, :-1] + dy[1:, :-1] + dy[:-1, 1:] + dy[1:, 1:]) / 4
            quad_x = (dx[:-1, :-1] + dx[1:, :-1] + dx[:-1, 1:] + dx[1:, 1:]) / 4
            ey = -north / 10.0 - quad_y[np.ix_(r - 1, c - 1)]
            ex = east / 10.0 - quad_x[np.ix_(r - 1, c - 1)]
            rmse[passes] = float(np.sqrt(np.nanmean((ey**2 + ex**2) / 2)))
    med = {p: float(np.median(t)) for p, t in times.items()}
    print(f"1024 x 1024, 64 px windows, step 16, search 8 ({repeats} alternating runs)")
    for p in times:
        print(
            f"  passes={p}: median {med[p]:.3f} s (runs {', '.join(f'{t:.2f}' for t in times[p])})"
            f", RMSE {rmse[p]:.4f} px per axis"
        )
    for p in (1, 2):
        print(f"  time ratio {p} pass(es) / no deformation: {med[p] / med[0]:.2f}")


def _track(ref, sec, sizes, search, passes):
    image = Grid(None, Affine.identity(), ref.shape[1], ref.shape[0])
    return correlate(
        ArrayReader(ref),
        ArrayReader(sec),
        image,
        sizes,
        8,
        search,
        torch.device("cpu"),
        128,
        Reporter(),
        passes=passes,
    )


def _pair(dy, dx, seed):
    refl = real_texture(dy.shape, seed)
    cfg = SpeckleConfig(looks=4, coherence=0.9)
    pair = simulate_pair(refl, dy, dx, cfg, np.random.default_rng(seed + 100))
    return pair.reference, pair.secondary


def sweep() -> None:
    shape, sizes = (256, 256), (32, 64)
    res = {(p, w): [] for p in (0, 1, 2) for w in sizes}
    for k, frac in enumerate(np.arange(0.0, 1.0, 0.1)):
        fy, fx = 1.0 + frac, 1.0 + (frac + 0.5) % 1.0
        ref, sec = _pair(*displacement.uniform_field(shape, fy, fx), seed=k)
        for p in (0, 1, 2):
            pixel = _track(ref, sec, sizes, 4, p)
            for w in sizes:
                ey, ex = pixel.dy[w] - fy, pixel.dx[w] - fx
                ok = np.isfinite(ey) & np.isfinite(ex)
                res[(p, w)].append(
                    (ey[ok].mean(), ex[ok].mean(), np.mean(ey[ok] ** 2 + ex[ok] ** 2) / 2)
                )
    print("real texture, uniform fractional shifts: bias per fraction 0.0 ... 0.9 px (rows and")
    print("columns of two pairs averaged), RMSE per axis")
    for (p, w), v in res.items():
        v = np.array(v)
        bias = (v[:, 0] + np.roll(v[:, 1], -5)) / 2
        print(
            f"  passes={p} {w} px: bias {' '.join(f'{b:+.3f}' for b in bias)}; "
            f"worst {np.abs(bias).max():.3f}, RMSE {np.sqrt(v[:, 2].mean()):.3f}"
        )


def _at(f: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The true offset at centres (pixel corners): mean of the four pixels around each."""
    q = (f[:-1, :-1] + f[1:, :-1] + f[:-1, 1:] + f[1:, 1:]) / 4
    return q[np.ix_(r - 1, c - 1)]


def smooth_field(scale: float) -> None:
    shape = (384, 384)
    print(f"real texture, smooth field up to 3 px (scale {scale:.0f} px), step 8: RMSE at centres")
    for seed in (1, 2):
        dy, dx = displacement.smooth_random_field(shape, 3.0, scale, seed=seed)
        ref, sec = _pair(dy, dx, seed)
        for p in (0, 1, 2):
            pixel = _track(ref, sec, (32, 64), 6, p)
            g = pixel.grid
            r = g.first_row + np.arange(g.rows) * g.step
            c = g.first_col + np.arange(g.cols) * g.step

            ty, tx = _at(dy, r, c), _at(dx, r, c)
            line = []
            for w in (32, 64):
                e2 = ((pixel.dy[w] - ty) ** 2 + (pixel.dx[w] - tx) ** 2) / 2
                line.append(f"{w} px {np.sqrt(np.nanmean(e2)):.3f}")
            print(f"  seed {seed} passes={p}: {', '.join(line)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--scale", type=float, nargs="*", default=[300.0, 150.0])
    args = ap.parse_args()
    torch.set_num_threads(1)
    timing(args.repeats)
    if not args.skip_sweep:
        sweep()
        for scale in args.scale:
            smooth_field(scale)


if __name__ == "__main__":
    main()
