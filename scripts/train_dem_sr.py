#!/usr/bin/env python3
"""Train the bundled DEM super-resolution models (reproduces models/dem_sr_x2 and dem_sr_x4).

    .venv/bin/python scripts/train_dem_sr.py --scale 4 --out-dir out/train_x4
    .venv/bin/python scripts/train_dem_sr.py --scale 2 --out-dir out/train_x2 --resume

Everything is offline and seeded: stage 1 on the natural images shipped with scikit-image and
matplotlib (or --images FOLDER), stage 2 on the real DEMs of engine/dem/sample_data.py (minus the
held-out blocks) plus fractal terrain and any --dem GeoTIFFs. The result, with its model card
(recipe, held-out metrics against bicubic and nearest), is written to --models-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))


def _logged_minutes(log_path: str) -> float | None:
    """Wall minutes from the first to the last line of train.log over every (resumed) session
    of the run (lines start with HH:MM:SS; a run over midnight adds a day)."""
    try:
        with open(log_path, encoding="utf-8") as f:
            stamps = [line[:8] for line in f if line[2:3] == ":" and line[5:6] == ":"]
    except OSError:
        return None
    seconds = [int(t[:2]) * 3600 + int(t[3:5]) * 60 + int(t[6:8]) for t in stamps]
    total = 0
    for a, b in zip(seconds, seconds[1:]):
        total += (b - a) % 86400
    return round(total / 60, 1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, choices=(2, 4), required=True)
    parser.add_argument("--out-dir", required=True, help="checkpoints and logs")
    parser.add_argument(
        "--models-dir", default=None, help="where to write the weights and card (default: models/)"
    )
    parser.add_argument(
        "--images",
        default=None,
        help="folder of natural images for stage 1 (default: installed ones)",
    )
    parser.add_argument(
        "--dem", action="append", default=[], help="extra HR DEM GeoTIFF for stage 2 (repeatable)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="fetched real DEMs (scripts/fetch_real_data.py; default .data/real in the checkout)",
    )
    parser.add_argument(
        "--no-real-data",
        action="store_true",
        help="train and test without the fetched real DEMs (quick checks; not the bundled recipe)",
    )
    parser.add_argument(
        "--sensor-share",
        type=float,
        default=0.3,
        help="share of training pairs degraded by Gaussian blur before block means (default 0.3)",
    )
    parser.add_argument("--pretrain-steps", type=int, default=None)
    parser.add_argument("--finetune-steps", type=int, default=None)
    parser.add_argument("--gan-steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--num-feat",
        type=int,
        default=None,
        help="generator width: RRDBNet features (default 32, the bundled size)",
    )
    parser.add_argument(
        "--num-block",
        type=int,
        default=None,
        help="generator depth: RRDB blocks (default 4, the bundled size)",
    )
    parser.add_argument(
        "--num-grow-ch",
        type=int,
        default=None,
        help="RRDBNet growth channels of each dense block (default 16, the bundled size)",
    )
    parser.add_argument("--w-l1", type=float, default=None)
    parser.add_argument("--w-gradient", type=float, default=None)
    parser.add_argument("--w-feature", type=float, default=None)
    parser.add_argument("--w-adversarial", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu (default, as for the bundled models), cuda, cuda:N or auto",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in --out-dir"
    )
    parser.add_argument(
        "--stop",
        action="store_true",
        help="with --resume: train no further; write the best checkpointed generator (the card "
        "says where training stopped)",
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from geohazard.engine.core.errors import GeohazardError
    from geohazard.engine.families.dem_sr import recipe
    from geohazard.engine.families.dem_sr.card import dem_sr_card, held_out_limitations
    from geohazard.engine.families.dem_sr.natural_images import (
        folder_image_paths,
        installed_image_paths,
    )
    from geohazard.engine.families.dem_sr.training import TrainConfig, make_trainer, small_generator
    from geohazard.engine.io.raster_io import inspect_raster, open_band
    from geohazard.engine.models.archs.registry import check_arch_config
    from geohazard.engine.models.model_store import BUNDLED_DIR, ModelStore

    hr_patch = 64 if args.scale == 4 else 48
    cfg = TrainConfig(scale=args.scale, hr_patch=hr_patch, seed=args.seed, threads=args.threads)
    for name in (
        "pretrain_steps",
        "finetune_steps",
        "gan_steps",
        "batch_size",
        "w_l1",
        "w_gradient",
        "w_feature",
        "w_adversarial",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(cfg, name, value)
    for name in ("num_feat", "num_block", "num_grow_ch"):
        value = getattr(args, name)
        if value is not None:
            cfg.generator[name] = value
    try:
        check_arch_config(cfg.generator)
    except GeohazardError as exc:
        parser.error(str(exc))
    images = folder_image_paths(args.images) if args.images else installed_image_paths()
    data_dir = None if args.no_real_data else (args.data_dir or recipe.DEFAULT_DATA_DIR)
    extra = []
    for path in args.dem:
        with open_band(inspect_raster(path), 1) as reader:
            extra.append((reader.read(), os.path.basename(path)))
    os.makedirs(args.out_dir, exist_ok=True)
    log_file = open(os.path.join(args.out_dir, "train.log"), "a", encoding="utf-8")

    is_main = int(os.environ.get("RANK", "0")) == 0

    def log(msg: str) -> None:
        if not is_main:
            return
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    log(f"config {json.dumps(asdict(cfg))}")
    log(f"stage-1 images: {len(images)}")
    from geohazard.engine.core.device import resolve_device

    under_torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = None if under_torchrun and args.device != "cpu" else resolve_device(args.device)
    trainer = make_trainer(
        cfg,
        recipe.samplers(
            images,
            hr_patch,
            args.scale,
            cfg.elevation_bins,
            extra,
            args.seed,
            data_dir,
            args.sensor_share,
        ),
        recipe.validation_set(data_dir),
        args.out_dir,
        log=log,
        device=device,
    )
    if args.resume:
        trainer.resume()
    started = time.time()
    stopped = None
    if args.stop:
        stage = trainer.cfg.stages[min(trainer.stage_index, len(trainer.cfg.stages) - 1)]
        if trainer.stage_index < len(trainer.cfg.stages):
            stopped = (
                f"stopped by --stop at stage {stage.name}, step {trainer.step} of {stage.steps}"
            )
            log(stopped)
        net = trainer.best_model()
    else:
        net = trainer.run()
    minutes = (time.time() - started) / 60
    if trainer.rank != 0:
        return 0
    net = net.cpu()
    table = recipe.held_out_table(net, args.scale, data_dir)
    for row in table:
        log(f"held-out {json.dumps(row)}")
    metrics = table[0]["metrics"]
    name = f"dem_sr_x{args.scale}"
    n_params = sum(p.numel() for p in net.parameters())
    train_dems = "; ".join(
        f"{e.label} ({e.terrain}, {e.key})" for e in recipe.TERRAIN if e.role == "train"
    )
    command = (
        f"scripts/fetch_real_data.py, then scripts/train_dem_sr.py --scale {args.scale} "
        f"--out-dir out/train_x{args.scale}"
        + "".join(
            f" --{k.replace('_', '-')} {getattr(cfg, k)}"
            for k in ("pretrain_steps", "finetune_steps", "gan_steps")
        )
        + "".join(
            f" --{k.replace('_', '-')} {cfg.generator[k]}"
            for k in ("num_feat", "num_block", "num_grow_ch")
            if cfg.generator[k] != small_generator(args.scale)[k]
        )
    )
    training = {
        "script": command,
        "config": asdict(cfg),
        "stage_1_data": [os.path.basename(p) for p in images] if cfg.pretrain_steps else [],
        "stage_2_data": "Jacksboro fault DEM (USGS, matplotlib sample data, 3 arc-second) outside "
        "the held-out test and validation blocks (4 px buffer); topobathy.npz (2 arc-minute); "
        f"real DEMs of other regions: {train_dems} (the Sierra Nevada validation block "
        f"{recipe.SIERRA_VALIDATION} excluded); 16 seeded fractal terrains 256x256 "
        "(engine/dem/terrain.py)" + (f"; user DEMs {args.dem}" if args.dem else ""),
        "pairs": f"LR = mean of each {args.scale}x{args.scale} block of the HR patch; a share "
        f"{args.sensor_share} of the pairs mimics a coarser sensor instead (Gaussian blur of "
        f"sigma {args.scale}/2.355 HR px, then block means)",
        "sampling": "sources weighted (Jacksboro 0.45, topobathy 0.10, each real DEM 0.10, "
        f"fractal 0.15 in total); within a source, {cfg.elevation_bins} equal-width bins of "
        "patch mean elevation drawn uniformly (oversamples high terrain); random flips/rotations",
        "losses": "stage 1: L1. stage 2a (finetune): w_l1*L1 + w_gradient*slope-gradient L1. "
        "stage 2b (gan): + w_feature*discriminator feature matching + w_adversarial*GAN loss. "
        "Feature matching and slope L1 replace the VGG perceptual loss (no VGG weights offline).",
        "selection": "the generator with the lowest validation elevation RMSE (mean over the "
        "Jacksboro and Sierra Nevada validation blocks) over all validation points (every "
        "validate_every steps) is kept",
        "stopped_early": stopped,
        "best_validation": trainer.best,
        "validation_history": trainer.history,
        "device": (
            f"{trainer.device}, {trainer.world} process(es), {args.threads} CPU thread(s) each"
        ),
        "minutes": round(minutes, 1),
        "wall_minutes_all_sessions": _logged_minutes(os.path.join(args.out_dir, "train.log")),
        "input": "one-band DEM in metres, nodata as NaN; low-resolution pixels are treated as "
        "block means of the output pixels",
    }
    limitations = held_out_limitations(
        table,
        "Trained on real DEMs of mountains and ridge-and-valley hills (10-90 m) plus fractal "
        "terrain",
        recipe.SPLINE_WINS_WHY,
    )
    card = dem_sr_card(
        name,
        args.scale,
        cfg.generator,
        n_params,
        f"DEM super-resolution x{args.scale}: "
        + ("small" if cfg.generator == small_generator(args.scale) else "larger")
        + " RRDB generator (ESRGAN family) correcting a "
        "cubic spline with back-projection; trained on CPU.",
        training,
        recipe.HELD_OUT_DATA,
        metrics,
        recipe.HELD_OUT_NOTES,
        limitations,
        table,
    )
    beats = card.held_out.model_beats_baseline if card.held_out else False
    out = args.models_dir or BUNDLED_DIR
    ModelStore().save(net, card, out)
    log(f"wrote {name} to {out}; beats the spline with back-projection everywhere: {beats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
