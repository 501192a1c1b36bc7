#!/usr/bin/env python3
"""Why fine-tuning the bundled deep offset tracker ties with it: checks on the WEST part only.

Reads the west pair and targets that ``scripts/finetune_pays.py offsets`` wrote
(``<out>/offsets/west_*.tif``) and never anything of the held-out east:

1. what the NCC prior's own channels could give: end-point error (EPE) and Huber loss of the
   combined prior, of its 32 px and 64 px windows, and of a least-squares linear mix of the
   three (fitted on the west itself: what a per-pixel reweighting of the prior could reach);
2. how alive the bundled model's correction branch is: mean |activation| of the full-resolution
   fusion and decoder outputs, and mean |output - prior| (px), on a batch of training crops;
3. with ``--steps N``: N optimiser steps on the training blocks (the blocks and crops of
   engine/families/deep_offsets/finetune.py), printing every 50 steps the training Huber loss of the
   model, of the prior and of the prior's 32 px channel, and the validation EPE.
   ``--variant all``: every layer at ``--lr``; ``late10``: the full-resolution fusion, the last
   decoder level and the head at 10 x ``--lr``, the rest at ``--lr``.

    nice -n 15 .venv/bin/python scripts/deep_offsets_finetune_check.py --steps 150 --variant late10
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LATE = ("head", "decoder.0", "fusion.0")


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, HERE)
    from finetune_pays import _plugin_on_path

    _plugin_on_path(ROOT)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--folder", default=os.path.join(ROOT, "out", "finetune_pays", "offsets"))
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--variant", choices=("all", "late10"), default="all")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--huber-px", type=float, default=0.1)
    args = ap.parse_args(argv)
    import numpy as np
    import torch
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.families.deep_offsets.finetune import (
        DeepOffsetPair,
        read_pair,
        split_scene,
    )
    from geohazard.engine.families.deep_offsets.task import TASK, prior_config
    from geohazard.engine.families.deep_offsets.training import (
        DeepOffsetHooks,
        TrainConfig,
        masked_huber,
        validate_scenes,
    )
    from geohazard.engine.models.model_store import ModelStore

    torch.set_num_threads(1)
    torch.manual_seed(0)
    base = ModelStore(os.path.join(ROOT, "out", "no_user_models")).load(
        TASK, "default", TASK.default_model(None)
    )
    prior_cfg = prior_config(base.card)
    files = [os.path.join(args.folder, f"west_{k}.tif") for k in ("reference", "secondary")]
    pair = DeepOffsetPair(*files, os.path.join(args.folder, "west_offsets.tif"))
    scene = read_pair(pair, prior_cfg, Reporter())
    # 1. the prior's own channels, on every valid west pixel
    p, (tx, ty), ok = scene.prior, scene.truth, scene.valid

    def huber(d: np.ndarray, beta: float = 0.1) -> np.ndarray:
        a = np.abs(d)
        return np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)

    def report(name: str, dx: np.ndarray, dy: np.ndarray) -> None:
        e = np.hypot(dx - tx[ok], dy - ty[ok])
        h = (huber(dx - tx[ok]) + huber(dy - ty[ok])).mean()
        print(f"{name}: EPE {e.mean():.4f} px, RMSE {np.sqrt((e**2).mean()):.4f} px, Huber {h:.4f}")

    for name, (ix, iy) in (
        ("prior combined", (0, 1)),
        ("prior 32 px", (2, 3)),
        ("prior 64 px", (5, 6)),
    ):
        report(name, p[ix][ok], p[iy][ok])
    mix = []
    for axis, chans in ((tx, (0, 2, 5)), (ty, (1, 3, 6))):
        design = np.stack([p[c][ok] for c in chans] + [np.ones(int(ok.sum()))], 1)
        coef, *_ = np.linalg.lstsq(design, axis[ok], rcond=None)
        mix.append(design @ coef)
        print(f"  linear mix coefficients (combined, 32, 64, 1): {np.round(coef, 3).tolist()}")
    report("linear mix of the prior's channels (fitted on these pixels)", *mix)
    # 2. the correction branch of the bundled model
    train, val, _ = split_scene(scene, 128, 0.2, 0)
    cfg = TrainConfig(
        architecture=dict(base.card.architecture),
        prior=prior_cfg,
        patch=64,
        batch_size=8,
        steps=max(args.steps, 4),
        lr=args.lr,
    )
    hooks = DeepOffsetHooks(cfg, train, val)
    hooks.start_stage("train", 0, 0)
    net = base.net.train()
    acts: dict[str, float] = {}
    handles = [
        net.get_submodule(n).register_forward_hook(
            lambda m, i, o, n=n: acts.__setitem__(n, float(o.detach().abs().mean()))
        )
        for n in ("fusion.0", "decoder.0")
    ]
    b = hooks.batch("train", 0)
    with torch.no_grad():
        out = net(b["reference"], b["secondary"], b["prior"])
    for h in handles:
        h.remove()
    resid = float((out[:, :2] - b["prior"][:, :2]).abs().mean())
    print(
        f"bundled model on 8 training crops: mean |fusion.0| {acts['fusion.0']:.4f}, "
        f"|decoder.0| {acts['decoder.0']:.5f}, |output - prior| {resid:.4f} px, "
        f"mean |head weight| {float(net.head.weight.detach().abs().mean()):.4f}"
    )
    if not args.steps:
        return 0
    # 3. a few optimiser steps
    late = [q for n, q in net.named_parameters() if n.startswith(LATE)]
    rest = [q for n, q in net.named_parameters() if not n.startswith(LATE)]
    factor = 10.0 if args.variant == "late10" else 1.0
    groups = [{"params": late, "lr": args.lr * factor}, {"params": rest, "lr": args.lr}]
    opt = torch.optim.AdamW(groups, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, [g["lr"] for g in groups], total_steps=args.steps, pct_start=0.05
    )
    v = validate_scenes(net, val)
    print(f"validation EPE at the start {v['epe_px']:.4f} px (prior {v['prior_epe_px']:.4f})")
    window: list[tuple[float, float, float]] = []
    for step in range(1, args.steps + 1):
        b = hooks.batch("train", step)
        out = net(b["reference"], b["secondary"], b["prior"])
        loss = masked_huber(out[:, :2], b["truth"], b["valid"], args.huber_px)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            loss01 = masked_huber(out[:, :2], b["truth"], b["valid"], 0.1)
            prior01 = masked_huber(b["prior"][:, :2], b["truth"], b["valid"], 0.1)
            c32 = masked_huber(b["prior"][:, 2:4], b["truth"], b["valid"], 0.1)
        window.append((float(loss01), float(prior01), float(c32)))
        if step % 50 == 0 or step == args.steps:
            m = np.mean(window, 0)
            window = []
            v = validate_scenes(net, val)
            net.train()
            print(
                f"step {step}: training Huber (0.1 px) model {m[0]:.4f}, prior {m[1]:.4f}, "
                f"prior's 32 px channel {m[2]:.4f}; validation EPE {v['epe_px']:.4f} px "
                f"(prior {v['prior_epe_px']:.4f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
