"""The training dialog (Plugins > Geohazard > Train a model...) in a real QGIS, offscreen: filled
through its widgets, a short real DEM fine-tuning in a background task while the event loop keeps
turning (measured), live curves from the log, the new model's card, the model offered as MODEL
by the inference algorithm and run by it; cancel and resume to the same number of steps."""

from __future__ import annotations

import csv
import os
import shutil
import statistics
import time
from pathlib import Path

import pytest
import rasterio
from dem_rasters import utm_dem
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QEventLoop, Qt, QTimer
from qgis.PyQt.QtTest import QTest

TRAIN = "geohazard:traindemsuperresolution"
SR = "geohazard:demsuperresolution"
STEPS = 13  # 1 epoch, batch 2, 16 px patches on a 96x96 DEM (as tests/test_dem_sr_train_qgis.py)
# The longest the GUI may go without an event-loop turn while training. The longest measured
# (0.7 s, on 2 shared cores) is when the task first imports torch; a matplotlib redraw of the
# curves took 0.5-1.5 s there, hence the QPainter plot.
MAX_GAP_S = 1.5


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    training = os.path.join(folder, ".training")
    if os.path.isdir(training):
        for name in os.listdir(training):
            if name.startswith("pytest_"):
                shutil.rmtree(os.path.join(training, name))


@pytest.fixture
def layer(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "in").mkdir()
    path = utm_dem(tmp_path / "in" / "lidar.tif", shape=(96, 96), seed=11)
    lyr = QgsRasterLayer(path, "pytest lidar")
    assert lyr.isValid()
    QgsProject.instance().addMapLayer(lyr)
    yield lyr
    QgsProject.instance().removeMapLayer(lyr.id())


class Turns:
    """Counts event-loop turns with a 20 ms timer; the longest gap between turns."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.times.append(time.monotonic())

    def gaps(self, over: float) -> list[tuple[float, float]]:
        """(seconds since the first turn, gap) of the gaps longer than ``over``."""
        t0 = self.times[0]
        return [(a - t0, b - a) for a, b in zip(self.times, self.times[1:]) if b - a > over]

    def intervals(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:])]

    @property
    def max_gap(self) -> float:
        return max(self.intervals())


def spin_until(done, timeout_s: float, turns: Turns | None = None) -> None:  # type: ignore[no-untyped-def]
    """Run the Qt event loop (as QGIS does) until ``done()`` or the timeout."""
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(50)
    check.timeout.connect(lambda: loop.quit() if done() else None)
    check.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if turns is not None:
        turns.timer.start()
    loop.exec()
    check.stop()
    if turns is not None:
        turns.timer.stop()
    assert done(), f"not done after {timeout_s} s"


def fill(dialog, layer, name: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    """Choose the DEM task and type the values into the dialog's widgets."""
    dialog.task_box.setCurrentIndex(dialog.task_box.findData(TRAIN))
    f = dialog.fields
    f["INPUT"].widget.setCheckedItems([layer.name()])
    for key, value in (("EPOCHS", 1), ("BATCH_SIZE", 2), ("PATCH_SIZE", 16), ("SCALE", 4)):
        f[key].widget.setValue(value)
    f["ADVERSARIAL_SHARE"].widget.setValue(0.2)
    f["DEVICE"].widget.setCurrentIndex(f["DEVICE"].widget.findText("cpu"))
    f["LOG"].widget.setFilePath(str(log))
    dialog.base_model.setEditText("dem_sr_x4")
    dialog.output_model.clear()
    QTest.keyClicks(dialog.output_model, name)


def log_steps(path: Path) -> list[int]:
    """The optimiser steps in the log (rows with a training loss)."""
    with open(path, newline="") as fh:
        return [int(r["step"]) for r in csv.DictReader(fh) if r.get("loss")]


