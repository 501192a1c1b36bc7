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


FAMILIES = ("dem-sr", "deep-offsets", "sar-to-optical")


def _families() -> dict[str, tuple[object, type]]:
    """Per command-line family name: its descriptor and its recipe dataclass."""
    from geohazard.engine.families import family_module, family_packages

    return {
        stem.replace("_", "-"): (package.FAMILY, family_module(stem, "finetune").RECIPE)
        for stem, package in family_packages().items()
    }


def _flag(parameter: str) -> str:
    return "--" + parameter.lower().replace("_", "-")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; each family's recipe values are flags named after their parameters
    (``PATCH_SIZE``: ``--patch-size``), defaulting to the recipe's own defaults."""
    families = _families()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("family", choices=FAMILIES)
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
    ap.add_argument("--scale", type=int, default=4, help="dem-sr: 2 or 4")
    ap.add_argument("--fusion", default="late", help="sar-to-optical: default base model")
    ap.add_argument("--log-csv", default="", help="CSV training log")
    ap.add_argument("--curves", default="", help="PNG of the curves")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--overwrite", action="store_true", help="replace an existing model")
    from geohazard.engine.models.training.recipe_fields import recipe_values

    flags: dict[str, list[str]] = {}
    kinds: dict[str, type] = {}
    for name, (_family, recipe) in families.items():
        for v in recipe_values(recipe):
            flags.setdefault(v.parameter, []).append(
                f"{name}: {v.label}, {v.minimum:g}-{v.maximum:g}, default {v.default:g}"
            )
            kinds[v.parameter] = int if v.integer else float
    for parameter, helps in flags.items():
        names = [_flag(parameter)] + (["--patch"] if parameter == "PATCH_SIZE" else [])
        text = "; ".join(helps).replace("%", "%%")
        ap.add_argument(*names, dest=parameter, type=kinds[parameter], help=text)
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.families import family_module
    from geohazard.engine.models.training.finetune import FineTuneSettings
    from geohazard.engine.models.training.recipe_fields import recipe_from

    rank = int(os.environ.get("RANK", "0"))
    say = print if rank == 0 else (lambda _m: None)
    rep = Reporter(info=say, warning=lambda m: say(f"WARNING: {m}"))
    family, recipe_type = _families()[args.family]
    settings = FineTuneSettings(
        base_model=args.base_model,
        output_name=args.output_model,
        user_models=os.path.abspath(args.models_dir),
        epochs=args.epochs,
        batch_size=args.batch_size or family.batch_size,  # type: ignore[attr-defined]
        learning_rate=args.lr or family.learning_rate,  # type: ignore[attr-defined]
        validation_share=args.validation_share,
        device=args.device,
        log_path=args.log_csv,
        curves_path=args.curves,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    values = vars(args)
    stem = args.family.replace("-", "_")
    module = family_module(stem, "finetune")
    if args.family == "dem-sr":
        paths = list(args.dem) + (module.dem_files(args.folder) if args.folder else [])
        recipe = recipe_from(recipe_type, values, scale=args.scale)
        return module.finetune_dem_sr(paths, settings, recipe, rep)
    if args.family == "deep-offsets":
        pairs = [module.DeepOffsetPair(*p) for p in args.pair]
        pairs += module.pair_files(args.folder) if args.folder else []
        return module.finetune_deep_offsets(pairs, settings, recipe_from(recipe_type, values), rep)
    areas = [module.SarOpticalArea(*a) for a in args.area]
    areas += module.area_files(args.folder) if args.folder else []
    recipe = recipe_from(recipe_type, values, fusion=args.fusion)
    return module.finetune_sar_to_optical(areas, settings, recipe, rep)


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
