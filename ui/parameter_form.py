"""Widgets generated from a Processing algorithm's parameter definitions.

The training dialog shows the values each training algorithm declares (their labels, ranges
and defaults live only in the algorithm), so a recipe value added there appears here unchanged.
Layers are picked from the project, folders and files with QGIS's file widget.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    Qgis,
    QgsMapLayerProxyModel,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.gui import QgsCheckableComboBox, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

DATA_TYPES = ("multilayer", "raster", "vector", "source", "file")
INT_LIMIT = 2**31 - 1


def _enum(what: str, *spellings: tuple[object, str]) -> Any:
    """The first spelling of an enum value the running QGIS knows (3.22 to 4.x, scoped forms
    only; ``processing_provider/qgis_compat.py`` does the same for the algorithms)."""
    for owner, dotted in spellings:
        value: Any = owner
        try:
            for part in dotted.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise ImportError(f"This QGIS version has no known name for {what}.")


FLAG_ADVANCED = _enum(
    "the advanced parameter flag",
    (Qgis, "ProcessingParameterFlag.Advanced"),
    (QgsProcessingParameterDefinition, "Flag.FlagAdvanced"),
)
FLAG_OPTIONAL = _enum(
    "the optional parameter flag",
    (Qgis, "ProcessingParameterFlag.Optional"),
    (QgsProcessingParameterDefinition, "Flag.FlagOptional"),
)
FLAG_HIDDEN = _enum(
    "the hidden parameter flag",
    (Qgis, "ProcessingParameterFlag.Hidden"),
    (QgsProcessingParameterDefinition, "Flag.FlagHidden"),
)
INTEGER = _enum(
    "the integer number type",
    (Qgis, "ProcessingNumberParameterType.Integer"),
    (QgsProcessingParameterNumber, "Type.Integer"),
)
RASTER_LAYERS = _enum(
    "the raster layer filter",
    (Qgis, "LayerFilter.RasterLayer"),
    (QgsMapLayerProxyModel, "Filter.RasterLayer"),
)
VECTOR_LAYERS = _enum(
    "the vector layer filter",
    (Qgis, "LayerFilter.VectorLayer"),
    (QgsMapLayerProxyModel, "Filter.VectorLayer"),
)
RASTER_SOURCE = _enum(
    "the raster source type",
    (Qgis, "ProcessingSourceType.Raster"),
    (QgsProcessing, "SourceType.TypeRaster"),
)
FOLDER = _enum(
    "the folder file behaviour",
    (Qgis, "ProcessingFileParameterBehavior.Folder"),
    (QgsProcessingParameterFile, "Behavior.Folder"),
)


def tr(text: str) -> str:
    return QCoreApplication.translate("ParameterField", text)


def is_advanced(param: QgsProcessingParameterDefinition) -> bool:
    return bool(param.flags() & FLAG_ADVANCED)


def is_hidden(param: QgsProcessingParameterDefinition) -> bool:
    return bool(param.flags() & FLAG_HIDDEN)


def is_optional(param: QgsProcessingParameterDefinition) -> bool:
    return bool(param.flags() & FLAG_OPTIONAL)


def is_data(param: QgsProcessingParameterDefinition) -> bool:
    """A training-data input: layers, or a folder / file to read."""
    return param.type() in DATA_TYPES


def _decimals(value: float) -> int:
    """Enough decimals to show ``value`` (a learning rate of 1e-5 needs 5)."""
    text = f"{abs(value):.10f}".rstrip("0")
    return max(2, len(text.split(".")[1]) + 1) if "." in text else 2


class ParameterField:
    """One parameter's widget with ``value()`` and ``set_value()`` in Processing's terms."""

    def __init__(self, param: QgsProcessingParameterDefinition, parent: QWidget) -> None:
        self.param = param
        self.widget = self._make(param, parent)
        self.widget.setToolTip(param.description())
        self.widget.setObjectName(param.name())
        self.set_value(param.defaultValue())

    def _make(self, p: QgsProcessingParameterDefinition, parent: QWidget) -> QWidget:
        kind = p.type()
        if kind == "number":
            if p.dataType() == INTEGER:
                spin: Any = QSpinBox(parent)
                spin.setRange(int(max(p.minimum(), -INT_LIMIT)), int(min(p.maximum(), INT_LIMIT)))
            else:
                spin = QDoubleSpinBox(parent)
                default = float(p.defaultValue() or 0.0)
                spin.setDecimals(max(_decimals(default), _decimals(p.minimum()), 3))
                spin.setRange(p.minimum(), p.maximum())
                spin.setSingleStep(abs(default) / 2 if default else 0.1)
            return spin
        if kind == "enum":
            combo = QComboBox(parent)
            combo.addItems(list(p.options()))
            return combo
        if kind == "boolean":
            return QCheckBox(parent)
        if kind in ("raster", "vector", "source"):
            box = QgsMapLayerComboBox(parent)
            box.setFilters(RASTER_LAYERS if kind == "raster" else VECTOR_LAYERS)
            box.setAllowEmptyLayer(is_optional(p))
            return box
        if kind == "multilayer":
            multi = QgsCheckableComboBox(parent)
            multi.setDefaultText(tr("(none)"))
            wanted = QgsRasterLayer if p.layerType() == RASTER_SOURCE else QgsVectorLayer
            for layer in QgsProject.instance().mapLayers().values():
                if isinstance(layer, wanted):
                    multi.addItem(layer.name(), layer.id())
            return multi
        if kind in ("file", "fileDestination", "folderDestination"):
            files = QgsFileWidget(parent)
            if kind == "file" and p.behavior() == FOLDER:
                files.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
            elif kind == "fileDestination":
                files.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
                files.setFilter(p.fileFilter())
            elif kind == "file":
                files.setFilter(p.fileFilter() or "")
            return files
        return QLineEdit(parent)

    def value(self) -> Any:
        """The value for the algorithm's parameters dict (None for an empty optional)."""
        w = self.widget
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return w.value()
        if isinstance(w, QComboBox) and not isinstance(w, (QgsCheckableComboBox,)):
            if isinstance(w, QgsMapLayerComboBox):
                layer = w.currentLayer()
                return layer.id() if layer is not None else None
            return w.currentIndex()
        if isinstance(w, QgsCheckableComboBox):
            return list(w.checkedItemsData()) or None
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QgsFileWidget):
            return w.filePath().strip() or None
        return w.text().strip()

    def set_value(self, value: Any) -> None:
        w = self.widget
        if value is None:
            return
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(type(w.value())(value))
        elif isinstance(w, QgsMapLayerComboBox):
            layer = QgsProject.instance().mapLayer(str(value))
            if layer is not None:
                w.setLayer(layer)
        elif isinstance(w, QgsCheckableComboBox):
            ids = value if isinstance(value, (list, tuple)) else [value]
            w.setCheckedItems([w.itemText(i) for i in range(w.count()) if w.itemData(i) in ids])
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(int(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QgsFileWidget):
            w.setFilePath(str(value))
        else:
            w.setText(str(value))
