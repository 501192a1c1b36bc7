#!/usr/bin/env python3
"""Does fine-tuning pay? Per family, a bundled model fine-tuned on the west of a region against
the bundled model on the held-out east of that region (never seen by fine-tuning, not even for
choosing the best epoch). Writes the numbers to ``<out>/<family>.json`` (docs/fine_tuning.md).

    nice -n 5 .venv/bin/python scripts/finetune_pays.py dem --dem .data/real/<Grenoble DEM>
    nice -n 5 .venv/bin/python scripts/finetune_pays.py offsets
    nice -n 5 .venv/bin/python scripts/finetune_pays.py s2o --scene out/sar_optical_scenes/<scene>

Every family trains through the same engine function as its QGIS training algorithm, on the
CPU, for a few minutes. Regions:

- dem: a real DEM (e.g. the Copernicus DEM of the Grenoble Alps, demcompare 0.6.1, fetched by
  scripts/fetch_real_data.py); truth = the held-out DEM, input = its 4x4 block mean.
- offsets: the real Jacksboro DEM (Debian's matplotlib data) as simulated SAR amplitude
  (engine/simulate/sar_amplitude.py: radar brightness from the slopes, 4-look speckle) with a
  simulated glacier flowing across the whole region (``--kind fault``: a fault across it;
  ``--kind slides``: ``--bodies`` small landslides, 20-40 px across);
  targets = the known displacement; the held-out east is tracked by the real inference
  (engine/families/deep_offsets/task.py) with each model.
- s2o: a simulated Sentinel-1 / real Sentinel-2 scene of scripts/make_sar_optical_scenes.py
  (the Belledonne scene is a test scene of the bundled models: never trained on);
  ``--ssim-weight`` mixes SSIM into the loss (the recipe's SSIM_WEIGHT).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WEST = 0.6  # share of the columns fine-tuned on


def _plugin_on_path(root: str) -> None:
    plugins = os.path.join(root, ".venv", "qgis-plugins")
    if not os.path.exists(os.path.join(plugins, "geohazard")):
        import tempfile

        plugins = tempfile.mkdtemp()
        os.symlink(root, os.path.join(plugins, "geohazard"))
    sys.path.insert(0, plugins)


def split_grid(grid, col: int):  # type: ignore[no-untyped-def]
    """(west grid, east grid) of a grid cut at column ``col``."""
    from affine import Affine
    from geohazard.engine.io.raster_io import Grid

    west = Grid(grid.crs, grid.transform, col, grid.height)
    east = Grid(
        grid.crs, grid.transform * Affine.translation(col, 0), grid.width - col, grid.height
    )
    return west, east


def settings(out: str, name: str, **kw):  # type: ignore[no-untyped-def]
    from geohazard.engine.models.training.finetune import FineTuneSettings

    return FineTuneSettings(
        base_model="default",
        output_name=name,
        user_models=os.path.join(out, "models"),
        device="cpu",
        log_path=os.path.join(out, f"{name}.csv"),
        curves_path=os.path.join(out, f"{name}.png"),
        overwrite=True,
        **kw,
    )


def reporter():  # type: ignore[no-untyped-def]
    from geohazard.engine.core.progress import Reporter

    t0 = time.time()
    return Reporter(info=lambda m: print(f"[{time.time() - t0:6.0f} s] {m}", flush=True))


def dem_family(args: argparse.Namespace) -> dict:
    import numpy as np
    from geohazard.engine.dem.dem_metrics import compare_dems, grid_pixel_m
    from geohazard.engine.families.dem_sr.card import super_resolve_array
    from geohazard.engine.families.dem_sr.degrade import block_mean, upsample
    from geohazard.engine.families.dem_sr.finetune import DemRecipe, finetune_dem_sr, read_dem
    from geohazard.engine.families.dem_sr.task import TASK
    from geohazard.engine.io.raster_io import write_raster
    from geohazard.engine.models.model_store import ModelStore

    dem, grid = read_dem(args.dem)
    col = int(dem.shape[1] * WEST) // 16 * 16
    west_grid, east_grid = split_grid(grid, col)
    west = os.path.join(args.out, "dem_west.tif")
    write_raster(west, dem[None, :, :col], west_grid, ["elevation (m)"])
    s = settings(args.out, "pays_dem_x4", epochs=args.epochs, batch_size=16, learning_rate=1e-4)
    summary = finetune_dem_sr([west], s, DemRecipe(scale=4), reporter())
    east = dem[:, col:]
    east = east[: east.shape[0] // 4 * 4, : east.shape[1] // 4 * 4]
    lr = block_mean(east, 4)
    store = ModelStore(s.user_models)
    px = grid_pixel_m(east_grid)
    out = {}
    for label, ref in (("bundled dem_sr_x4", "dem_sr_x4"), ("fine-tuned", "pays_dem_x4")):
        net = store.load(TASK, ref, ref).net
        out[label] = compare_dems(super_resolve_array(net, lr, 4), east, *px).as_dict()
    out["bicubic"] = compare_dems(upsample(lr, 4, "bicubic"), east, *px).as_dict()
    return {
        "region": os.path.basename(args.dem),
        "west_cols": col,
        "held_out": f"columns {col}: of {dem.shape[1]} ({east.shape[1]}x{east.shape[0]} px)",
        "steps": summary["steps"],
        "validation_in_west": summary["metrics"],
        "held_out_metrics": out,
        "finite": bool(np.isfinite(east).all()),
    }


def slide_swarm(dem, px: float, bodies: int, seed: int):  # type: ignore[no-untyped-def]
    """(dy, dx) of many small landslides: bodies 20-40 px across (along semi-axis 10-20 px),
    on steep slopes (sites drawn with probability ~ slope^2), moving downslope; each body's
    motion is capped so that its cosine margin compresses the ground by at most
    MAX_COMPRESSION (as random_field does), i.e. 1.8-3.6 px. Far smaller than the bundled
    model's training landslides (semi-axes 26-96 px) and than the prior's 32 px window."""
    import numpy as np
    from geohazard.engine.simulate.displacement import landslide_field
    from geohazard.engine.simulate.displacement_kinds import MAX_COMPRESSION

    rng = np.random.default_rng(seed)
    gy, gx = np.gradient(dem.astype(np.float64), px)
    weights = np.hypot(gx, gy) ** 2
    weights[:20], weights[-20:], weights[:, :20], weights[:, -20:] = 0, 0, 0, 0
    dy = np.zeros(dem.shape, np.float32)
    dx = np.zeros(dem.shape, np.float32)
    placed: list[tuple[int, int, float]] = []
    p = (weights / weights.sum()).ravel()
    for _ in range(50 * bodies):  # bodies never touch (no folding between two of them)
        if len(placed) == bodies:
            break
        r, c = np.unravel_index(rng.choice(weights.size, p=p), dem.shape)
        along = rng.uniform(10.0, 20.0)
        if any(np.hypot(r - r2, c - c2) < along + a2 + 4 for r2, c2, a2 in placed):
            continue
        placed.append((int(r), int(c), along))
        azimuth = float(np.rad2deg(np.arctan2(-gx[r, c], gy[r, c])) % 360)
        most = 0.4 * MAX_COMPRESSION * along / (np.pi / 2)
        ly, lx = landslide_field(
            dem.shape,
            (float(r), float(c)),
            (along, along * rng.uniform(0.6, 1.0)),
            azimuth,
            most * rng.uniform(0.7, 1.0),
        )
        dy, dx = dy + ly, dx + lx
    return dy.astype(np.float32), dx.astype(np.float32)


def offsets_family(args: argparse.Namespace) -> dict:
    import numpy as np
    import rasterio
    from geohazard.engine.families.deep_offsets.finetune import (
        DeepOffsetPair,
        DeepOffsetRecipe,
        finetune_deep_offsets,
    )
    from geohazard.engine.families.deep_offsets.task import DeepOffsetConfig, deep_track_offsets
    from geohazard.engine.io.raster_io import write_raster
    from geohazard.engine.simulate.displacement_kinds import fault_field, glacier_field
    from geohazard.engine.simulate.real_dem import jacksboro_dem_utm
    from geohazard.engine.simulate.sar_amplitude import backscatter, speckled_pair

    dem, grid = jacksboro_dem_utm(30.0)
    dem = dem[: args.rows, : args.cols]
    from geohazard.engine.io.raster_io import Grid

    grid = Grid(grid.crs, grid.transform, dem.shape[1], dem.shape[0])
    px = grid.transform.a
    centre = (dem.shape[0] / 2, dem.shape[1] / 2)
    if args.kind == "slides":
        fy, fx = slide_swarm(dem, px, args.bodies, seed=3)
    elif args.kind == "fault":
        # an east-west trace across the whole region, slip from the surface to a shallow depth:
        # a sharp step that the NCC windows (32 and 64 px) smear
        fy, fx = fault_field(
            dem.shape, centre, 90.0, args.max_px, args.locking_px, 2.0 * dem.shape[1]
        )
    else:
        fy, fx = glacier_field(dem.shape, centre, 100.0, 70.0, args.max_px, meander=(25, 400))
    refl = backscatter(dem, px, seed=5)
    ref, sec = speckled_pair(refl, fy, fx, looks=args.looks, coherence=args.coherence, seed=6)
    col = int(dem.shape[1] * WEST) // 16 * 16
    west_grid, east_grid = split_grid(grid, col)
    folder = os.path.join(args.out, "offsets")
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for part, sl, g in (("west", slice(0, col), west_grid), ("east", slice(col, None), east_grid)):
        paths[part] = [
            write_raster(os.path.join(folder, f"{part}_{k}.tif"), a[None, :, sl], g, [k])
            for k, a in (("reference", ref), ("secondary", sec))
        ]
    targets = np.stack([fx * px, -fy * px])[:, :, :col].astype(np.float32)
    tpath = write_raster(os.path.join(folder, "west_offsets.tif"), targets, west_grid, ["e", "n"])
    s = settings(args.out, "pays_offsets", epochs=args.epochs, batch_size=8, learning_rate=args.lr)
    summary = finetune_deep_offsets(
        [DeepOffsetPair(*paths["west"], tpath)], s, DeepOffsetRecipe(patch=64), reporter()
    )
    truth_e, truth_n = fx[:, col:] * px, -fy[:, col:] * px
    margin = 32  # the prior's margin: extrapolated near the image edge, as in training
    inner = (slice(margin, -margin), slice(margin, -margin))
    out = {}
    for label, model in (("bundled deep_offsets_small", "default"), ("fine-tuned", "pays_offsets")):
        dest = os.path.join(folder, f"east_{model}.tif")
        deep_track_offsets(
            *paths["east"], dest, DeepOffsetConfig(model=model), user_models=s.user_models
        )
        with rasterio.open(dest) as ds:
            e, n = ds.read(1), ds.read(2)
        err = np.hypot(e - truth_e, n - truth_n)[inner] / px
        out[label] = {
            "epe_px": float(np.nanmean(err)),
            "rmse_px": float(np.sqrt(np.nanmean(err**2))),
        }
    return {
        "region": f"Jacksboro DEM (real) as simulated {args.looks}-look SAR amplitude "
        f"(coherence {args.coherence}), 30 m, {dem.shape[1]}x{dem.shape[0]} px; simulated "
        + {
            "fault": f"fault, slip {args.max_px} px, locking depth {args.locking_px} px",
            "slides": f"{args.bodies} small landslides (20-40 px across, up to 3.6 px)",
        }.get(args.kind, f"glacier up to {args.max_px} px"),
        "held_out": f"columns {col}: (east {dem.shape[1] - col} px), inner {margin} px margin",
        "steps": summary["steps"],
        "validation_in_west": summary["metrics"],
        "held_out_metrics": out,
    }


def s2o_family(args: argparse.Namespace) -> dict:
    import numpy as np
    import rasterio
    from geohazard.engine.families.sar_to_optical.data import PrepConfig, cut_patches, load_area
    from geohazard.engine.families.sar_to_optical.finetune import (
        SarOpticalArea,
        SarOpticalRecipe,
        finetune_sar_to_optical,
    )
    from geohazard.engine.families.sar_to_optical.task import TASK
    from geohazard.engine.families.sar_to_optical.training import evaluate, predict
    from geohazard.engine.io.raster_io import inspect_raster, write_raster
    from geohazard.engine.models.model_store import ModelStore

    files = {k: os.path.join(args.scene, f"{k}.tif") for k in ("sar", "dem", "optical")}
    grid = inspect_raster(files["sar"]).grid
    col = int(grid.width * WEST) // 16 * 16
    west_grid, east_grid = split_grid(grid, col)
    parts: dict[str, dict[str, str]] = {"west": {}, "east": {}}
    for k, path in files.items():
        with rasterio.open(path) as ds:
            data = ds.read().astype(np.float32)
        for part, sl, g in (
            ("west", slice(0, col), west_grid),
            ("east", slice(col, None), east_grid),
        ):
            dest = os.path.join(args.out, f"s2o_{part}_{k}.tif")
            parts[part][k] = write_raster(
                dest, data[:, :, sl], g, [f"b{i + 1}" for i in range(len(data))]
            )
    s = settings(
        args.out,
        "pays_s2o",
        epochs=args.epochs,
        batch_size=8,
        learning_rate=args.lr,
        seed=args.seed,
    )
    recipe = SarOpticalRecipe(patch=args.patch, fusion="late", ssim_weight=args.ssim_weight)
    summary = finetune_sar_to_optical(
        [SarOpticalArea(parts["west"]["sar"], parts["west"]["dem"], parts["west"]["optical"])],
        s,
        recipe,
        reporter(),
    )
    store = ModelStore(s.user_models)
    base = store.load(TASK, "sardinet_late", "sardinet_late")
    params = base.card.normalisation.params
    prep = PrepConfig(
        patch=args.patch,
        stride=args.patch,
        sar_db_range=(float(params["sar_db_min"]), float(params["sar_db_max"])),
        dem_max_m=float(params["dem_max_m"]),
    )
    # the held-out patches are cut from the whole scene (one optical stretch for the region, as
    # a user's one optical image has), keeping those entirely in the east
    whole = load_area(files["sar"], files["dem"], files["optical"], None, None, prep)
    patches = cut_patches(whole, prep)
    keep = patches["origins"][:, 1] >= col
    east = {k: v[keep] for k, v in patches.items()}
    import torch

    cpu = torch.device("cpu")
    out = {}
    for label, ref in (("bundled sardinet_late", "sardinet_late"), ("fine-tuned", "pays_s2o")):
        net = store.load(TASK, ref, ref).net
        out[label] = evaluate(lambda x, n=net: predict(n, x, "late", cpu), east)["global"]
    return {
        "region": f"scene {os.path.basename(args.scene.rstrip('/'))} "
        f"({grid.width}x{grid.height} px)",
        "held_out": f"columns {col}: ({len(east['inputs'])} patches of {args.patch} px)",
        "steps": summary["steps"],
        "validation_in_west": summary["metrics"],
        "held_out_metrics": out,
    }


def main(argv: list[str] | None = None) -> int:
    _plugin_on_path(ROOT)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("family", choices=("dem", "offsets", "s2o"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "finetune_pays"))
    ap.add_argument("--dem", default="")
    ap.add_argument(
        "--scene", default=os.path.join(ROOT, "out", "sar_optical_scenes", "belledonne")
    )
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--max-px", type=float, default=3.0)
    ap.add_argument("--looks", type=int, default=4)
    ap.add_argument("--patch", type=int, default=96, help="s2o: patch side")
    ap.add_argument("--ssim-weight", type=float, default=0.0, help="s2o: share of SSIM in the loss")
    ap.add_argument("--rows", type=int, default=384, help="offsets: region rows")
    ap.add_argument("--cols", type=int, default=640, help="offsets: region columns")
    ap.add_argument("--coherence", type=float, default=0.85)
    ap.add_argument(
        "--kind", choices=("glacier", "fault", "slides"), default="glacier", help="offsets: motion"
    )
    ap.add_argument("--bodies", type=int, default=100, help="offsets: landslides (slides)")
    ap.add_argument("--locking-px", type=float, default=3.0, help="offsets: fault locking depth")
    ap.add_argument("--name", default="", help="JSON name (default: the family)")
    ap.add_argument("--seed", type=int, default=0, help="s2o: seed of the split and batches")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    result = {"dem": dem_family, "offsets": offsets_family, "s2o": s2o_family}[args.family](args)
    result["minutes"] = round((time.time() - started) / 60, 1)
    result["command"] = " ".join(["scripts/finetune_pays.py", *(argv or sys.argv[1:])])
    path = os.path.join(args.out, f"{args.name or args.family}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, default=float)
    print(json.dumps(result["held_out_metrics"], indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
