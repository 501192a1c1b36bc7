"""CUDA paths that CI never runs, exercised on a real GPU, with speed figures.

Run on a machine with a CUDA GPU (repository root as the working folder):
    python benchmarks/gpu_check.py > gpu_check.jsonl
Checks and measures, each printed as one JSON line:
  1. DEM super-resolution through the shared tiled runner on CUDA, float32 and mixed precision
     (bf16), against the CPU result of the same input (max abs difference in metres), and output
     megapixels/s of the bundled x4 model and of the paper-size generator (23 blocks, 64
     features; random weights, same speed) at tile sizes 256 and 512, after a warm-up run;
  2. the per-run GPU memory cap (the card's limit inside the run, restored after);
  3. a real CUDA out-of-memory error in the runner, retried with smaller tiles;
  4. a few steps of the DEM training recipe on CUDA through the shared loop, then resumed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGINS = tempfile.mkdtemp()
os.symlink(ROOT, os.path.join(PLUGINS, "geohazard"))
sys.path.insert(0, PLUGINS)

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
import torch  # noqa: E402
from affine import Affine  # noqa: E402
from geohazard.engine.core.device import memory_cap_scope  # noqa: E402
from geohazard.engine.core.memory_cap import parse_memory_cap  # noqa: E402
from geohazard.engine.core.progress import Reporter  # noqa: E402
from geohazard.engine.core.run_options import RunOptions  # noqa: E402
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain  # noqa: E402
from geohazard.engine.families.dem_sr.card import draft_card  # noqa: E402
from geohazard.engine.families.dem_sr.task import (  # noqa: E402
    TASK,
    SuperResolutionConfig,
    super_resolve_dem,
)
from geohazard.engine.io.raster_io import Grid, write_raster  # noqa: E402
from geohazard.engine.models.archs.registry import build_network  # noqa: E402
from geohazard.engine.models.model_store import LoadedModel, ModelStore  # noqa: E402
from geohazard.engine.models.model_task import TileSettings  # noqa: E402
from rasterio.crs import CRS  # noqa: E402


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


def dem(folder: str, n: int) -> str:
    path = os.path.join(folder, f"dem{n}.tif")
    if not os.path.exists(path):
        z = fractal_terrain((n, n), 7, TerrainConfig(relief_m=1500.0, base_m=300.0))
        grid = Grid(CRS.from_epsg(32633), Affine(30, 0, 4e5, 0, -30, 5e6), n, n)
        write_raster(path, z[None], grid, ["e"])
    return path


def read(path: str) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


def main() -> None:
    tmp = tempfile.mkdtemp()
    emit(device=torch.cuda.get_device_name(0), torch=torch.__version__)
    bundled = ModelStore().load(TASK, "dem_sr_x4", "")
    small = dem(tmp, 256)
    cpu_out = os.path.join(tmp, "cpu.tif")
    super_resolve_dem(
        small, cpu_out, SuperResolutionConfig(scale=4), RunOptions("cpu"), model=bundled
    )
    for mp in (False, True):
        out = os.path.join(tmp, f"gpu{mp}.tif")
        s = super_resolve_dem(
            small, out, SuperResolutionConfig(scale=4), RunOptions("cuda", mp), model=bundled
        )
        emit(
            check="cuda vs cpu",
            mixed_precision=mp,
            device=s["device"],
            max_abs_diff_m=float(np.nanmax(np.abs(read(out) - read(cpu_out)))),
        )
    paper_arch = dict(
        type="RRDBNet",
        scale=4,
        num_feat=64,
        num_block=23,
        num_grow_ch=32,
        cubic_skip=True,
        back_projection=True,
    )
    torch.manual_seed(0)
    paper = LoadedModel(
        build_network(paper_arch).eval(), draft_card(paper_arch, 4, "paper-size"), ""
    )
    for name, model, size in (
        ("bundled x4 (0.8 M)", bundled, 2048),
        ("paper-size x4 (16.7 M)", paper, 1024),
    ):
        src = dem(tmp, size)
        for tile in (256, 512):
            for mp in (False, True):
                opts = RunOptions("cuda", mp)
                cfg = SuperResolutionConfig(scale=4, tiles=TileSettings(tile, 32))
                out = os.path.join(tmp, "o.tif")
                super_resolve_dem(src, out, cfg, opts, model=model)  # warm-up
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                s = super_resolve_dem(src, out, cfg, opts, model=model)
                torch.cuda.synchronize()
                dt = time.perf_counter() - t0
                emit(
                    bench=name,
                    input_px=size,
                    tile=tile,
                    mixed_precision=mp,
                    seconds=round(dt, 3),
                    out_mp_per_s=round((size * 4) ** 2 / 1e6 / dt, 2),
                    tiles=s["tiles"],
                    peak_gpu_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
                )
                torch.cuda.reset_peak_memory_stats()
    total = torch.cuda.get_device_properties(0).total_memory
    with memory_cap_scope(torch.device("cuda"), parse_memory_cap("2 GiB")):
        try:
            torch.empty(int(3 * 2**30), dtype=torch.uint8, device="cuda")
            capped = False
        except torch.cuda.OutOfMemoryError:
            capped = True
    torch.cuda.empty_cache()
    x = torch.empty(int(3 * 2**30), dtype=torch.uint8, device="cuda")
    del x
    emit(
        check="memory cap scope",
        three_gib_refused_under_2_gib_cap=capped,
        restored_after=True,
        card_gib=round(total / 2**30, 1),
    )
    warnings: list[str] = []
    opts = RunOptions("cuda", memory_cap=parse_memory_cap("1.5 GiB"))
    out = os.path.join(tmp, "oom.tif")
    s = super_resolve_dem(
        dem(tmp, 1024),
        out,
        SuperResolutionConfig(scale=4, tiles=TileSettings(2048, 32)),
        opts,
        Reporter(warning=warnings.append),
        model=paper,
    )
    emit(check="real CUDA out of memory retried", tiles=s["tiles"], warnings=warnings)
    from geohazard.engine.families.dem_sr.patches import PatchSampler, PatchSource
    from geohazard.engine.families.dem_sr.training import TrainConfig, ValidationSet, make_trainer

    terr = [PatchSource(fractal_terrain((256, 256), i)) for i in range(4)]
    samplers = {
        "images": lambda s: PatchSampler(terr, 64, 4, s, 1),
        "dems": lambda s: PatchSampler(terr, 64, 4, s, 4),
    }
    val = ValidationSet([fractal_terrain((128, 128), 99)], [(30.0, 30.0)])
    cfg = TrainConfig(
        scale=4,
        hr_patch=64,
        batch_size=32,
        pretrain_steps=20,
        finetune_steps=20,
        gan_steps=20,
        validate_every=10,
    )
    t0 = time.perf_counter()
    loop = make_trainer(
        cfg,
        samplers,
        val,
        os.path.join(tmp, "train"),
        log=lambda m: None,
        device=torch.device("cuda"),
    )
    loop.run()
    again = make_trainer(
        cfg,
        samplers,
        val,
        os.path.join(tmp, "train"),
        log=lambda m: None,
        device=torch.device("cuda"),
    )
    emit(
        check="DEM training on CUDA through the shared loop",
        steps=loop.steps_done,
        seconds=round(time.perf_counter() - t0, 1),
        best=loop.best,
        resumed=again.resume(),
    )


if __name__ == "__main__":
    main()
