"""scripts/train_deep_offsets.py end to end on a tiny configuration: two runs from the same
command write weights with the same tensor hashes (the bundled model is reproduced the same
way), and --export-best writes an interim model, measured near and away from discontinuities,
from the checkpoint of a run. Needs the real rasters (scripts/fetch_real_data.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data" / "real"
sys.path.insert(0, str(ROOT / "scripts"))

from weights_sha256 import tensor_sha256  # noqa: E402

TINY = [
    "--train-scenes",
    "6",
    "--val-scenes",
    "2",
    "--test-per-cell",
    "1",
    "--scene-size",
    "128",
    "--steps",
    "12",
    "--batch-size",
    "2",
    "--patch",
    "48",
    "--validate-every",
    "6",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason="run scripts/fetch_real_data.py first"),
]


def _train(work: Path, models: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_deep_offsets.py"),
            "--work-dir",
            str(work),
            "--cache-dir",
            str(work.parent / "scenes"),
            "--models-dir",
            str(models),
            "--name",
            "deep_tiny",
            *TINY,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )


def test_same_command_same_weights_and_resume_and_export(tmp_path: Path) -> None:
    runs = {}
    for name in ("a", "b"):
        proc = _train(tmp_path / name, tmp_path / f"models_{name}")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        runs[name] = tensor_sha256(str(tmp_path / f"models_{name}" / "deep_tiny.safetensors"))
    assert runs["a"] == runs["b"]
    exported = _train(
        tmp_path / "a", tmp_path / "interim", "--export-best", str(tmp_path / "interim")
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    card = (tmp_path / "interim" / "deep_tiny.json").read_text()
    assert "Interim model" in card and "near_edges" in card
