"""SAR-to-optical speed: output megapixels per second of each SARDINet variant.

End to end through engine.families.sar_to_optical.task.translate_sar_to_optical (read the SAR
and DEM
GeoTIFFs, tiles of 256 px with 64 px overlap, blend, write) on a seeded 1024 x 1024 scene, for
the bundled (small) models and the paper-size network (random weights; weights do not change
the speed). Usage: .venv/bin/python benchmarks/bench_sar_to_optical.py [--threads 2]
[--size 1024] [--device cpu|cuda] [--skip-paper-size]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))
FUSIONS = ("sar-only", "early", "late", "intermediate")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-paper-size", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import torch
    from affine import Affine
    from geohazard.engine.core.run_options import RunOptions
    from geohazard.engine.dem.terrain import fractal_terrain
    from geohazard.engine.families.sar_to_optical.card import draft_card
    from geohazard.engine.families.sar_to_optical.data import PrepConfig
    from geohazard.engine.families.sar_to_optical.task import (
        SarToOpticalConfig,
        default_model_name,
        translate_sar_to_optical,
    )
    from geohazard.engine.io.raster_io import Grid, write_raster
    from geohazard.engine.models.archs.registry import build_network
    from geohazard.engine.models.model_store import ModelStore
    from rasterio.crs import CRS

    torch.set_num_threads(args.threads)
    n = args.size
    tmp = tempfile.mkdtemp(prefix="bench_s2o_")
    grid = Grid(CRS.from_epsg(32632), Affine(10, 0, 300_000, 0, -10, 5_000_000), n, n)
    rng = np.random.default_rng(0)
    sar = rng.gamma(4.4, 0.05 / 4.4, (2, n, n)).astype(np.float32)
    sar_path = write_raster(os.path.join(tmp, "sar.tif"), sar, grid, ["VV", "VH"])
    dem = fractal_terrain((n, n), 1)
    dem_path = write_raster(os.path.join(tmp, "dem.tif"), dem[None], grid, ["z"])
    models = {f: default_model_name(f) for f in FUSIONS}
    if not args.skip_paper_size:
        for f in FUSIONS:
            arch = {"type": "SARDINet", "fusion": f}
            card = draft_card(arch, PrepConfig(), f"paper_size_{f.replace('-', '_')}")
            models[f"{f} (paper size)"] = ModelStore().save(build_network(arch).eval(), card, tmp)
    results = {}
    options = RunOptions(device=args.device)
    for label, model in models.items():
        fusion = label.split(" ")[0]
        out = os.path.join(tmp, "out.tif")
        cfg = SarToOpticalConfig(fusion=fusion, model=model)
        t0 = time.perf_counter()
        translate_sar_to_optical(
            sar_path, None if fusion == "sar-only" else dem_path, out, cfg, options
        )
        seconds = time.perf_counter() - t0
        results[label] = {"seconds": round(seconds, 2), "mp_per_s": round(n * n / 1e6 / seconds, 3)}
        print(f"{label:28s} {seconds:7.2f} s  {n * n / 1e6 / seconds:6.3f} MP/s", flush=True)
    print(json.dumps({"size": n, "threads": args.threads, "device": args.device, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
