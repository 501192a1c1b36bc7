#!/usr/bin/env python3
"""Fine-tune a model from the command line, on one machine or many: the same engine function,
recipe, checkpoints, log and card as the QGIS training algorithms (geohazard:train*).

One process (CPU or one GPU)::

    .venv/bin/python scripts/finetune.py deep-offsets --folder pairs/ --output-model my_glacier \
        --models-dir ~/geohazard_models --epochs 20 --device cuda

All GPUs of one node (DistributedDataParallel, NCCL; each process takes its own GPU and draws
its own batches, so the batch size is per GPU)::

    torchrun --standalone --nproc_per_node=4 scripts/finetune.py dem-sr --dem lidar.tif \
        --output-model my_lidar_x4 --models-dir ~/geohazard_models --device cuda

Several nodes (run on each node, with the first node's address; NODE_RANK 0..N-1)::

    torchrun --nnodes=2 --nproc_per_node=4 --node_rank=$NODE_RANK \
        --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:29500 --rdzv_id=geohazard \
        scripts/finetune.py sar-to-optical --folder areas/ --output-model my_alps ...

On CPUs (gloo) leave ``--device cpu``. Only rank 0 validates, writes the checkpoint, the log,
the curves and the model (into ``--models-dir``, the folder QGIS reads as the user models
folder: ``<QGIS profile>/geohazard/models``); every rank prints the SHA-256 of its final weights,
which DistributedDataParallel keeps identical. Re-running the same command after an interruption
resumes from the checkpoint in ``<models-dir>/.training/<output-model>/``.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _plugin_on_path(root: str) -> None:
    """Make the checkout importable as ``geohazard`` (the venv's link, or a temporary one)."""
    plugins = os.path.join(root, ".venv", "qgis-plugins")
    if not os.path.exists(os.path.join(plugins, "geohazard")):
        import tempfile

        plugins = tempfile.mkdtemp()
        os.symlink(root, os.path.join(plugins, "geohazard"))
    sys.path.insert(0, plugins)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("family", choices=("dem-sr", "deep-offsets", "sar-to-optical"))
    ap.add_argument("--folder", default="", help="training folder (as the algorithms' FOLDER)")
    ap.add_argument("--dem", nargs="*", default=[], help="dem-sr: high-resolution DEMs")
    ap.add_argument(
        "--pair",
        nargs=3,
        action="append",
        default=[],
        metavar=("REFERENCE", "SECONDARY", "OFFSETS"),
        help="deep-offsets: a pair",
    )
    ap.add_argument(
        "--area",
        nargs=3,
        action="append",
        default=[],
        metavar=("SAR", "DEM", "OPTICAL"),
        help="sar-to-optical: an area",
    )
    ap.add_argument("--output-model", required=True)
    ap.add_argument("--models-dir", required=True, help="user models folder (written)")
    ap.add_argument("--base-model", default="default")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=0, help="per process; 0: the family's")
    ap.add_argument("--lr", type=float, default=0.0, help="0: the family's default")
    ap.add_argument("--validation-share", type=float, default=0.2)
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda")
    ap.add_argument("--patch", type=int, default=0, help="0: the family's default")
    ap.add_argument("--scale", type=int, default=4, help="dem-sr: 2 or 4")
    ap.add_argument("--fusion", default="late", help="sar-to-optical: default base model")
    ap.add_argument(
        "--ssim-weight", type=float, default=0.0, help="sar-to-optical: share of SSIM in the loss"
    )
    ap.add_argument("--log-csv", default="", help="CSV training log")
    ap.add_argument("--curves", default="", help="PNG of the curves")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--overwrite", action="store_true", help="replace an existing model")
    return ap.parse_args(argv)


# per family: default batch size, learning rate, patch (the algorithms' defaults)
DEFAULTS = {
    "dem-sr": (16, 1e-4, 0),
    "deep-offsets": (8, 1e-4, 64),
    "sar-to-optical": (24, 1e-5, 256),
}


def run(args: argparse.Namespace) -> dict:
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.models.training.finetune import FineTuneSettings

    rank = int(os.environ.get("RANK", "0"))
    say = print if rank == 0 else (lambda _m: None)
    rep = Reporter(info=say, warning=lambda m: say(f"WARNING: {m}"))
    batch, lr, patch = DEFAULTS[args.family]
    settings = FineTuneSettings(
        base_model=args.base_model,
        output_name=args.output_model,
        user_models=os.path.abspath(args.models_dir),
        epochs=args.epochs,
        batch_size=args.batch_size or batch,
        learning_rate=args.lr or lr,
        validation_share=args.validation_share,
        device=args.device,
        log_path=args.log_csv,
        curves_path=args.curves,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    patch = args.patch or patch
    if args.family == "dem-sr":
        from geohazard.engine.families.dem_sr.finetune import DemRecipe, dem_files, finetune_dem_sr

        paths = list(args.dem) + (dem_files(args.folder) if args.folder else [])
        return finetune_dem_sr(paths, settings, DemRecipe(scale=args.scale, patch=patch), rep)
    if args.family == "deep-offsets":
        from geohazard.engine.families.deep_offsets.finetune import (
            DeepOffsetPair,
            DeepOffsetRecipe,
            finetune_deep_offsets,
            pair_files,
        )

        pairs = [DeepOffsetPair(*p) for p in args.pair]
        pairs += pair_files(args.folder) if args.folder else []
        return finetune_deep_offsets(pairs, settings, DeepOffsetRecipe(patch=patch), rep)
    from geohazard.engine.families.sar_to_optical.finetune import (
        SarOpticalArea,
        SarOpticalRecipe,
        area_files,
        finetune_sar_to_optical,
    )

    areas = [SarOpticalArea(*a) for a in args.area]
    areas += area_files(args.folder) if args.folder else []
    recipe = SarOpticalRecipe(patch=patch, fusion=args.fusion, ssim_weight=args.ssim_weight)
    return finetune_sar_to_optical(areas, settings, recipe, rep)


def main(argv: list[str] | None = None) -> int:
    _plugin_on_path(ROOT)
    from geohazard.engine.core.errors import GeohazardError

    args = parse(argv)
    try:
        summary = run(args)
    except GeohazardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    losses = summary["losses"] or [float("nan")]
    print(
        f"rank {summary['rank']}/{summary['world']}: {summary['steps']} steps, loss of its first "
        f"batch {losses[0]:.6f}, of its last {losses[-1]:.6f}, final weights sha256 "
        f"{summary['final_weights_sha256']}",
        flush=True,
    )
    if summary["rank"] == 0:
        print(f"model: {summary['path']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
