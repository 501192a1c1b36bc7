#!/usr/bin/env python3
"""Train the four SARDINet variants (sar-only, early, late, intermediate) and write each with its
card through the model store (reproduces models/sardinet_*).

    # the bundled CPU models (about 10 minutes on 2 cores)
    nice -n 10 .venv/bin/python scripts/train_sar_to_optical.py --bundled --models-dir models
    # the paper's recipe on a GPU (lr 1e-5, batch 24, 256 px), one variant per call; a medium
    # network (about 4 MB a variant) fits the plugin zip, --full-size is the paper's (16 MB)
    .venv/bin/python scripts/train_sar_to_optical.py --device cuda --threads 8 --steps 3000 \\
        --fusions late --models-dir out/sardinet_gpu_models --out-dir out/sardinet_gpu \\
        --widths '{"cond_features": 48, "features": 128, "enc_mid": 192, "enc_out": 256}'

Data: the simulated SAR / real optical scenes of scripts/make_sar_optical_scenes.py (built and
prepared here when missing: --scenes, --prepared), split by whole source; or --prepared with
your own data from scripts/prepare_sar_optical.py. Held-out metrics (test split) are measured
for each variant next to the linear colour mapping of the SAR bands and written in the card.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))

FUSIONS = ("sar-only", "early", "late", "intermediate")
SMALL = {
    "cond_features": 24,
    "features": 48,
    "enc_mid": 64,
    "enc_out": 96,
    "dec1": 24,
    "dec2": 8,
    "inter_spatial1": 4,
    "inter_spatial2": 4,
}
SIMULATED_NOTE = (
    "SIMULATED SAR: the training and test SAR images are simulated (engine/simulate/"
    "sar_optical.py) from real DEMs and the land cover of real Sentinel-2 / Landsat 7 images; "
    "except Olinda, DEM and optical image are of different ground (the DEM drives the radar "
    "geometry, the optical image the land cover); the optical target is relief-shaded."
)


def ensure_data(args) -> str:  # type: ignore[no-untyped-def]
    prepared = args.prepared
    if os.path.exists(os.path.join(prepared, "dataset.json")):
        return prepared
    manifest = os.path.join(args.scenes, "manifest.json")
    if not os.path.exists(manifest):
        import make_sar_optical_scenes

        make_sar_optical_scenes.main(["--out", args.scenes])
    import prepare_sar_optical

    code = prepare_sar_optical.main(["--manifest", manifest, "--out", prepared, "--stride", "112"])
    if code:
        raise SystemExit(code)
    return prepared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenes", default=os.path.join(ROOT, "out", "sar_optical_scenes"))
    parser.add_argument("--prepared", default=os.path.join(ROOT, "out", "sar_optical_prepared"))
    parser.add_argument("--out-dir", default=os.path.join(ROOT, "out", "sardinet_training"))
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--fusions", nargs="+", default=list(FUSIONS), choices=FUSIONS)
    parser.add_argument("--bundled", action="store_true", help="the small CPU recipe")
    parser.add_argument("--full-size", action="store_true", help="the paper-size network")
    parser.add_argument(
        "--widths", default=None, help='JSON of SARDINet widths, e.g. {"features": 128}'
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None, help="default 24 (paper)")
    parser.add_argument("--lr", type=float, default=None, help="default 1e-5 (paper)")
    parser.add_argument("--crop", type=int, default=None, help="default 256")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, HERE)

    import numpy as np
    import torch
    from geohazard.engine.families.sar_to_optical.card import BASELINE, sardinet_card
    from geohazard.engine.families.sar_to_optical.data import PrepConfig, load_split
    from geohazard.engine.families.sar_to_optical.training import (
        SardinetHooks,
        SardinetTrainConfig,
        evaluate,
        fit_linear_colour_mapping,
        linear_colour_mapping,
        predict,
    )
    from geohazard.engine.models.model_store import ModelStore
    from geohazard.engine.models.training.loop import TrainingLoop

    torch.set_num_threads(args.threads)
    prepared = ensure_data(args)
    with open(os.path.join(prepared, "dataset.json"), encoding="utf-8") as f:
        meta = json.load(f)
    prep = PrepConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
    )
    train, val, test = (load_split(prepared, s) for s in ("train", "validation", "test"))
    print(
        f"patches: train {len(train['inputs'])}, validation {len(val['inputs'])}, "
        f"test {len(test['inputs'])}"
    )
    # recipe: the paper's defaults unless the small CPU recipe or flags say otherwise
    steps = args.steps or (150 if args.bundled else 20_000)
    batch = args.batch or (4 if args.bundled else 24)
    lr = args.lr or (1e-3 if args.bundled else 1e-5)
    crop = args.crop or (96 if args.bundled else 256)
    widths = {} if args.full_size else SMALL
    if args.widths:
        widths = json.loads(args.widths)
    coef = fit_linear_colour_mapping(train)
    baseline = evaluate(lambda x: linear_colour_mapping(coef, x), test)
    device = torch.device(args.device)
    areas = {a["name"]: a["split"] for a in meta["areas"]}
    test_areas = ", ".join(sorted(n for n, s in areas.items() if s == "test"))
    train_areas = ", ".join(sorted(n for n, s in areas.items() if s == "train"))
    results = {}
    for fusion in args.fusions:
        arch = {"type": "SARDINet", "fusion": fusion, **widths}
        cfg = SardinetTrainConfig(arch, steps, batch, lr, crop, max(steps // 8, 25), args.seed)
        hooks = SardinetHooks(cfg, train, val)
        out_dir = os.path.join(args.out_dir, fusion)
        loop = TrainingLoop(hooks, hooks.loop_config(), out_dir, device=device)
        if args.resume:
            loop.resume()
        t0 = time.time()
        net = loop.run()
        minutes = (time.time() - t0) / 60
        metrics = evaluate(lambda x, n=net, f=fusion: predict(n, x, f, device), test)
        glob = {k: v for k, v in metrics["global"].items() if k != "pixels"}
        base = {k: v for k, v in baseline["global"].items() if k != "pixels"}
        per_region = {f"{r}_{k}": v for r, m in metrics.items() for k, v in m.items()}
        name = "sardinet_" + fusion.replace("-", "_")
        card = sardinet_card(
            name=name,
            architecture=arch,
            parameters=sum(p.numel() for p in net.parameters()),
            description=(
                f"SARDINet ({fusion} fusion) translating Sentinel-1 VV/VH"
                f"{'' if fusion == 'sar-only' else ' and a DEM'} into an optical-like RGB image. "
                "Trained on SIMULATED SAR (see training.data); a demonstration model, "
                "retrain on real Sentinel-1/Sentinel-2 pairs for real use."
            ),
            training={
                "data": f"{SIMULATED_NOTE} Training areas: {train_areas}.",
                "recipe": cfg.as_dict() | {"loss": "masked MAE", "optimizer": "Adam"},
                "script": "scripts/train_sar_to_optical.py"
                + (" --bundled" if args.bundled else ""),
                "device": str(device),
                "minutes": round(minutes, 1),
                "prepared": meta["config"],
            },
            prep=prep,
            test_data=f"whole held-out areas: {test_areas} (simulated SAR)",
            metrics={"model": glob, BASELINE: base, "model_regions": per_region},
            notes=(
                "Metrics on images in 0..1: MSE, SSIM (Gaussian window), PSNR = 10 log10(1/MSE); "
                "per-distortion values in model_regions and docs/sar_optical_table1.md."
            ),
            limitations=(
                "Trained on simulated SAR over a handful of DEMs and one Sentinel-2 scene "
                "(Virginia coast land cover): expect colours of that scene, not of your area."
            ),
        )
        path = ModelStore().save(net.cpu(), card, args.models_dir)
        net.to(device)
        results[fusion] = metrics
        print(
            f"{fusion:>12}: test MSE {glob['mse']:.4f} SSIM {glob['ssim']:.3f} PSNR "
            f"{glob['psnr_db']:.2f} dB ({minutes:.1f} min) -> {path}"
        )
    print(
        f"{BASELINE:>12}: test MSE {baseline['global']['mse']:.4f} "
        f"SSIM {baseline['global']['ssim']:.3f} PSNR {baseline['global']['psnr_db']:.2f} dB"
    )
    with open(os.path.join(args.out_dir, "test_metrics.json"), "w", encoding="utf-8") as f:
        json.dump({"variants": results, BASELINE: baseline}, f, indent=2, default=float)
    del np
    return 0


if __name__ == "__main__":
    sys.exit(main())
