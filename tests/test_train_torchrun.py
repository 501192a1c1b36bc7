"""Training under ``torchrun --nproc_per_node=2`` on the CPU (gloo), as a cluster user runs it.

scripts/finetune.py (the command the README gives for GPU nodes and clusters) fine-tunes the
bundled SAR-to-optical model on a tiny area in two processes: DistributedDataParallel keeps the
two ranks' weights identical (each prints the SHA-256 of its final parameters), each rank draws
its own batches (their first losses differ), the loss goes down, and only rank 0 writes the
log, the checkpoint and the model.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_sar_to_optical_train_qgis import write_area

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(
    r"rank (\d)/2: (\d+) steps, loss of its first batch ([\d.]+), of its last ([\d.]+), "
    r"final weights sha256 ([0-9a-f]{64})"
)


@pytest.mark.slow
def test_two_processes_train_in_step_and_only_rank_0_writes(tmp_path: Path) -> None:
    area = write_area(tmp_path / "area")
    models = tmp_path / "models"
    log = tmp_path / "log.csv"
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", str(ROOT / "scripts" / "finetune.py")]
        + ["sar-to-optical", "--folder", os.path.dirname(area["SAR"]), "--output-model", "ddp"]
        + ["--models-dir", str(models), "--device", "cpu", "--epochs", "5", "--batch-size", "2"]
        + ["--patch", "32", "--lr", "1e-3", "--log-csv", str(log)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ranks = {int(m[1]): m for m in LINE.finditer(proc.stdout)}
    assert sorted(ranks) == [0, 1], proc.stdout
    r0, r1 = ranks[0], ranks[1]
    assert r0[2] == r1[2] == "20"  # the same optimiser steps
    assert r0[5] == r1[5]  # identical weights on both ranks
    assert r0[3] != r1[3]  # different batches: each rank sees its own data
    # only rank 0 wrote: one model, one log with every step once, no checkpoint left
    assert sorted(os.listdir(models)) == ["ddp.json", "ddp.safetensors"]
    with open(log, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == list(range(0, 21))
    losses = [float(r["loss"]) for r in rows[1:]]
    assert sum(losses[-5:]) < 0.9 * sum(losses[:5])  # the loss went down
    val = [float(r["val_mse"]) for r in rows if r["val_mse"]]
    assert min(val[1:]) < val[0]  # and the held-out MSE below the base model's
