"""Every bundled model loads through the store with the recorded tensors: the SHA-256 of each
tensor (name, dtype, shape and bytes) of ``models/*.safetensors`` as loaded into its network
equals the one in tests/data/bundled_tensors.json, and the files hold exactly those tensors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from fixtures_io import recorded
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.stem for p in (ROOT / "models").glob("*.safetensors"))


def _sha(array: np.ndarray) -> str:
    digest = hashlib.sha256(f"{array.dtype}:{array.shape}:".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _loaded_hashes(name: str) -> dict[str, str]:
    from geohazard.engine.families import task_named
    from geohazard.engine.models.model_store import ModelStore

    store = ModelStore(None)
    card = store.read_card(str(ROOT / "models" / f"{name}.safetensors"))
    loaded = store.load(task_named(card.task), name, name)
    return {k: _sha(v.detach().cpu().numpy()) for k, v in sorted(loaded.net.state_dict().items())}


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, str]]:
    return recorded("bundled_tensors.json", {n: _loaded_hashes(n) for n in BUNDLED})


def test_the_bundled_models_are_the_recorded_ones(expected) -> None:
    assert BUNDLED == sorted(expected)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_loads_with_the_recorded_tensors(expected, name: str) -> None:
    assert _loaded_hashes(name) == expected[name]
    in_file = load_file(str(ROOT / "models" / f"{name}.safetensors"))
    assert {k: _sha(v) for k, v in in_file.items()} == {
        k: v for k, v in expected[name].items() if k in in_file
    }
