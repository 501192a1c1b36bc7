"""Model cards and the store: hostile or broken cards refused before anything is allocated,
listing without torch, the shared card type written and read back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.families.dem_sr.task import TASK
from geohazard.engine.models.model_card import card_from_dict, read_card_file, write_card
from geohazard.engine.models.model_store import BUNDLED_DIR, ModelStore

TESTS = Path(__file__).resolve().parent
PLUGINS = TESTS.parent / ".venv" / "qgis-plugins"
X4 = Path(BUNDLED_DIR) / "dem_sr_x4.safetensors"


def _hostile(folder: Path, name: str, edit) -> str:  # type: ignore[no-untyped-def]
    weights = folder / f"{name}.safetensors"
    shutil.copy(X4, weights)
    card = json.loads(X4.with_suffix(".json").read_text())
    edit(card)
    weights.with_suffix(".json").write_text(json.dumps(card))
    return str(weights)


HOSTILE = {
    "blocks": (
        lambda c: c["architecture"].update(num_block=1000),
        "'num_block' is 1000, outside the range",
    ),
    "features": (
        lambda c: c["architecture"].update(num_feat=200000),
        "'num_feat' is 200000, outside the range",
    ),
    "discriminator": (
        lambda c: c.update(
            architecture={"type": "VGGStyleDiscriminator", "num_feat": 64, "input_size": 96}
        ),
        "names the architecture 'VGGStyleDiscriminator', which this task cannot run",
    ),
    "scale": (
        lambda c: c.update(scale=2),
        "says scale 2 but its network upsamples by 4",
    ),
    "tile": (lambda c: c.update(tile_size=10**9), "tile_size = 1000000000, outside"),
    "task": (lambda c: c.update(task="sar-to-optical"), "is a model for 'sar-to-optical'"),
    "not_a_card": (lambda c: c.clear(), "has no 'name' entry"),
}


def test_hostile_cards_refused_clearly_in_under_1_gib(tmp_path: Path) -> None:
    """Each card runs through the real loading path in a fresh process whose peak resident
    memory (VmHWM) is read at the end (torch itself takes a few hundred MB)."""
    paths = {name: _hostile(tmp_path, name, edit) for name, (edit, _) in HOSTILE.items()}
    script = f"""
import json, sys
sys.path.insert(0, {str(PLUGINS)!r})
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.families.dem_sr.task import TASK
out = {{}}
for name, path in json.loads(sys.argv[1]).items():
    try:
        ModelStore().load(TASK, path, "")
        out[name] = "LOADED"
    except GeohazardError as exc:
        out[name] = str(exc)
# VmHWM belongs to this process's own memory map (ru_maxrss would carry the forking
# pytest's peak over exec on Linux)
status = open("/proc/self/status").read()
out["peak_kib"] = int(status.split("VmHWM:")[1].split()[0])
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (_edit, message) in HOSTILE.items():
        assert message in result[name], (name, result[name])
        assert "\n" not in result[name] and "Traceback" not in result[name]
    assert result["peak_kib"] < 1024 * 1024, f"peak {result['peak_kib'] / 1024:.0f} MiB"


