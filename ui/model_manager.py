"""Plugins > Geohazard > Model manager...: the bundled and your own models per task, their
cards, import of a weights file with its card, export, and deletion of your own models.

Thin: listing, the checks of an imported file and the file operations are the engine's
(:class:`~..engine.models.model_store.ModelStore`); an import is checked exactly as loading checks a
model (file type, header, card, task, architecture, tensor names and shapes) before anything is
copied.
"""

from __future__ import annotations

import os

from qgis.core import Qgis
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..engine.core.errors import GeohazardError
from ..engine.families import all_tasks
from ..engine.models.model_store import ModelStore
from .card_view import card_html

TASK_LABELS = {
    "dem-super-resolution": "DEM super-resolution",
    "deep-offset-tracking": "Deep offset tracking (CC-ResSiamNet)",
    "sar-to-optical": "SAR-to-optical translation",
}


class ModelManagerDialog(QDialog):
    """Lists, imports, exports and deletes models.

    Args:
        parent: the QGIS main window.
        user_dir: the user's models folder (default: the one in the QGIS profile).
    """

    def __init__(self, parent: QWidget | None = None, user_dir: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Geohazard: models"))
        self.resize(900, 600)
        if user_dir is None:
            from ..settings import user_models_folder

            user_dir = user_models_folder()
        self.store = ModelStore(user_dir)
        self.tasks = all_tasks()
        self.task_box = QComboBox(self)
        for name in self.tasks:
            self.task_box.addItem(TASK_LABELS.get(name, name), name)
        self.models = QListWidget(self)
        self.card = QTextBrowser(self)
        self.bar = QgsMessageBar(self)
        self.import_button = QPushButton(self.tr("Import…"), self)
        self.import_button.setToolTip(
            self.tr("Add a .safetensors weights file with its JSON card to your models")
        )
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.close_button = QPushButton(self.tr("Close"), self)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.models)
        split.addWidget(self.card)
        split.setSizes([280, 620])
        top = QFormLayout()
        top.addRow(self.tr("Task"), self.task_box)
        buttons = QHBoxLayout()
        for b in (self.import_button, self.export_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

        self.task_box.currentIndexChanged.connect(self.refresh)
        self.models.currentItemChanged.connect(self._show_current)
        self.import_button.clicked.connect(self.choose_import)
        self.export_button.clicked.connect(self.choose_export)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.close_button.clicked.connect(self.reject)
        self.refresh()

    def task(self) -> str:
        return str(self.task_box.currentData())

    def refresh(self, *_args: object, select: str = "") -> None:
        """List the task's models: bundled first, then yours."""
        self.models.clear()
        for entry in self.store.list(self.task()):
            label = self.tr("{name} (bundled)") if entry.source == "bundled" else "{name}"
            item = QListWidgetItem(label.format(name=entry.name))
            item.setData(Qt.ItemDataRole.UserRole, entry.name)
            item.setData(Qt.ItemDataRole.UserRole + 1, entry.source)
            self.models.addItem(item)
            if entry.name == select:
                self.models.setCurrentItem(item)
        if self.models.currentItem() is None and self.models.count():
            self.models.setCurrentRow(0)
        self._show_current()

    def selected(self) -> tuple[str, str] | None:
        """(name, source) of the selected model."""
        item = self.models.currentItem()
        if item is None:
            return None
        return (
            str(item.data(Qt.ItemDataRole.UserRole)),
            str(item.data(Qt.ItemDataRole.UserRole + 1)),
        )

    def _show_current(self, *_args: object) -> None:
        chosen = self.selected()
        self.export_button.setEnabled(chosen is not None)
        self.delete_button.setEnabled(chosen is not None and chosen[1] == "user")
        self.delete_button.setToolTip(
            self.tr("Bundled models cannot be deleted")
            if chosen is not None and chosen[1] != "user"
            else self.tr("Delete this model of yours (weights and card)")
        )
        if chosen is None:
            self.card.clear()
            return
        try:
            entry = self.store.entry(self.task(), chosen[0])
        except GeohazardError as exc:
            self.card.setPlainText(str(exc))
            return
        self.card.setHtml(card_html(entry.card, entry.source))

    def _say(self, text: str, ok: bool) -> None:
        level = Qgis.MessageLevel.Success if ok else Qgis.MessageLevel.Critical
        self.bar.clearWidgets()
        self.bar.pushMessage(self.tr("Models"), text, level, 0)

    # --- import, export, delete -------------------------------------------------------------

    def choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import model weights"),
            "",
            self.tr("Safetensors weights (*.safetensors);;All files (*)"),
        )
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> bool:
        """Check ``path`` as a model of the chosen task and copy it (with its card) into your
        models; a refused file is reported in one sentence and nothing is copied."""
        try:
            entry = self.store.import_model(self.tasks[self.task()], path)
        except GeohazardError as exc:
            self._say(self.tr("Not imported: {why}").format(why=str(exc)), False)
            return False
        self.refresh(select=entry.name)
        self._say(
            self.tr("Imported '{name}'; it is now offered as MODEL in the algorithms.").format(
                name=entry.name
            ),
            True,
        )
        return True

    def choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Export the model to a folder"))
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str) -> str:
        """Copy the selected model's weights and card into ``folder``; the path, or ""."""
        chosen = self.selected()
        if chosen is None:
            return ""
        try:
            path = self.store.export_model(self.task(), chosen[0], folder)
        except GeohazardError as exc:
            self._say(self.tr("Not exported: {why}").format(why=str(exc)), False)
            return ""
        self._say(
            self.tr("Exported to {path} (with its card {card}).").format(
                path=path, card=os.path.basename(os.path.splitext(path)[0] + ".json")
            ),
            True,
        )
        return path

    def confirm_delete(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Delete model"),
            self.tr("Delete your model '{name}' (weights and card)? This cannot be undone.").format(
                name=chosen[0]
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_selected()

    def delete_selected(self) -> bool:
        """Delete the selected model if it is one of yours; bundled ones are refused."""
        chosen = self.selected()
        if chosen is None:
            return False
        try:
            self.store.delete_model(self.task(), chosen[0])
        except GeohazardError as exc:
            self._say(str(exc), False)
            return False
        self.refresh()
        self._say(self.tr("Deleted '{name}'.").format(name=chosen[0]), True)
        return True
