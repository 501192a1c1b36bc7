"""Plugins > Geohazard > Train a model...: fine-tune a model on your own data, with live curves.

The dialog runs the training algorithms of the provider (``geohazard:train*``) by id through
QGIS's processing registry in a background task (:class:`.training_run.AlgorithmRun`), so the
dialog, the modeler and ``qgis_process`` share one code path. Its inputs are generated from the
algorithm's parameter definitions (labels, ranges and defaults stay in the algorithm). The
engine rewrites the CSV log after every validation; a timer re-reads it and redraws the curves.
Cancel keeps the checkpoint; Resume runs again with the same values, which resumes from it.
"""

from __future__ import annotations

import html
import os
from types import SimpleNamespace
from typing import Any

from qgis.core import QgsApplication, QgsProcessingAlgorithm, QgsProcessingUtils, QgsProject
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QShowEvent
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine.core.errors import GeohazardError
from ..engine.io.run_estimate import format_duration
from ..engine.models.model_store import ModelStore
from ..engine.models.training.finetune import TRAINING_DIR
from .card_view import card_html
from .parameter_form import ParameterField, is_advanced, is_data, is_hidden
from .training_curves import CurvesWidget
from .training_run import AlgorithmRun

PROVIDER = "geohazard"
# The contract's training algorithms (DESIGN.md), in this order; any other geohazard:train*
# algorithm the provider registers is listed after them.
TRAINING_IDS = (
    "geohazard:traindemsuperresolution",
    "geohazard:traindeepoffsettracking",
    "geohazard:trainsartooptical",
)
BASE_MODEL = "BASE_MODEL"
OUTPUT_MODEL = "OUTPUT_MODEL"
LOG = "LOG"
CURVES = "CURVES"
SHOWN_APART = (BASE_MODEL, OUTPUT_MODEL, LOG, CURVES)
POLL_MS = 1000


def training_algorithms() -> list[QgsProcessingAlgorithm]:
    """The registered training algorithms (the contract's first, in its order)."""
    registry = QgsApplication.processingRegistry()
    found = [a for a in (registry.algorithmById(i) for i in TRAINING_IDS) if a is not None]
    provider = registry.providerById(PROVIDER)
    if provider is not None:
        others = [
            a
            for a in provider.algorithms()
            if a.name().startswith("train") and a.id() not in TRAINING_IDS
        ]
        found += sorted(others, key=lambda a: a.id())
    return found


def user_models_folder() -> str:
    from ..settings import user_models_folder as folder

    return folder()


