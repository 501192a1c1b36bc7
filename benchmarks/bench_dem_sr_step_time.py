"""Seconds per training step of DEM SR generators of different sizes, interleaved in one process.

On a shared machine the s/step of separate runs depends on what else runs; here each size's
training step (generator forward + backward + Adam, L1 + slope L1, the ``finetune`` stage of
scripts/train_dem_sr.py) is timed in turn, round after round, so contention hits every size
alike, and the median per size is reported with its ratio to the first.

Usage: .venv/bin/python benchmarks/bench_dem_sr_step_time.py [--scale 2] [--rounds 5]
    [--steps 5] [--threads 1] [--blocks 4 8] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, choices=(2, 4), default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="steps per size per round")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--blocks", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from geohazard.engine.families.dem_sr.losses import gradient_l1
    from geohazard.engine.families.dem_sr.training import small_generator
    from geohazard.engine.models.archs.registry import build_network

    hr_patch = 64 if args.scale == 4 else 48
    lr_patch = hr_patch // args.scale
    nets, opts = {}, {}
    for blocks in args.blocks:
        cfg = dict(small_generator(args.scale), num_block=blocks)
        nets[blocks] = build_network(cfg).train()
        opts[blocks] = torch.optim.Adam(nets[blocks].parameters(), lr=2e-4)
    lr = torch.randn(args.batch_size, 1, lr_patch, lr_patch)
    hr = torch.randn(args.batch_size, 1, hr_patch, hr_patch)
    times: dict[int, list[float]] = {b: [] for b in args.blocks}
    for _ in range(args.rounds):
        for blocks in args.blocks:
            net, opt = nets[blocks], opts[blocks]
            t0 = time.perf_counter()
            for _ in range(args.steps):
                sr = net(lr)
                loss = (sr - hr).abs().mean() + 0.5 * gradient_l1(sr, hr)
                opt.zero_grad()
                loss.backward()
                opt.step()
            times[blocks].append((time.perf_counter() - t0) / args.steps)
    first = statistics.median(times[args.blocks[0]])
    result = {
        "scale": args.scale,
        "batch_size": args.batch_size,
        "hr_patch": hr_patch,
        "threads": args.threads,
        "sizes": [
            {
                "num_block": b,
                "parameters": sum(p.numel() for p in nets[b].parameters()),
                "median_s_per_step": round(statistics.median(times[b]), 3),
                "ratio_to_first": round(statistics.median(times[b]) / first, 2),
                "rounds_s_per_step": [round(t, 3) for t in times[b]],
            }
            for b in args.blocks
        ],
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
