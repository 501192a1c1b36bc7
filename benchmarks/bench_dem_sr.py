"""DEM super-resolution speed and memory on this machine.

Measured, each in a fresh subprocess so peak RSS is the run's own:
  1. output megapixels/s of the bundled x2 and x4 models, end to end through
     engine.families.dem_sr.task.super_resolve_dem on the shared tiled runner (read GeoTIFF,
     tiles, blend, write), default
     tile size and overlap;
  2. the same for the paper-size generator (23 RRDB blocks, 64 features, growth 32; random
     weights, which do not change its speed);
  3. tiled against untiled: the same 1024 x 1024 input (x4) in one tile, in default tiles and in
     768 px tiles;
  4. peak RSS of a 2500 x 2500 -> 10000 x 10000 x4 run (target under 2 GiB).
Input: seeded fractal terrain on a 30 m UTM grid. Torch threads: --threads (default 2).
Usage: .venv/bin/python benchmarks/bench_dem_sr.py [--threads 2] [--skip-large]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))

CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, {plugins!r})
import torch
torch.set_num_threads({threads})
import numpy as np
from affine import Affine
from rasterio.crs import CRS
from geohazard.engine.models.model_task import TileSettings
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.dem.terrain import fractal_terrain, TerrainConfig
from geohazard.engine.families.dem_sr.task import TASK, SuperResolutionConfig, super_resolve_dem
from geohazard.engine.models.model_store import LoadedModel, ModelStore
from geohazard.engine.core.run_options import RunOptions
from geohazard.engine.families.dem_sr.card import draft_card
from geohazard.engine.models.archs.registry import build_network
args = json.loads({args!r})
src = os.path.join(args["dir"], "in.tif")
n = args["size"]
dem = fractal_terrain((n, n), 7, TerrainConfig(relief_m=1500.0, base_m=300.0))
grid = Grid(CRS.from_epsg(32633), Affine(30, 0, 4e5, 0, -30, 5e6), n, n)
write_raster(src, dem[None], grid, ["e"])
del dem
if args["model"] == "paper":
    torch.manual_seed(0)
    cfgd = dict(type="RRDBNet", scale=args["scale"], num_feat=64, num_block=23, num_grow_ch=32,
                cubic_skip=True, back_projection=True)
    card = draft_card(cfgd, args["scale"], "paper-size")
    network = LoadedModel(build_network(cfgd).eval(), card, "")
else:
    network = ModelStore().load(TASK, args["model"], "")
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cfg = SuperResolutionConfig(scale=args["scale"], tiles=TileSettings(args["tile"], args["overlap"]))
t0 = time.perf_counter()
out = os.path.join(args["dir"], "out.tif")
summary = super_resolve_dem(src, out, cfg, RunOptions(device="cpu"), model=network)
dt = time.perf_counter() - t0
print(json.dumps(dict(seconds=dt, out_mp=(n * args["scale"]) ** 2 / 1e6, tiles=summary["tiles"],
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      rss_before_run_mib=rss0 / 1024)))
"""


def run(model: str, scale: int, size: int, tile: int, overlap: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        args = json.dumps(
            dict(dir=folder, model=model, scale=scale, size=size, tile=tile, overlap=overlap)
        )
        code = CHILD.format(
            plugins=os.path.join(ROOT, ".venv", "qgis-plugins"), threads=threads, args=args
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(model=model, scale=scale, input_px=size, tile=tile, overlap=overlap)
    res["mp_per_s"] = res["out_mp"] / res["seconds"]
    print(json.dumps(res), flush=True)
    return res


def main() -> None:
    from geohazard.engine.families.dem_sr.task import SuperResolutionConfig

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    d = SuperResolutionConfig().tiles
    rows = []
    print(
        f"# CPU threads {args.threads}; defaults tile {d.tile_size}, overlap {d.overlap}",
        flush=True,
    )
    for scale in (2, 4):
        rows.append(
            (
                "bundled speed",
                run(f"dem_sr_x{scale}", scale, 512, d.tile_size, d.overlap, args.threads),
            )
        )
    rows.append(("paper-size speed", run("paper", 4, 128, d.tile_size, d.overlap, args.threads)))
    one = run("dem_sr_x4", 4, 1024, 1024, 0, args.threads)
    rows.append(("untiled", one))
    for tile in sorted({d.tile_size, 768}):
        tiled = run("dem_sr_x4", 4, 1024, tile, d.overlap, args.threads)
        rows.append((f"tiled {tile}", tiled))
        print(
            f"# tiled ({tile}/{d.overlap}) vs untiled overhead x4 on 1024 px: "
            f"{100 * (tiled['seconds'] / one['seconds'] - 1):.1f}%",
            flush=True,
        )
    if not args.skip_large:
        rows.append(("large", run("dem_sr_x4", 4, 2500, d.tile_size, d.overlap, args.threads)))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