def test_listing_models_never_imports_torch(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["GEOHAZARD_BLOCK_MODULES"] = "torch"
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS / "import_blocker"), env.get("PYTHONPATH", "")])
    user = tmp_path / "user_models"
    user.mkdir()
    shutil.copy(X4.with_suffix(".json"), user / "mine.json")
    card = json.loads((user / "mine.json").read_text())
    card["name"] = "mine"
    (user / "mine.json").write_text(json.dumps(card))
    (user / "mine.safetensors").write_bytes(b"not read when listing")
    script = f"""
import sys
sys.path.insert(0, {str(PLUGINS)!r})
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.families.dem_sr.task import TASK
print(ModelStore({str(user)!r}).names(TASK.name), TASK.tile_size, TASK.overlap)
try:
    import torch
except ModuleNotFoundError:
    print("torch blocked")
print("torch" in sys.modules)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[:3] == [
        "['dem_sr_x2', 'dem_sr_x4', 'mine'] 256 32",
        "torch blocked",
        "False",
    ]


def test_card_round_trip_and_validation(tmp_path: Path) -> None:
    card = read_card_file(str(X4.with_suffix(".json")))
    assert card.task == TASK.name and card.scale == 4 and card.inputs[0].bands == ("elevation (m)",)
    assert card.held_out is not None and card.held_out.baseline == "spline_bp"
    assert {r["terrain"] for r in card.held_out.by_area} >= {"mountains", "coast"}
    path = tmp_path / "again.json"
    write_card(str(path), card)
    assert read_card_file(str(path)) == card
    broken = card.to_dict()
    broken["overlap"] = card.tile_size  # more than half the tile
    with pytest.raises(GeohazardError, match="gives overlap = 256, outside 0 to 128"):
        card_from_dict(broken, "x.json")
    broken = card.to_dict()
    broken["inputs"] = [{"role": "dem", "bands": "elevation"}]
    with pytest.raises(GeohazardError, match="has a 'bands' that is not a list"):
        card_from_dict(broken)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (5 * 1024 * 1024))
    with pytest.raises(GeohazardError, match="too large to be a card"):
        read_card_file(str(huge))


def test_truncated_or_padded_weights_refused_from_the_header(tmp_path: Path) -> None:
    for name, change in (("cut", lambda b: b[:-100]), ("padded", lambda b: b + b"\0" * 64)):
        weights = tmp_path / f"{name}.safetensors"
        weights.write_bytes(change(X4.read_bytes()))
        shutil.copy(X4.with_suffix(".json"), weights.with_suffix(".json"))
        with pytest.raises(GeohazardError, match="not a valid safetensors file"):
            ModelStore().check(TASK, str(weights))


def test_user_models_are_listed_after_bundled_and_saved_through_the_store(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "mine"))
    loaded = store.load(TASK, "default", TASK.default_model(SimpleNamespace(scale=2)))
    assert loaded.card.name == "dem_sr_x2"
    card = card_from_dict({**loaded.card.to_dict(), "name": "my_x2"})
    path = store.save(loaded.net, card)
    assert sorted(os.listdir(tmp_path / "mine")) == ["my_x2.json", "my_x2.safetensors"]
    assert [e.source for e in store.list(TASK.name)] == ["bundled", "bundled", "user"]
    again = store.load(TASK, "my_x2", "")
    assert again.path == path and again.card == card


def test_a_weights_write_that_does_not_read_back_saves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write the disk cut short (simulated: the real safetensors writer, then the file loses
    its last bytes) is caught by reading the header back; no card, no weights are left."""
    import safetensors.torch

    real_save = safetensors.torch.save_file

    def cut_short(tensors, path, metadata=None):  # noqa: ANN001, ANN202
        real_save(tensors, path, metadata=metadata)
        with open(path, "r+b") as fh:
            fh.truncate(os.path.getsize(path) - 100)

    monkeypatch.setattr(safetensors.torch, "save_file", cut_short)
    store = ModelStore(str(tmp_path / "mine"))
    loaded = store.load(TASK, "default", TASK.default_model(SimpleNamespace(scale=2)))
    card = card_from_dict({**loaded.card.to_dict(), "name": "cut_x2"})
    with pytest.raises(GeohazardError, match="truncated"):
        store.save(loaded.net, card)
    assert os.listdir(tmp_path / "mine") == []


def test_store_imports_exports_and_deletes_user_models_only(tmp_path: Path) -> None:
    from geohazard.engine.families import all_tasks, task_named

    assert list(all_tasks()) == ["deep-offset-tracking", "dem-super-resolution", "sar-to-optical"]
    assert task_named("dem-super-resolution") is TASK
    with pytest.raises(GeohazardError, match="Unknown model task 'dem'"):
        task_named("dem")
    bundled = ModelStore()
    loaded = bundled.load(TASK, "dem_sr_x2", "")
    source = bundled.save(
        loaded.net, card_from_dict({**loaded.card.to_dict(), "name": "shared_x2"}), str(tmp_path)
    )
    os.remove(os.path.splitext(source)[0] + ".json")  # the card embedded in the file serves
    store = ModelStore(str(tmp_path / "mine"))
    entry = store.import_model(TASK, source)
    assert entry.source == "user" and store.names(TASK.name)[-1] == "shared_x2"
    assert read_card_file(str(tmp_path / "mine" / "shared_x2.json")).name == "shared_x2"
    with pytest.raises(GeohazardError, match="already the name of one of your models"):
        store.import_model(TASK, source)
    exported = store.export_model(TASK.name, "shared_x2", str(tmp_path / "out"))
    assert ModelStore().check(TASK, exported).name == "shared_x2"
    with pytest.raises(GeohazardError, match="already exists"):
        store.export_model(TASK.name, "shared_x2", str(tmp_path / "out"))
    with pytest.raises(GeohazardError, match="bundled model of the plugin and cannot be deleted"):
        store.delete_model(TASK.name, "dem_sr_x4")
    store.delete_model(TASK.name, "shared_x2")
    assert os.listdir(tmp_path / "mine") == [] and "shared_x2" not in store.names(TASK.name)
    with pytest.raises(GeohazardError, match="no model named 'shared_x2'"):
        store.delete_model(TASK.name, "shared_x2")


def test_import_onto_a_full_disk_says_so_and_leaves_nothing(tmp_path: Path, small_disk) -> None:
    bundled = ModelStore()
    loaded = bundled.load(TASK, "dem_sr_x4", "")
    source = bundled.save(
        loaded.net, card_from_dict({**loaded.card.to_dict(), "name": "big_x4"}), str(tmp_path)
    )
    full = small_disk("256k")  # the weights are about 3 MB
    with pytest.raises(GeohazardError, match="could not be copied .* disk is not full"):
        ModelStore(full).import_model(TASK, source)
    assert os.listdir(full) == []
