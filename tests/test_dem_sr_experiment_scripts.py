"""The options used to measure the adversarial stage and generator size.

``scripts/train_dem_sr.py --num-feat/--num-block/--num-grow-ch`` change the generator and the
card says so; ``scripts/remeasure_dem_sr_checkpoint.py`` measures the generator as the run ended
rather than the best-validated one the training script keeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from geohazard.engine.families.dem_sr.task import TASK
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.models.training.checkpoint import load_checkpoint, prefixed

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=600, cwd=ROOT
    )


def _train_x2(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/train_dem_sr.py at x2 with its run folder in ``tmp_path``, and ``args``."""
    script = str(ROOT / "scripts" / "train_dem_sr.py")
    return _run(script, "--scale", "2", "--out-dir", str(tmp_path / "run"), *args)


def test_generator_size_options_and_last_generator_card(tmp_path: Path) -> None:
    proc = _train_x2(
        tmp_path,
        "--models-dir",
        str(tmp_path / "models"),
        "--pretrain-steps",
        "0",
        "--finetune-steps",
        "2",
        "--gan-steps",
        "2",
        "--batch-size",
        "2",
        "--num-feat",
        "16",
        "--num-block",
        "2",
        "--num-grow-ch",
        "8",
        "--no-real-data",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    card = json.loads((tmp_path / "models" / "dem_sr_x2.json").read_text())
    arch = card["architecture"]
    assert (arch["num_feat"], arch["num_block"], arch["num_grow_ch"]) == (16, 2, 8)
    assert card["description"].startswith("DEM super-resolution x2: larger RRDB")
    assert card["training"]["script"].endswith("--num-feat 16 --num-block 2 --num-grow-ch 8")
    best = ModelStore().load(TASK, str(tmp_path / "models" / "dem_sr_x2.safetensors"), "")
    assert best.card.parameters == sum(p.numel() for p in best.net.parameters())

    proc = _run(
        str(ROOT / "scripts" / "remeasure_dem_sr_checkpoint.py"),
        str(tmp_path / "run" / "checkpoint.safetensors"),
        str(tmp_path / "models" / "dem_sr_x2.safetensors"),
        str(tmp_path / "last"),
        "--no-real-data",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    last = ModelStore().load(TASK, str(tmp_path / "last" / "dem_sr_x2.safetensors"), "")
    tensors, meta = load_checkpoint(str(tmp_path / "run" / "checkpoint.safetensors"))
    expected = prefixed(tensors, "model.generator")
    for name, value in last.net.state_dict().items():
        assert torch.equal(value, expected[name]), name
    assert "as the run ended" in last.card.training["selection"]
    assert last.card.training["last_validation"] == meta["history"][-1]
    assert last.card.training["last_validation"]["stage"] == "gan"
    rows = json.loads((tmp_path / "last" / "dem_sr_x2.json").read_text())["held_out"]["by_area"]
    assert [r["degradation"] for r in rows] == ["block mean", "sensor blur"]
    assert rows[0]["metrics"]["model"]["rmse_m"] > 0


def test_generator_size_outside_the_bounds_is_one_sentence(tmp_path: Path) -> None:
    proc = _train_x2(
        tmp_path,
        "--num-block",
        "99",
    )
    assert proc.returncode == 2
    assert "'num_block' is 99, outside the range" in proc.stderr
    assert not (tmp_path / "run").exists()