class TrainingDialog(QDialog):
    """The training dialog; one instance lives with the plugin, so closing it while a model
    trains only hides it (training goes on; reopening shows the progress)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Geohazard: train a model"))
        self.resize(1150, 720)
        self.store = ModelStore(user_models_folder())
        self.alg: QgsProcessingAlgorithm | None = None
        self.fields: dict[str, ParameterField] = {}
        self.run: AlgorithmRun | None = None
        self.last_parameters: dict[str, Any] | None = None
        self.errors: list[str] = []

        self.task_box = QComboBox(self)
        for alg in training_algorithms():
            self.task_box.addItem(alg.displayName(), alg.id())
        self.form_area = QScrollArea(self)
        self.form_area.setWidgetResizable(True)
        self.base_model = QComboBox()
        self.output_model = QLineEdit()
        self.curves = CurvesWidget(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.card = QTextBrowser(self)
        self.train_button = QPushButton(self.tr("Train"), self)
        self.resume_button = QPushButton(self.tr("Resume"), self)
        self.resume_button.setToolTip(
            self.tr("Run again with the same data and values: training resumes from the checkpoint")
        )
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.curves.refresh)

        right = QWidget(self)
        rlay = QVBoxLayout(right)
        rlay.addWidget(self.curves, 3)
        rlay.addWidget(self.bar)
        rlay.addWidget(self.status)
        rlay.addWidget(self.log, 1)
        rlay.addWidget(self.card, 2)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.form_area)
        split.addWidget(right)
        split.setSizes([460, 690])
        top = QFormLayout()
        top.addRow(self.tr("Task"), self.task_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.train_button, self.resume_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

        self.task_box.currentIndexChanged.connect(self.set_task)
        project = QgsProject.instance()
        project.layersAdded.connect(self.refresh_form)
        project.layersRemoved.connect(self.refresh_form)
        self.train_button.clicked.connect(self.start)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        if self.task_box.count():
            self.set_task(0)
        else:
            self.status.setText(
                self.tr("No training algorithm is registered (is the Geohazard provider loaded?).")
            )
        self._update_buttons()

    # --- the form ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API name)
        """Reopened (one dialog per session): list the project's layers as they are now."""
        super().showEvent(event)
        self.refresh_form()

    def refresh_form(self, *_args: object) -> None:
        """Rebuild the inputs (the project's layers may have changed), keeping typed values."""
        if self.running() or self.alg is None or not self.isVisible():
            return
        values = {name: f.value() for name, f in self.fields.items()}
        base, name = self.base_model.currentText(), self.output_model.text()
        self.set_task(self.task_box.currentIndex())
        for key, value in values.items():
            if key in self.fields:
                self.fields[key].set_value(value)
        self.base_model.setEditText(base)
        self.output_model.setText(name)

    def set_task(self, index: int) -> None:
        """Build the inputs of the training algorithm chosen in the task box."""
        alg_id = self.task_box.itemData(index)
        self.alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
        self.fields = {}
        page = QWidget()
        groups = {
            "data": QFormLayout(),
            "model": QFormLayout(),
            "values": QFormLayout(),
            "advanced": QFormLayout(),
            "outputs": QFormLayout(),
        }
        params = [p for p in self.alg.parameterDefinitions() if not is_hidden(p)]
        for p in params:
            if p.name() in (BASE_MODEL, OUTPUT_MODEL):
                continue
            field = ParameterField(p, page)
            self.fields[p.name()] = field
            if is_data(p):
                group = "data"
            elif p.name() in (LOG, CURVES):
                group = "outputs"
            elif is_advanced(p):
                group = "advanced"
            else:
                group = "values"
            groups[group].addRow(self._label(p), field.widget)
        self._make_model_widgets(page)
        base_row = QHBoxLayout()
        base_row.addWidget(self.base_model, 1)
        base_row.addWidget(self.browse_base)
        groups["model"].addRow(self.tr("Base model"), base_row)
        groups["model"].addRow(self.tr("New model name"), self.output_model)
        self.output_model.setText(str(self.alg.parameterDefinition(OUTPUT_MODEL).defaultValue()))
        self.refresh_models()
        vbox = QVBoxLayout(page)
        titles = {
            "data": self.tr("Training data"),
            "model": self.tr("Models"),
            "values": self.tr("Training values"),
            "advanced": self.tr("Recipe (advanced)"),
            "outputs": self.tr("Log and curves (optional files)"),
        }
        for key, form in groups.items():
            # data labels are long sentences: above their field; the others beside when they fit
            policy = QFormLayout.RowWrapPolicy
            form.setRowWrapPolicy(policy.WrapAllRows if key == "data" else policy.WrapLongRows)
            box = (
                QgsCollapsibleGroupBox(titles[key]) if key == "advanced" else QGroupBox(titles[key])
            )
            box.setLayout(form)
            if key == "advanced":
                box.setCollapsed(True)
            vbox.addWidget(box)
        vbox.addStretch(1)
        self.form_area.setWidget(page)
        self.card.setHtml(self._help_html())
        self._update_buttons()

    def _make_model_widgets(self, page: QWidget) -> None:
        """The base model and new model widgets (made with each page: a new page deletes the
        old one and its children)."""
        self.base_model = QComboBox(page)
        self.base_model.setEditable(True)
        self.base_model.setToolTip(
            self.tr("'default', a bundled or user model, or the path of a .safetensors file")
        )
        self.browse_base = QToolButton(page)
        self.browse_base.setText("…")
        self.browse_base.setToolTip(self.tr("Choose a .safetensors weights file"))
        self.browse_base.clicked.connect(self._browse_base)
        self.output_model = QLineEdit(page)
        self.output_model.textChanged.connect(self._update_buttons)

    def _label(self, p: Any) -> QLabel:
        label = QLabel(p.description())
        label.setToolTip(p.name())
        return label

    def _help_html(self) -> str:
        if self.alg is None:
            return ""
        return self.alg.shortHelpString()

    def task_name(self) -> str:
        """The model task of the chosen training algorithm (its base models' cards say it)."""
        task = getattr(self.alg, "TASK", None)
        return str(getattr(task, "name", ""))

    def refresh_models(self) -> None:
        """List the task's bundled and user models as base models (read from their cards)."""
        current = self.base_model.currentText() or "default"
        self.base_model.clear()
        self.base_model.addItem("default")
        for name in self.store.names(self.task_name()):
            self.base_model.addItem(name)
        self.base_model.setEditText(current)

    def _browse_base(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Base model weights"), "", self.tr("Safetensors weights (*.safetensors)")
        )
        if path:
            self.base_model.setEditText(path)

    def parameters(self) -> dict[str, Any]:
        """The algorithm's parameters from the widgets (a log file is always written, in the
        temporary folder unless one was chosen, so the curves can follow it)."""
        params: dict[str, Any] = {}
        for name, field in self.fields.items():
            value = field.value()
            if value is not None:
                params[name] = value
        name = self.output_model.text().strip()
        params[BASE_MODEL] = self.base_model.currentText().strip() or "default"
        params[OUTPUT_MODEL] = name
        if not params.get(LOG):
            params[LOG] = os.path.join(
                QgsProcessingUtils.tempFolder(), f"{name or 'model'}_training_log.csv"
            )
        return params

    # --- running ----------------------------------------------------------------------------

    def checkpoint_folder(self, name: str) -> str:
        return os.path.join(self.store.user_dir or "", TRAINING_DIR, name)

    def has_checkpoint(self, name: str) -> bool:
        """An unfinished run of this model name is kept (cancelled, or stopped by an error)."""
        return bool(name) and os.path.isdir(self.checkpoint_folder(name))

    def start(self) -> bool:
        """Train with the values in the widgets."""
        return self._run(self.parameters())

    def resume(self) -> bool:
        """Run again with the last run's values (the same OUTPUT_MODEL, data and values), which
        resumes from its checkpoint; the widgets' values when this dialog ran nothing yet."""
        name = self.output_model.text().strip()
        last = self.last_parameters
        params = last if last and last.get(OUTPUT_MODEL) == name else self.parameters()
        return self._run(params)

    def _run(self, params: dict[str, Any]) -> bool:
        if self.running():
            return False
        if self.alg is None:
            return False
        self.errors = []
        self.last_parameters = dict(params)
        run = AlgorithmRun(self.alg.id(), params, self)
        run.progress.connect(self._on_progress)
        run.message.connect(self._on_message)
        run.finished.connect(self._on_finished)
        self.log.clear()
        self.show_card(str(params.get(BASE_MODEL, "")), self.tr("Base model"))
        self.bar.setValue(0)
        self.curves.follow(params[LOG])
        self.run = run
        self._set_status(self.tr("Starting…"))
        if not run.start():
            self.run = None
            why = " ".join(self.errors) or self.tr("see the log below.")
            self._set_status(self.tr("Training could not start: {why}").format(why=why))
            self._update_buttons()
            return False
        self.timer.start()
        self._update_buttons()
        return True

    def running(self) -> bool:
        return self.run is not None and self.run.running

    def cancel(self) -> None:
        if self.running() and self.run is not None:
            self.run.cancel()
            self.cancel_button.setEnabled(False)
            self._set_status(self.tr("Cancelling: the checkpoint is being written…"))

    def stop_and_wait(self, timeout_ms: int = 60_000) -> None:
        """Cancel a run and wait for its task to stop (before the dialog, which owns the run's
        context and feedback, is deleted, e.g. when the plugin unloads)."""
        run = self.run
        if run is not None and run.running and run.task is not None:
            run.cancel()
            run.task.waitForFinished(timeout_ms)

    def _on_progress(self, percent: float, seconds_left: float) -> None:
        self.bar.setValue(int(round(percent * 10)))
        left = (
            self.tr("time left: {left}").format(left=format_duration(seconds_left))
            if seconds_left >= 0
            else self.tr("time left: estimating…")
        )
        self._set_status(self.tr("Training: {p:.0f}%, {left}").format(p=percent, left=left))

    def _on_message(self, text: str, is_error: bool) -> None:
        if is_error:
            self.errors.append(text)
        self.log.appendPlainText(text)

    def _on_finished(self, ok: bool, results: dict) -> None:
        self.timer.stop()
        self.curves.refresh()
        self.run = None
        self.refresh_models()
        if ok:
            name = str(results.get(OUTPUT_MODEL, ""))
            self.bar.setValue(1000)
            self._set_status(
                self.tr(
                    "Model '{name}' saved: choose it by this name as MODEL in the inference "
                    "algorithm, or as the base model of another fine-tuning."
                ).format(name=name)
            )
            self.show_card(name)
        else:
            why = self.errors[-1] if self.errors else self.tr("see the log")
            kept = self.has_checkpoint(str((self.last_parameters or {}).get(OUTPUT_MODEL, "")))
            extra = self.tr(" Resume continues from the checkpoint.") if kept else ""
            self._set_status(self.tr("Training stopped: {why}").format(why=why) + extra)
        self._update_buttons()

    def show_card(self, name: str, heading: str = "") -> None:
        """Show the card of the task's model ``name`` (``default``: the task's default)."""
        try:
            entry = self.store.entry(self.task_name(), self._model_name(name))
        except GeohazardError as exc:
            self.card.setPlainText("" if heading else str(exc))
            return
        head = f"<p><i>{html.escape(heading)}</i></p>" if heading else ""
        self.card.setHtml(head + card_html(entry.card, entry.source))

    def _model_name(self, name: str) -> str:
        """``default`` as the task's default model of the chosen SCALE where it has one."""
        if name not in ("", "default"):
            return name
        task = getattr(self.alg, "TASK", None)
        default = getattr(task, "default_model", None)
        scale = self.fields.get("SCALE")
        if not callable(default):
            return name
        try:
            options = SimpleNamespace(scale=int(scale.value())) if scale is not None else None
            return str(default(options))
        except (TypeError, ValueError, GeohazardError):
            return name

    def _set_status(self, text: str) -> None:
        self.status.setText(text)

    def _update_buttons(self) -> None:
        busy = self.running()
        self.train_button.setEnabled(not busy and self.alg is not None)
        self.resume_button.setEnabled(
            not busy and self.has_checkpoint(self.output_model.text().strip())
        )
        self.cancel_button.setEnabled(busy)
        self.task_box.setEnabled(not busy)
        self.form_area.setEnabled(not busy)