@pytest.mark.slow
def test_dialog_trains_in_the_background_then_the_model_runs(
    plugin, user_models, layer, tmp_path
) -> None:
    from geohazard.engine.models.model_card import read_card_file
    from geohazard.ui.training_dialog import TrainingDialog

    dialog = TrainingDialog()
    dialog.show()
    assert dialog.task_box.findData(TRAIN) >= 0
    fill(dialog, layer, "pytest_gui_x4", tmp_path / "log.csv")
    # the form comes from the algorithm's definitions, with its defaults
    assert dialog.fields["LEARNING_RATE"].value() == pytest.approx(1e-4)
    assert dialog.fields["W_GRADIENT"].value() == pytest.approx(0.5)
    params = dialog.parameters()
    assert params["INPUT"] == [layer.id()] and params["OUTPUT_MODEL"] == "pytest_gui_x4"
    assert params["BASE_MODEL"] == "dem_sr_x4" and params["DEVICE"] == 1

    seen: dict[str, object] = {}

    def watch() -> None:  # what the dialog shows while it trains
        if dialog.running():
            seen["cancel"] = dialog.cancel_button.isEnabled()
            seen["form"] = dialog.form_area.isEnabled()
            text = dialog.status.text()
            # a time left from a measured rate ("about 40 s", or "under a second" once this
            # short run is nearly done on an idle machine), not the first "estimating"
            if "time left: about" in text or "time left: under a second" in text:
                seen["eta"] = text
            if dialog.curves.log.validation:
                seen["live"] = len(dialog.curves.log.validation)

    watcher = QTimer()
    watcher.timeout.connect(watch)
    watcher.start(30)
    turns = Turns()
    QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    assert dialog.running()
    spin_until(lambda: not dialog.running(), 300, turns)
    watcher.stop()

    assert "saved" in dialog.status.text(), dialog.log.toPlainText()
    assert seen.get("cancel") is True and seen.get("form") is False and "eta" in seen
    # the event loop kept turning: no long freeze (training in the GUI thread would freeze it
    # for the whole run, about a minute here), and steady turns in between
    print(
        f"event loop while training: {len(turns.times)} turns in "
        f"{turns.times[-1] - turns.times[0]:.1f} s, longest gap {turns.max_gap:.3f} s, median "
        f"{statistics.median(turns.intervals()):.3f} s"
    )
    assert len(turns.times) > 100, len(turns.times)
    assert turns.max_gap < MAX_GAP_S, turns.gaps(0.25)
    assert statistics.median(turns.intervals()) < 0.05
    assert dialog.bar.value() == 1000
    # the curves followed the log (the engine rewrote it after each validation)
    assert [s for s, _ in dialog.curves.log.losses] == list(range(1, STEPS + 1))
    validated = [s for s, _ in dialog.curves.log.validation]
    assert dialog.curves.log.metric == "val_rmse_m" and len(validated) >= 2
    assert validated[-1] == STEPS  # the last validation, at the end of training
    assert log_steps(tmp_path / "log.csv") == list(range(1, STEPS + 1))
    # the new model's card is shown, and the model is saved in the user folder
    card_text = dialog.card.toPlainText()
    assert "pytest_gui_x4" in card_text and "Held-out data" in card_text and "13" in card_text
    card = read_card_file(os.path.join(user_models, "pytest_gui_x4.json"))
    assert card.training["steps"] == STEPS and card.training["base_model"] == "dem_sr_x4"
    # it is offered as MODEL by the inference algorithm and as a base model here
    sr = QgsApplication.processingRegistry().createAlgorithmById(SR)
    offered = sr.parameterDefinition("MODEL").metadata()["widget_wrapper"]["models"]
    assert "pytest_gui_x4" in offered
    assert dialog.base_model.findText("pytest_gui_x4") >= 0
    import processing

    out = tmp_path / "sr.tif"
    processing.run(
        SR, {"INPUT": layer.source(), "SCALE": 4, "MODEL": "pytest_gui_x4", "OUTPUT": str(out)}
    )
    with rasterio.open(out) as ds:
        assert ds.width == 4 * layer.width() and ds.tags()["GEOHAZARD_MODEL"] == "pytest_gui_x4"
    dialog.close()


@pytest.mark.slow
def test_cancel_from_the_dialog_then_resume_ends_at_the_same_step(
    plugin, user_models, layer, tmp_path
) -> None:
    from geohazard.engine.models.model_card import read_card_file
    from geohazard.ui.training_dialog import TrainingDialog

    dialog = TrainingDialog()
    dialog.show()
    log = tmp_path / "log.csv"
    fill(dialog, layer, "pytest_gui_resume", log)
    assert not dialog.resume_button.isEnabled()  # nothing to resume yet
    QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    spin_until(lambda: dialog.bar.value() >= 300, 300)
    QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    spin_until(lambda: not dialog.running(), 120)
    status = dialog.status.text()
    assert "cancelled after" in status and "Resume continues from the checkpoint" in status, status
    assert dialog.has_checkpoint("pytest_gui_resume") and dialog.resume_button.isEnabled()
    assert not os.path.exists(os.path.join(user_models, "pytest_gui_resume.safetensors"))

    QTest.mouseClick(dialog.resume_button, Qt.MouseButton.LeftButton)
    spin_until(lambda: not dialog.running(), 300)
    assert "saved" in dialog.status.text(), dialog.log.toPlainText()
    assert "Resumed from the checkpoint after" in dialog.log.toPlainText()
    card = read_card_file(os.path.join(user_models, "pytest_gui_resume.json"))
    assert card.training["steps"] == STEPS  # as the uninterrupted run above
    assert log_steps(log) == list(range(1, STEPS + 1))  # none lost, none repeated
    assert not dialog.has_checkpoint("pytest_gui_resume") and not dialog.resume_button.isEnabled()
    dialog.close()


