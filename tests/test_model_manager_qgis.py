"""The model manager dialog (Plugins > Geohazard > Model manager...) in a real QGIS: models per
task with their cards, import of a good weights file and refusal of bad ones (nothing copied),
export, and deletion of user models only."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QMessageBox

TASK = "dem-super-resolution"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A good model file (the bundled x2 under another name) with its card, outside the store."""
    from geohazard.engine.families.dem_sr.task import TASK as DEM
    from geohazard.engine.models.model_card import card_from_dict
    from geohazard.engine.models.model_store import ModelStore

    store = ModelStore()
    loaded = store.load(DEM, "dem_sr_x2", "")
    card = card_from_dict({**loaded.card.to_dict(), "name": "pytest_import_x2"})
    folder = tmp_path / "downloads"
    return Path(store.save(loaded.net, card, str(folder)))


def _dialog(qgis_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    from geohazard.ui.model_manager import ModelManagerDialog

    dialog = ModelManagerDialog(user_dir=str(tmp_path / "mine"))
    dialog.task_box.setCurrentIndex(dialog.task_box.findData(TASK))
    return dialog


def _names(dialog) -> list[str]:  # type: ignore[no-untyped-def]
    return [dialog.models.item(i).text() for i in range(dialog.models.count())]


def _bar_text(dialog) -> str:  # type: ignore[no-untyped-def]
    item = dialog.bar.currentItem()
    return item.text() if item is not None else ""


def test_lists_bundled_models_per_task_with_cards(qgis_app, tmp_path) -> None:
    dialog = _dialog(qgis_app, tmp_path)
    assert _names(dialog) == ["dem_sr_x2 (bundled)", "dem_sr_x4 (bundled)"]
    text = dialog.card.toPlainText()
    assert "dem_sr_x2" in text and "Held-out data" in text and "spline_bp" in text
    assert not dialog.delete_button.isEnabled()  # bundled models cannot be deleted
    dialog.task_box.setCurrentIndex(dialog.task_box.findData("sar-to-optical"))
    assert "sardinet_early (bundled)" in _names(dialog)


def test_import_good_file_then_export_then_delete(qgis_app, tmp_path, source, monkeypatch) -> None:
    dialog = _dialog(qgis_app, tmp_path)
    assert dialog.import_file(str(source))
    mine = tmp_path / "mine"
    assert sorted(os.listdir(mine)) == ["pytest_import_x2.json", "pytest_import_x2.safetensors"]
    assert (mine / "pytest_import_x2.safetensors").read_bytes() == source.read_bytes()
    assert _names(dialog)[-1] == "pytest_import_x2"
    assert dialog.selected() == ("pytest_import_x2", "user")
    assert "pytest_import_x2" in dialog.card.toPlainText()
    assert "Imported 'pytest_import_x2'" in _bar_text(dialog)
    # the inference algorithms' store sees it by name
    from geohazard.engine.models.model_store import ModelStore

    assert "pytest_import_x2" in ModelStore(str(mine)).names(TASK)
    # importing it again is refused: the name is taken
    assert not dialog.import_file(str(source))
    assert "already the name of one of your models" in _bar_text(dialog)

    out = tmp_path / "shared"
    path = dialog.export_to(str(out))
    assert path == str(out / "pytest_import_x2.safetensors")
    assert sorted(os.listdir(out)) == ["pytest_import_x2.json", "pytest_import_x2.safetensors"]
    assert json.loads((out / "pytest_import_x2.json").read_text())["name"] == "pytest_import_x2"
    assert dialog.export_to(str(out)) == "" and "already exists" in _bar_text(dialog)

    asked: list[str] = []

    def yes(parent, title, text, *args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    assert dialog.delete_button.isEnabled()
    QTest.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert asked and "pytest_import_x2" in asked[0]
    assert os.listdir(mine) == []
    assert "pytest_import_x2" not in _names(dialog)


def test_bad_files_are_refused_with_a_clear_message(qgis_app, tmp_path, source) -> None:
    dialog = _dialog(qgis_app, tmp_path)
    # a card whose architecture does not match the tensors
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(source, bad / "pytest_bad.safetensors")
    card = json.loads(source.with_suffix(".json").read_text())
    card["name"] = "pytest_bad"
    card["architecture"]["num_feat"] = card["architecture"]["num_feat"] * 2
    (bad / "pytest_bad.json").write_text(json.dumps(card))
    assert not dialog.import_file(str(bad / "pytest_bad.safetensors"))
    assert "do not match the architecture in its model card" in _bar_text(dialog)
    # a pickle file, a model of another task, a missing file
    pickle = bad / "weights.pth"
    pickle.write_bytes(b"\x80\x04not really")
    assert not dialog.import_file(str(pickle))
    assert "only safetensors weights are accepted" in _bar_text(dialog)
    from geohazard.engine.models.model_store import BUNDLED_DIR

    assert not dialog.import_file(os.path.join(BUNDLED_DIR, "sardinet_early.safetensors"))
    assert "is a model for 'sar-to-optical'" in _bar_text(dialog)
    # a bundled model's name is refused too
    assert not dialog.import_file(os.path.join(BUNDLED_DIR, "dem_sr_x4.safetensors"))
    assert "already the name of a bundled model" in _bar_text(dialog)
    assert not (tmp_path / "mine").exists() or os.listdir(tmp_path / "mine") == []
    # a bundled model cannot be deleted
    dialog.models.setCurrentRow(0)
    assert dialog.selected() == ("dem_sr_x2", "bundled")
    assert not dialog.delete_selected()
    assert "cannot be deleted" in _bar_text(dialog)
    assert os.path.exists(os.path.join(BUNDLED_DIR, "dem_sr_x2.safetensors"))
