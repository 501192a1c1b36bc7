#!/usr/bin/env python3
"""Write the shipped vector styles (styles/*.qml) with QGIS's own symbology classes.

    .venv/bin/python scripts/make_vector_styles.py

landslide_areas.qml: red 45-degree hatch with a dark-red outline (transparent between the
hatch lines, so the hillshade or image below stays visible), labelled with the mean motion.
displacement_arrows.qml: an arrow marker rotated by the "azimuth" field (QGIS marker rotation
is clockwise from map up, i.e. north on a north-up map) and sized 1.5-8 mm linearly in
"magnitude" from 0 to the layer's largest magnitude.
"""

from __future__ import annotations

import os
import sys

from qgis.core import (
    QgsApplication,
    QgsFillSymbol,
    QgsLinePatternFillSymbolLayer,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProperty,
    QgsSimpleLineSymbolLayer,
    QgsSimpleMarkerSymbolLayer,
    QgsSimpleMarkerSymbolLayerBase,
    QgsSingleSymbolRenderer,
    QgsSymbolLayer,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def landslide_style(path: str) -> None:
    layer = QgsVectorLayer("MultiPolygon?crs=EPSG:32633&field=mean_disp:double", "l", "memory")
    hatch = QgsLinePatternFillSymbolLayer()
    hatch.setLineAngle(45.0)
    hatch.setDistance(2.0)
    hatch.setColor(QColor("#d7191c"))
    hatch.setLineWidth(0.3)
    outline = QgsSimpleLineSymbolLayer(QColor("#7f0000"), 0.6)
    symbol = QgsFillSymbol()
    symbol.deleteSymbolLayer(0)
    symbol.appendSymbolLayer(hatch)
    symbol.appendSymbolLayer(outline)
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    settings = QgsPalLayerSettings()
    settings.fieldName = 'format_number("mean_disp", 2) || \' \' || "units"'
    settings.isExpression = True
    fmt = QgsTextFormat()
    fmt.setColor(QColor("#7f0000"))
    fmt.setSize(8)
    buffer = fmt.buffer()
    buffer.setEnabled(True)
    fmt.setBuffer(buffer)
    settings.setFormat(fmt)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    layer.saveNamedStyle(path)


def arrow_style(path: str) -> None:
    layer = QgsVectorLayer("Point?crs=EPSG:32633&field=magnitude:double", "a", "memory")
    marker = QgsSimpleMarkerSymbolLayer(QgsSimpleMarkerSymbolLayerBase.Shape.Arrow, 4.0)
    marker.setColor(QColor("#08306b"))
    marker.setStrokeColor(QColor("#ffffff"))
    marker.setStrokeWidth(0.1)
    marker.setDataDefinedProperty(
        QgsSymbolLayer.Property.PropertyAngle, QgsProperty.fromField("azimuth")
    )
    marker.setDataDefinedProperty(
        QgsSymbolLayer.Property.PropertySize,
        QgsProperty.fromExpression('scale_linear("magnitude", 0, maximum("magnitude"), 1.5, 8)'),
    )
    symbol = QgsMarkerSymbol()
    symbol.changeSymbolLayer(0, marker)
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    layer.saveNamedStyle(path)


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    folder = os.path.join(ROOT, "styles")
    os.makedirs(folder, exist_ok=True)
    landslide_style(os.path.join(folder, "landslide_areas.qml"))
    arrow_style(os.path.join(folder, "displacement_arrows.qml"))
    print("wrote", folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