def test_dialog_form_comes_from_the_algorithm_definitions(plugin, layer, tmp_path) -> None:
    from geohazard.engine.models.training.finetune import write_log_csv
    from geohazard.ui.training_dialog import TRAINING_IDS, TrainingDialog
    from qgis.core import QgsProcessingContext

    registry = QgsApplication.processingRegistry()
    plugin.show_training()  # Plugins > Geohazard > Train a model… and the toolbar button
    dialog = plugin.training_dialog
    try:
        assert isinstance(dialog, TrainingDialog) and dialog.isVisible()
        listed = [dialog.task_box.itemData(i) for i in range(dialog.task_box.count())]
        contract = [i for i in TRAINING_IDS if registry.algorithmById(i)]
        assert listed[: len(contract)] == contract  # every registered family, in DESIGN's order
        assert TRAIN in listed
        fill(dialog, layer, "pytest_form", tmp_path / "log.csv")
        alg = registry.algorithmById(TRAIN)
        apart = {"BASE_MODEL", "OUTPUT_MODEL"}
        assert set(dialog.fields) == {p.name() for p in alg.parameterDefinitions()} - apart
        for p in alg.parameterDefinitions():  # untouched values keep the algorithm's defaults
            if p.name() in ("LEARNING_RATE", "VALIDATION_SHARE", "W_L1", "ELEVATION_BINS"):
                assert dialog.fields[p.name()].value() == pytest.approx(p.defaultValue())
        assert dialog.base_model.findText("dem_sr_x2") >= 0  # the task's models, from the store
        params = dialog.parameters()
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())  # as the dialog's run does
        ok, message = alg.checkParameterValues(params, context)
        assert ok, message
        assert params["LOG"] == str(tmp_path / "log.csv") and "CURVES" not in params
        assert not dialog.resume_button.isEnabled() and dialog.train_button.isEnabled()
        # a layer added to the project while the dialog is open is offered, typed values kept
        other = QgsRasterLayer(layer.source(), "pytest second dem")
        QgsProject.instance().addMapLayer(other)
        try:
            combo = dialog.fields["INPUT"].widget
            assert [combo.itemText(i) for i in range(combo.count())][-1] == "pytest second dem"
            assert dialog.fields["INPUT"].value() == [layer.id()]
            assert dialog.fields["PATCH_SIZE"].value() == 16
            assert dialog.output_model.text() == "pytest_form"
        finally:
            QgsProject.instance().removeMapLayer(other.id())
        # the curves follow the engine's own log file as it is rewritten
        log = str(tmp_path / "log.csv")
        dialog.curves.follow(log)
        assert not dialog.curves.refresh()  # no log yet
        rows = [{"step": 1, "stage": "finetune", "loss": 0.5}, {"step": 2, "loss": 0.4}]
        write_log_csv(log, rows)
        assert dialog.curves.refresh() and dialog.curves.log.losses == [(1, 0.5), (2, 0.4)]
        assert not dialog.curves.refresh()  # unchanged: not re-read
        write_log_csv(log, [*rows, {"step": 3, "loss": 0.3, "val_rmse_m": 2.5}])
        assert dialog.curves.refresh()
        assert dialog.curves.log.metric == "val_rmse_m"
        assert dialog.curves.log.validation == [(3, 2.5)]
        assert not dialog.curves.grab().isNull()
    finally:
        dialog.close()


def test_bad_input_is_one_clear_sentence_in_the_dialog(
    plugin, user_models, layer, tmp_path
) -> None:
    from geohazard.ui.training_dialog import TrainingDialog

    dialog = TrainingDialog()
    fill(dialog, layer, "pytest_bad_input", tmp_path / "log.csv")
    dialog.fields["INPUT"].widget.deselectAllOptions()  # no training data at all
    QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    spin_until(lambda: not dialog.running(), 60)
    assert "INPUT" in dialog.status.text() and "FOLDER" in dialog.status.text()
    assert dialog.status.text().startswith("Training stopped:")
    # a name the algorithm refuses before anything runs
    dialog.fields["INPUT"].widget.setCheckedItems([layer.name()])
    dialog.output_model.setText("dem_sr_x4")
    QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    spin_until(lambda: not dialog.running(), 60)
    assert "name of a bundled model" in dialog.status.text(), dialog.status.text()
    assert dialog.train_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert not os.path.exists(os.path.join(user_models, "pytest_bad_input.safetensors"))
