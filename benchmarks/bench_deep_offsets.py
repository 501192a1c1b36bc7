"""Time to a dense displacement map: deep tracker against the classical tracker, in one run.

Pair: a 2048 x 2048 SAR-like amplitude pair (seeded), textures of the simulated *test* stream
(simulate/splits.py, never used in training), 4-look speckle, speckle coherence 0.9, with a
glacier flowing up to 6 px, a fault slipping 4 px and a landslide moving 3 px, written as
GeoTIFFs and processed end to end from the files:

- deep: ``deep_track_offsets`` (NCC prior on its grid + the network on 512 px tiles), one value
  per pixel;
- classical, usual grid: ``track_offsets`` with its defaults (windows 32, 64, 128 px, step 16,
  search 16, 2-sigma);
- classical, dense (step 1, same windows and search): timed on a block of ``--dense-block`` x
  ``--dense-block`` window centres and scaled by the number of centres of the whole image (its
  cost is the same for every centre; running all 4.2 million centres would take hours here).

RMSE (px) against the true field: the deep map and the dense classical block at the block's
pixels, the classical grid at its window centres and the deep map at the same centres.
Usage: .venv/bin/python benchmarks/bench_deep_offsets.py [--size 2048] [--model NAME] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _plugin_on_path(root: str) -> None:
    """Make the checkout importable as ``geohazard`` (the venv's link, or a temporary one on a
    machine without the venv, e.g. a GPU machine)."""
    plugins = os.path.join(root, ".venv", "qgis-plugins")
    if not os.path.exists(os.path.join(plugins, "geohazard")):
        import tempfile

        plugins = tempfile.mkdtemp()
        os.symlink(root, os.path.join(plugins, "geohazard"))
    sys.path.insert(0, plugins)


_plugin_on_path(str(ROOT))
sys.path.insert(0, os.path.join(ROOT, "tests"))


def make_pair(size: int, folder: str) -> tuple[str, str, np.ndarray]:
    from geohazard.engine.io.raster_io import write_raster
    from geohazard.engine.simulate import displacement
    from geohazard.engine.simulate import displacement_kinds as kinds
    from geohazard.engine.simulate.speckle_pair import SpeckleConfig, simulate_pair
    from geohazard.engine.simulate.textures import SimulatedSource
    from sar_pairs import utm_grid

    rng = np.random.default_rng(5)
    tex = np.concatenate(
        [
            np.concatenate(
                [SimulatedSource("t", 2).draw(rng, size // 2).reflectivity for _ in range(2)], 1
            )
            for _ in range(2)
        ],
        0,
    )
    shape = (size, size)
    fields = [
        kinds.glacier_field(
            shape, (size * 0.3, size * 0.5), 80.0, size * 0.12, 6.0, 3.0, (40.0, size)
        ),
        kinds.fault_field(shape, (size * 0.7, size * 0.3), 20.0, 4.0, 30.0, size * 0.3),
        displacement.landslide_field(shape, (size * 0.7, size * 0.75), (90.0, 60.0), 200.0, 3.0),
    ]
    dy = sum(f[0] for f in fields).astype(np.float32)
    dx = sum(f[1] for f in fields).astype(np.float32)
    pair = simulate_pair(tex, dy, dx, SpeckleConfig(looks=4, coherence=0.9), rng)
    grid = utm_grid(shape)
    a = write_raster(
        os.path.join(folder, "reference.tif"), pair.reference[None], grid, ["amplitude"]
    )
    b = write_raster(
        os.path.join(folder, "secondary.tif"), pair.secondary[None], grid, ["amplitude"]
    )
    return a, b, np.stack([pair.dx, pair.dy, pair.valid.astype(np.float32)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--dense-block", type=int, default=128)
    parser.add_argument("--model", default="")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import rasterio
    import torch
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.core.run_options import RunOptions
    from geohazard.engine.families.deep_offsets.task import DeepOffsetConfig, deep_track_offsets
    from geohazard.engine.io.raster_io import Grid
    from geohazard.engine.offsets.dense_prior import PriorConfig
    from geohazard.engine.offsets.strip_preparation import ArrayReader
    from geohazard.engine.offsets.tracking import OffsetTrackingConfig, correlate, track_offsets

    options = RunOptions(device=args.device)
    results: dict[str, object] = {
        "size": args.size,
        "device": args.device,
        "threads": torch.get_num_threads(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ref, sec, truth = make_pair(args.size, tmp)
        results["simulate_s"] = round(time.perf_counter() - t0, 1)
        tx, ty, valid = truth[0], truth[1], truth[2] > 0
        pixel = 10.0

        deep_out = os.path.join(tmp, "deep.tif")
        t0 = time.perf_counter()
        summary = deep_track_offsets(
            ref, sec, deep_out, DeepOffsetConfig(model=args.model), options
        )
        results["deep_s"] = round(time.perf_counter() - t0, 1)
        results["deep_model"] = summary["model"]
        with rasterio.open(deep_out) as ds:
            deep_dx, deep_dy = ds.read(1) / pixel, -ds.read(2) / pixel

        grid_out = os.path.join(tmp, "grid.tif")
        t0 = time.perf_counter()
        track_offsets(ref, sec, grid_out, OffsetTrackingConfig(device=args.device))
        results["classical_grid_s"] = round(time.perf_counter() - t0, 1)
        with rasterio.open(grid_out) as ds:
            g_dx, g_dy = ds.read(1) / pixel, -ds.read(2) / pixel
            rows = np.arange(ds.height) * 16 + (16 + 16)  # window centres (pixel corners)
            cols = np.arange(ds.width) * 16 + (16 + 16)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        ok = np.isfinite(g_dx) & valid[rr, cc]
        e_grid = np.hypot(g_dx - tx[rr, cc], g_dy - ty[rr, cc])[ok]
        e_deep_c = np.hypot(deep_dx[rr, cc] - tx[rr, cc], deep_dy[rr, cc] - ty[rr, cc])[ok]

        # dense classical on a block of centres, timed and scaled
        cfg = PriorConfig(window_sizes=(32, 64, 128), step=1, search=16)
        with rasterio.open(ref) as a, rasterio.open(sec) as b:
            ra, rb = a.read(1), b.read(1)
        n = args.dense_block
        r0 = args.size // 2 - n // 2
        reach = 64 + 16
        crop = (slice(r0 - reach, r0 + n + reach), slice(r0 - reach, r0 + n + reach))
        sub_a, sub_b = ra[crop], rb[crop]
        from affine import Affine

        image = Grid(None, Affine.identity(), sub_a.shape[1], sub_a.shape[0])
        t0 = time.perf_counter()
        pix = correlate(
            ArrayReader(sub_a),
            ArrayReader(sub_b),
            image,
            cfg.window_sizes,
            1,
            cfg.search,
            torch.device(args.device),
            128,
            Reporter(),
        )
        block_s = time.perf_counter() - t0
        from geohazard.engine.offsets.dense_prior import combined_offsets

        d_dy, d_dx, _ = combined_offsets(pix, cfg.min_quality)
        first = pix.grid.first_row  # centre k at pixel corner first + k -> pixel first + k
        centres_block = pix.grid.rows * pix.grid.cols
        centres_full = (args.size - 2 * (16 + 16) + 1) ** 2
        results["classical_dense_s"] = round(block_s * centres_full / centres_block, 0)
        results["classical_dense_block"] = (
            f"{pix.grid.rows}x{pix.grid.cols} centres in {block_s:.1f} s"
        )
        rr = np.arange(pix.grid.rows)[:, None] + first + crop[0].start
        cc = np.arange(pix.grid.cols)[None, :] + first + crop[1].start
        ok = np.isfinite(d_dx) & valid[rr, cc]
        e_dense = np.hypot(d_dx - tx[rr, cc], d_dy - ty[rr, cc])[ok]
        e_deep_b = np.hypot(deep_dx[rr, cc] - tx[rr, cc], deep_dy[rr, cc] - ty[rr, cc])[ok]

        rmse = lambda e: round(float(np.sqrt(np.mean(e**2))), 3)  # noqa: E731
        results["rmse_px"] = {
            "block: deep": rmse(e_deep_b),
            "block: classical dense": rmse(e_dense),
            "centres: deep": rmse(e_deep_c),
            "centres: classical grid": rmse(e_grid),
        }
        ok_all = valid & np.isfinite(deep_dx)
        results["rmse_px"]["every pixel: deep"] = rmse(np.hypot(deep_dx - tx, deep_dy - ty)[ok_all])
        results["speed_ratio_dense_over_deep"] = round(
            results["classical_dense_s"] / results["deep_s"], 1
        )
        results["deep_mp_per_s"] = round(args.size**2 / 1e6 / results["deep_s"], 3)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
