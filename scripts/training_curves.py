#!/usr/bin/env python3
"""Learning curves of a training run from its log (the shared training loop's lines), as a CSV
and a PNG: training loss per logged step, validation metric per validation, and the baselines
the validation reports beside it (e.g. the NCC prior's end-point error) as lines.

    .venv/bin/python scripts/training_curves.py .data/deep_small_s5/train.log \\
        --metric epe_px --baseline prior_epe_px --out docs/curves/deep_offsets_small

writes docs/curves/deep_offsets_small.csv and .png. Works on a log of a run still going.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))

STEP_LINE = re.compile(
    r" (?P<stage>\w+) (?P<step>\d+)/(?P<steps>\d+) (?P<losses>(?:\w+=[-\d.e+naif]+ ?)+)"
)


def parse_log(path: str) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """(loss rows, validation rows) of a log; a resumed run's repeated steps keep the last."""
    losses: dict[int, dict[str, float]] = {}
    validations: dict[int, dict[str, float]] = {}
    offset, stage_seen = 0, ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if " validation {" in line:
                entry = json.loads(line[line.index("{") :])
                step = int(entry["step"])
                validations[step] = {k: v for k, v in entry.items() if isinstance(v, (int, float))}
                continue
            m = STEP_LINE.search(line)
            if m:
                stage = m.group("stage")
                if stage_seen and stage != stage_seen:
                    offset = max(losses, default=0)
                stage_seen = stage
                row: dict[str, float] = {"step": float(offset + int(m.group("step")))}
                for part in m.group("losses").split():
                    key, value = part.split("=")
                    row[key] = float(value)
                losses[int(row["step"])] = row
    return [losses[k] for k in sorted(losses)], [validations[k] for k in sorted(validations)]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("log", help="train.log of a run")
    ap.add_argument("--metric", default="epe_px", help="validation metric to plot")
    ap.add_argument(
        "--baseline", action="append", default=[], help="validation key drawn as a line"
    )
    ap.add_argument("--loss", default="", help="loss key to plot (default: the first)")
    ap.add_argument("--title", default="")
    ap.add_argument("--out", required=True, help="output path without extension")
    args = ap.parse_args()

    from geohazard.engine.models.training.finetune import write_curves_png

    losses, validations = parse_log(args.log)
    if not losses and not validations:
        print(f"error: no training or validation lines in {args.log}", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    columns = sorted({k for row in losses + validations for k in row} - {"step"})
    with open(args.out + ".csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "step", *columns])
        for kind, rows in (("train", losses), ("validation", validations)):
            for row in rows:
                writer.writerow([kind, int(row["step"]), *(row.get(c, "") for c in columns)])
    loss_key = args.loss or next((k for k in losses[0] if k != "step"), "") if losses else ""
    baselines = {
        key: float(validations[-1][key])
        for key in args.baseline
        if validations and key in validations[-1]
    }
    write_curves_png(
        args.out + ".png",
        [(int(r["step"]), r[loss_key]) for r in losses if loss_key in r],
        [(int(r["step"]), r[args.metric]) for r in validations if args.metric in r],
        baselines,
        args.metric,
        args.title or os.path.basename(args.out),
    )
    print(f"{len(losses)} loss rows, {len(validations)} validations -> {args.out}.csv, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
