"""Styles for DEM outputs: multidirectional hillshade for elevations, cyclic colours for phase
(both drawn with smooth resampling: they are continuous fields)."""

from __future__ import annotations

import math

from qgis.core import (
    QgsBilinearRasterResampler,
    QgsColorRampShader,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsHillshadeRenderer,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsUnitTypes,
)
from qgis.PyQt.QtGui import QColor

from .qgis_compat import DISTANCE_METERS, RAMP_INTERPOLATED
from .styling import format_value, smooth_resampling


def metres_per_map_unit(layer: QgsRasterLayer) -> float:
    """How many metres one horizontal map unit is (degrees converted at the layer's latitude)."""
    crs = layer.crs()
    if crs.isGeographic():
        lat = layer.extent().center().y()
        return 111_320.0 * math.sqrt(max(math.cos(math.radians(lat)), 1e-6))
    factor = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), DISTANCE_METERS)
    return factor if factor > 0 else 1.0


def hillshade(layer: QgsRasterLayer, band: int = 1) -> None:
    """A multidirectional hillshade, which shows the relief of a DEM at a glance. Elevations are
    in metres, so on a geographic (degree) grid the z factor converts them to degrees."""
    renderer = QgsHillshadeRenderer(layer.dataProvider(), band, 315.0, 45.0)
    renderer.setMultiDirectional(True)
    renderer.setZFactor(1.0 / metres_per_map_unit(layer))
    layer.setRenderer(renderer)
    smooth_resampling(layer)
    layer.triggerRepaint()


def cyclic_phase(layer: QgsRasterLayer, band: int) -> None:
    """Wrapped phase in [-pi, pi) with a cyclic colour ramp (red-yellow-green-cyan-blue-red)."""
    colours = ["#ff0000", "#ffff00", "#00ff00", "#00ffff", "#0000ff", "#ff00ff"]
    stops = [QgsGradientStop((i + 1) / len(colours), QColor(c)) for i, c in enumerate(colours[1:])]
    ramp = QgsGradientColorRamp(QColor(colours[0]), QColor(colours[0]), False, stops)
    fcn = QgsColorRampShader(-math.pi, math.pi, ramp)
    fcn.setColorRampType(RAMP_INTERPOLATED)
    fcn.classifyColorRamp(12, band, layer.extent(), layer.dataProvider())
    items = []
    for item in fcn.colorRampItemList():
        item.label = format_value(item.value, 2, "rad")
        items.append(item)
    fcn.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), band, shader)
    renderer.setClassificationMin(-math.pi)
    renderer.setClassificationMax(math.pi)
    layer.setRenderer(renderer)
    # Bilinear both ways: cubic would ring at the sharp colour jump of each fringe.
    resampler = layer.resampleFilter()
    resampler.setZoomedInResampler(QgsBilinearRasterResampler())
    resampler.setZoomedOutResampler(QgsBilinearRasterResampler())
    layer.triggerRepaint()
