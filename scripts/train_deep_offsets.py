#!/usr/bin/env python3
"""Train the deep offset tracker (CC-ResSiamNet) and write its weights and card through the store.

    .venv/bin/python scripts/fetch_real_data.py            # the real rasters, once (52 MB)
    .venv/bin/python scripts/train_deep_offsets.py --size small --work-dir out/deep_small
    .venv/bin/python scripts/train_deep_offsets.py --size large --device cuda --workers 14 \
        --train-scenes 6000 --steps 20000 --batch-size 16 --patch 192 --work-dir out/deep_large

Everything is offline and seeded. Training pairs are simulated from the train regions of
engine/simulate/splits.py (real optical bands, real DEMs through a radar model, simulated
terrain), validation pairs (model selection and sigma calibration) from the validation regions,
and the held-out test pairs, per displacement kind and magnitude regime, from the test regions,
which no training or selection step ever sees. The card reports held-out EPE and RMSE in pixels
next to the classical tracker at the same points. Scenes are cached in the work folder;
``--resume`` continues from its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


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

TEST_SEED = 2
VALIDATION_SEED0 = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=("small", "large"), default="small")
    parser.add_argument("--work-dir", required=True, help="scene cache, checkpoints and logs")
    parser.add_argument("--models-dir", default=None, help="where to write (default: models/)")
    parser.add_argument("--name", default=None, help="model name (default deep_offsets_<size>)")
    parser.add_argument("--data-dir", default=os.path.join(ROOT, ".data", "real"))
    parser.add_argument(
        "--cache-dir", default=None, help="scene cache (default: <work-dir>/scenes_<size>)"
    )
    parser.add_argument("--train-scenes", type=int, default=160)
    parser.add_argument("--val-scenes", type=int, default=12)
    parser.add_argument("--test-per-cell", type=int, default=4, help="test scenes per kind/regime")
    parser.add_argument("--scene-size", type=int, default=320)
    parser.add_argument(
        "--sharp-share",
        type=float,
        default=0.5,
        help="share of glacier, fault and landslide scenes with sharp discontinuities",
    )
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--validate-every", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="processes simulating scenes")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--scenes-only", action="store_true", help="simulate and cache the scenes, then stop"
    )
    parser.add_argument(
        "--evaluate-only",
        default=None,
        metavar="WEIGHTS",
        help="no training: measure this model on the held-out pairs and rewrite its card",
    )
    parser.add_argument(
        "--export-best",
        default=None,
        metavar="MODELS_DIR",
        help="no training: the best weights of the run's checkpoint so far, measured and written "
        "with their card into MODELS_DIR (an interim model of a run still going)",
    )
    parser.add_argument(
        "--stop-after-minutes",
        type=float,
        default=0.0,
        help="checkpoint and stop training after this long (exit code 3; continue with --resume)",
    )
    args = parser.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from geohazard.engine.core.device import resolve_device
    from geohazard.engine.core.errors import Cancelled
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.families.deep_offsets.card import deep_offsets_card
    from geohazard.engine.families.deep_offsets.dataset import build_scenes
    from geohazard.engine.families.deep_offsets.evaluate import (
        format_edge_table,
        format_table,
        held_out_metrics,
        where_it_loses,
    )
    from geohazard.engine.families.deep_offsets.training import (
        TrainConfig,
        calibrate_sigma,
        large_architecture,
        make_trainer,
        small_architecture,
        validate_scenes,
    )
    from geohazard.engine.models.model_store import BUNDLED_DIR, ModelStore
    from geohazard.engine.offsets.dense_prior import PriorConfig, channel_names
    from geohazard.engine.simulate import splits
    from geohazard.engine.simulate.displacement_kinds import KINDS
    from geohazard.engine.simulate.pair_sampler import SamplerConfig, held_out_seeds

    prior = PriorConfig()
    sampler = SamplerConfig(size=args.scene_size, sharp_share=args.sharp_share)
    n_prior = len(channel_names(prior))
    arch = small_architecture(n_prior) if args.size == "small" else large_architecture(n_prior)
    cfg = TrainConfig(
        architecture=arch,
        prior=prior,
        sampler=sampler,
        patch=args.patch,
        batch_size=args.batch_size,
        steps=args.steps,
        lr=args.lr,
        validate_every=args.validate_every,
        seed=args.seed,
    )
    os.makedirs(args.work_dir, exist_ok=True)
    log_file = open(os.path.join(args.work_dir, "train.log"), "a", encoding="utf-8")  # noqa: SIM115
    is_main = int(os.environ.get("RANK", "0")) == 0

    def log(msg: str) -> None:
        if is_main:
            line = f"{time.strftime('%H:%M:%S')} {msg}"
            print(line, flush=True)
            log_file.write(line + "\n")
            log_file.flush()

    started = time.time()
    log(f"config {json.dumps(asdict(cfg), default=str)}")
    sources = {s: splits.sources_for(s, args.data_dir, require_all=True) for s in splits.SPLITS}
    splits.check_disjoint(*sources.values())
    for split, group in sources.items():
        log(f"{split}: " + ", ".join(f"{s.name} ({s.region})" for s in group))
    cache = args.cache_dir or os.path.join(args.work_dir, f"scenes_{args.scene_size}")
    train_design = [(args.seed * 10_000_000 + i, None, None) for i in range(args.train_scenes)]
    train = build_scenes(
        sources["train"],
        train_design[:1] if args.export_best else train_design,
        sampler,
        prior,
        os.path.join(cache, "train"),
        args.workers,
        log,
    )
    validation = build_scenes(
        sources["validation"],
        [(VALIDATION_SEED0 + i, None, None) for i in range(args.val_scenes)],
        sampler,
        prior,
        os.path.join(cache, "validation"),
        args.workers,
        log,
    )
    test_design = held_out_seeds(TEST_SEED, KINDS, args.test_per_cell)
    test = build_scenes(
        sources["test"], test_design, sampler, prior, os.path.join(cache, "test"), args.workers, log
    )
    data_minutes = (time.time() - started) / 60
    log(f"scenes ready: {len(train)} train, {len(validation)} validation, {len(test)} test")
    if args.scenes_only:
        return 0

    if args.evaluate_only:
        return _evaluate_only(args.evaluate_only, test, log)
    under_torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = None if under_torchrun and args.device != "cpu" else resolve_device(args.device)
    trainer = make_trainer(
        cfg, train, validation, os.path.join(args.work_dir, "run"), log=log, device=device
    )
    if args.resume or args.export_best:
        trainer.resume()
    t0 = time.time()
    if args.stop_after_minutes > 0:
        deadline = t0 + 60 * args.stop_after_minutes
        trainer.rep = Reporter(is_canceled=lambda: time.time() > deadline)
    try:
        net = trainer.best_model() if args.export_best else trainer.run()
    except Cancelled:
        log(
            f"stopped at step {trainer.step} after {args.stop_after_minutes} min; checkpoint "
            "written: run again with --resume to continue"
        )
        return 3
    train_minutes = (time.time() - t0) / 60
    if not is_main:
        return 0
    net = net.eval()  # calibration and held-out evaluation on the training device
    sigma_scale = calibrate_sigma(net, validation)
    val = validate_scenes(net, validation)
    log(f"best validation {json.dumps(val)}; sigma scale {sigma_scale:.3f}")
    groups = held_out_metrics(net, test, sigma_scale)
    table = format_table(groups) + "\n\n" + format_edge_table(groups)
    log("held-out test pairs (RMSE in pixels):\n" + table)
    losses = where_it_loses(groups)
    trained_max = sampler.max_px + sampler.background_px * float(np.sqrt(2))
    name = args.name or f"deep_offsets_{args.size}"
    parameters = sum(p.numel() for p in net.parameters())
    test_regions = ", ".join(f"{s.name} ({s.region})" for s in sources["test"])
    card = deep_offsets_card(
        name=name,
        architecture=arch,
        prior=prior,
        parameters=parameters,
        description=(
            f"CC-ResSiamNet ({args.size}, {parameters / 1e6:.2f} M weights): dense east/north "
            "offsets between two SAR amplitude images from the images and the classical "
            "multi-window NCC offsets, with a per-pixel 1-sigma. Trained on simulated pairs only."
            + (
                f" Interim model: the best validation within the first {trainer.steps_done} of "
                f"the run's {cfg.steps} steps."
                if args.export_best
                else ""
            )
        ),
        training={
            "data": {
                "train_sources": [f"{s.name} ({s.region})" for s in sources["train"]],
                "validation_sources": [f"{s.name} ({s.region})" for s in sources["validation"]],
                "scenes": {"train": len(train_design), "validation": len(validation)},
                "simulator": "engine/simulate (pair_sampler, speckle_pair, displacement_kinds)",
                "sampler": asdict(sampler),
                "real_files": "scripts/fetch_real_data.py (engine/simulate/real_sources.py)",
            },
            "recipe": {
                "steps": cfg.steps,
                "steps_done": trainer.steps_done,
                "batch_size": cfg.batch_size,
                "patch": cfg.patch,
                "lr": cfg.lr,
                "weight_decay": cfg.weight_decay,
                "huber_px": cfg.huber_px,
                "w_sigma": cfg.w_sigma,
                "optimiser": "AdamW, one-cycle schedule",
                "augmentation": "flips and 90-degree rotations with offsets transformed",
                "seed": cfg.seed,
            },
            "best_validation": trainer.best,
            "script": "scripts/train_deep_offsets.py " + " ".join(sys.argv[1:]),
            "device": str(device or "cuda (torchrun)"),
            "minutes": {"scenes": round(data_minutes, 1), "training": round(train_minutes, 1)},
        },
        test_data=(
            f"{len(test)} simulated pairs ({args.test_per_cell} per displacement kind and "
            f"magnitude regime, {args.scene_size - 2 * prior.margin} px) from regions never used "
            f"in training or model selection: {test_regions}"
        ),
        groups=groups,
        sigma_scale=sigma_scale,
        trained_max_px=trained_max,
        notes=(
            "EPE and RMSE of the error vector in pixels. 'every pixel': over all valid pixels, "
            "the network against the classical offsets (windows "
            f"{list(prior.window_sizes)} px, step {prior.step}) interpolated bilinearly. "
            "'centres': the classical tracker with its usual settings (windows 32, 64, 128 px, "
            "step 16, search 16, 2-sigma) at the window centres where it found a match, and the "
            "network at the same pixels. Near edges: pixels within 12 px of a discontinuity of the "
            "true field (motion changing by more than 0.25 px per px); away: beyond 24 px; there "
            "the classical tracker runs with windows of 32 and 64 px at step 8. Regimes: subpixel "
            f"peak motion 0.05-1 px, multipixel 1-{sampler.max_px:g} px. "
            + (
                "Where the model is worse than its prior or the classical tracker: "
                + "; ".join(losses)
                + "."
                if losses
                else "The model is no worse than its prior and the classical tracker in every "
                "kind, regime and zone."
            )
        ),
        limitations=(
            "Trained on simulated pairs (real optical and DEM textures, simulated speckle and "
            f"motion); motions beyond {trained_max:.1f} px, other speckle statistics or strong "
            "radiometric change between the dates are outside what it has seen: check against "
            "the classical tracker there. The uncertainty is calibrated on simulated validation "
            "pairs."
        ),
    )
    models_dir = args.export_best or args.models_dir or BUNDLED_DIR
    path = ModelStore(None).save(net, card, models_dir)
    with open(os.path.join(args.work_dir, "held_out.md"), "w", encoding="utf-8") as fh:
        fh.write(table + "\n")
    log(f"wrote {path} ({parameters} weights); total {(time.time() - started) / 60:.1f} min")
    return 0


def _evaluate_only(weights: str, test: list, log) -> int:  # type: ignore[no-untyped-def,type-arg]
    """Re-measure a trained model on the held-out pairs; its card keeps everything else."""
    from dataclasses import replace

    from geohazard.engine.families.deep_offsets.card import held_out
    from geohazard.engine.families.deep_offsets.evaluate import (
        format_edge_table,
        format_table,
        held_out_metrics,
    )
    from geohazard.engine.families.deep_offsets.task import TASK
    from geohazard.engine.models.model_store import ModelStore

    loaded = ModelStore(None).load(TASK, weights, "")
    sigma_scale = float(loaded.card.normalisation.params.get("sigma_scale", 1.0))
    groups = held_out_metrics(loaded.net.eval(), test, sigma_scale)
    log(
        "held-out test pairs (RMSE in pixels):\n"
        + format_table(groups)
        + "\n\n"
        + format_edge_table(groups)
    )
    old = loaded.card.held_out
    held = held_out(groups, old.data if old else "held-out pairs", old.notes if old else "")
    card = replace(loaded.card, held_out=held)
    path = ModelStore(None).save(loaded.net, card, os.path.dirname(os.path.abspath(weights)))
    log(f"rewrote the card of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
