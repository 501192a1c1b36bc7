"""DEM super-resolution on the shared tiled runner against the code before it, in one run.

The old implementation (commit d7b3383, engine/superres/inference.py) is extracted with
``git archive`` into a temporary folder and imported as its own package; old and new runs
alternate, each in a fresh subprocess with the same torch thread count, on the same seeded input
and settings (bundled model, default tile 256 and overlap 32, CPU). Reported: median seconds of
each, the ratio new / old, and the largest difference between their outputs in metres.

Usage: .venv/bin/python benchmarks/bench_runner_vs_old.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_COMMIT = "d7b3383"

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, {plugins!r})
import torch
torch.set_num_threads({threads})
import numpy as np, rasterio
from affine import Affine
from rasterio.crs import CRS
a = json.loads({args!r})
try:  # the layout of engine/ since the family folders; the old commit's below
    from geohazard.engine.io.raster_io import Grid, write_raster
    from geohazard.engine.dem.terrain import fractal_terrain, TerrainConfig
except ImportError:
    from geohazard.engine.io.raster_io import Grid, write_raster
    from geohazard.engine.dem.terrain import fractal_terrain, TerrainConfig
src = os.path.join(a["dir"], "in.tif")
if not os.path.exists(src):
    n = a["size"]
    dem = fractal_terrain((n, n), 7, TerrainConfig(relief_m=1500.0, base_m=300.0))
    grid = Grid(CRS.from_epsg(32633), Affine(30, 0, 4e5, 0, -30, 5e6), n, n)
    write_raster(src, dem[None], grid, ["e"])
out = os.path.join(a["dir"], a["which"] + ".tif")
if a["which"] == "old":
    from geohazard.engine.superres.inference import SuperResolutionConfig, super_resolve_dem
    run = lambda: super_resolve_dem(src, out, SuperResolutionConfig(scale=a["scale"], device="cpu"))
else:
    from geohazard.engine.families.dem_sr.task import SuperResolutionConfig, super_resolve_dem
    from geohazard.engine.core.run_options import RunOptions
    cpu = RunOptions(device="cpu")
    run = lambda: super_resolve_dem(src, out, SuperResolutionConfig(scale=a["scale"]), cpu)
t0 = time.perf_counter()
run()
print(json.dumps({{"seconds": time.perf_counter() - t0}}))
"""


def child(plugins: str, which: str, folder: str, size: int, scale: int, threads: int) -> float:
    args = json.dumps({"dir": folder, "which": which, "size": size, "scale": scale})
    code = CHILD.format(plugins=plugins, threads=threads, args=args)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    import numpy as np
    import rasterio

    tmp = tempfile.mkdtemp(prefix="bench_runner_")
    old_root = os.path.join(tmp, "old_plugins", "geohazard")
    os.makedirs(old_root)
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", OLD_COMMIT], capture_output=True, check=True
    )
    subprocess.run(["tar", "x", "-C", old_root], input=archive.stdout, check=True)
    plugins = {"old": os.path.dirname(old_root), "new": os.path.join(ROOT, ".venv", "qgis-plugins")}
    for scale in (4, 2):
        folder = os.path.join(tmp, f"x{scale}")
        os.makedirs(folder)
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.repeats):
            for which in ("old", "new"):
                times[which].append(
                    child(plugins[which], which, folder, args.size, scale, args.threads)
                )
        with (
            rasterio.open(os.path.join(folder, "old.tif")) as a,
            rasterio.open(os.path.join(folder, "new.tif")) as b,
        ):
            diff = float(np.nanmax(np.abs(a.read(1) - b.read(1))))
        old, new = statistics.median(times["old"]), statistics.median(times["new"])
        print(
            json.dumps(
                {
                    "input_px": args.size,
                    "scale": scale,
                    "threads": args.threads,
                    "repeats": args.repeats,
                    "old_s": [round(t, 3) for t in times["old"]],
                    "new_s": [round(t, 3) for t in times["new"]],
                    "median_old_s": round(old, 3),
                    "median_new_s": round(new, 3),
                    "new_over_old": round(new / old, 3),
                    "max_abs_diff_m": diff,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
