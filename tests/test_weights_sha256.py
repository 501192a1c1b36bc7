"""scripts/weights_sha256.py, the check that a training run reproduced bundled weights: equal
tensors hash equal whatever the embedded card says; any changed tensor byte changes the hash."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from weights_sha256 import main, tensor_sha256  # noqa: E402


def _weights(path: Path, minutes: str, bump: float = 0.0) -> str:
    rng = np.random.default_rng(0)
    tensors = {
        "conv.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
        "body.0.weight": rng.standard_normal((4, 4, 3, 3)).astype(np.float32),
    }
    tensors["conv.weight"][0, 0, 0, 0] += bump
    save_file(tensors, str(path), metadata={"card": f'{{"minutes": {minutes}}}'})
    return str(path)


def test_same_tensors_same_hash_despite_card_different_tensor_different_hash(
    tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    a = _weights(tmp_path / "a.safetensors", "2.1")
    b = _weights(tmp_path / "b.safetensors", "1.8")
    c = _weights(tmp_path / "c.safetensors", "2.1", bump=1e-6)
    assert Path(a).read_bytes() != Path(b).read_bytes()
    assert tensor_sha256(a) == tensor_sha256(b)
    assert tensor_sha256(a)[1] == 2
    assert tensor_sha256(a)[0] != tensor_sha256(c)[0]
    monkeypatch.setattr(sys, "argv", ["weights_sha256.py", a, b])
    assert main() == 0 and "same weights" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["weights_sha256.py", a, c])
    assert main() == 1 and "DIFFERENT weights" in capsys.readouterr().out
