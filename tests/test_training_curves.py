"""scripts/training_curves.py turns a training log of the shared loop into a CSV and a PNG,
keeping the last of repeated steps (a resumed run logs them again)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOG = """00:01:00 config {"steps": 100}
00:01:05 train 25/100 loss=0.5000 huber=0.4000 (0.50 s/step)
00:01:10 train 50/100 loss=0.4000 huber=0.3000 (0.50 s/step)
00:01:20 validation {"stage": "train", "step": 50, "epe_px": 0.3, "prior_epe_px": 0.4}
00:02:00 train 50/100 loss=0.3900 huber=0.2900 (0.50 s/step)
00:02:30 train 75/100 loss=0.2000 huber=0.1000 (0.50 s/step)
00:02:40 validation {"stage": "train", "step": 100, "epe_px": 0.2, "prior_epe_px": 0.4}
"""


def test_curves_from_a_resumed_log(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(LOG)
    out = tmp_path / "curves" / "run"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "training_curves.py"),
            str(log),
            "--baseline",
            "prior_epe_px",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(open(f"{out}.csv", encoding="utf-8")))
    train = [(r["step"], r["loss"]) for r in rows if r["kind"] == "train"]
    assert train == [("25", "0.5"), ("50", "0.39"), ("75", "0.2")]
    assert [r["epe_px"] for r in rows if r["kind"] == "validation"] == ["0.3", "0.2"]
    assert Path(f"{out}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_log_without_training_lines_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "empty.log"
    log.write_text("nothing here\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "training_curves.py"), str(log), "--out", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "no training or validation lines" in proc.stderr
