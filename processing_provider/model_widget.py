"""The MODEL parameter's widget in the algorithm dialog: the task's models, or a weights file.

An editable list of the bundled and user models (read from their cards, no torch), with a button
to pick a .safetensors file. In the modeler and batch dialogs the standard text widget is kept,
so model inputs and expressions work as for any string.
"""

from __future__ import annotations

from typing import Any

from processing.gui.wrappers import DIALOG_STANDARD, StringWidgetWrapper
from qgis.PyQt.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QToolButton, QWidget

DEFAULT = "default"


class ModelWidgetWrapper(StringWidgetWrapper):
    """Set through the parameter's metadata ``{"widget_wrapper": {"class": ...,
    "models": [names]}}``; the names are read when the dialog opens."""

    def createWidget(self, **kwargs: Any) -> QWidget:  # noqa: N802 (QGIS API name)
        if self.dialogType != DIALOG_STANDARD:
            return super().createWidget(**kwargs)
        names = self.parameterDefinition().metadata().get("widget_wrapper", {}).get("models", [])
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItem(DEFAULT)
        for name in names:
            self.combo.addItem(name)
        self.combo.setToolTip(
            self.tr("'default', a bundled or user model, or the path of a .safetensors file")
        )
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip(self.tr("Choose a .safetensors weights file (its .json card beside it)"))
        browse.clicked.connect(self._browse)
        layout.addWidget(self.combo, 1)
        layout.addWidget(browse)
        return box

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.widget,
            self.tr("Model weights"),
            "",
            self.tr("Safetensors weights (*.safetensors)"),
        )
        if path:
            self.combo.setEditText(path)

    def setValue(self, value: Any) -> None:  # noqa: N802 (QGIS API name)
        if self.dialogType != DIALOG_STANDARD:
            super().setValue(value)
            return
        self.combo.setEditText(str(value) if value not in (None, "") else DEFAULT)

    def value(self) -> Any:
        if self.dialogType != DIALOG_STANDARD:
            return super().value()
        return self.combo.currentText().strip() or DEFAULT
