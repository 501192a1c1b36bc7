"""Styles applied to outputs when QGIS loads them (post-processors run in the main thread)."""

from __future__ import annotations

from typing import Callable

from qgis.core import (
    QgsColorRampShader,
    QgsMapLayer,
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)
from qgis.PyQt.QtGui import QColor

from .qgis_compat import RAMP_INTERPOLATED, STATS_MAX, STATS_MIN


def pseudocolor(
    layer: QgsRasterLayer,
    band: int,
    ramp_name: str,
    lo: float | None = None,
    hi: float | None = None,
) -> None:
    """Single-band pseudocolor renderer from the layer's own min/max (or given limits)."""
    provider = layer.dataProvider()
    if lo is None or hi is None:
        stats = provider.bandStatistics(band, STATS_MIN | STATS_MAX)
        lo = stats.minimumValue if lo is None else lo
        hi = stats.maximumValue if hi is None else hi
    if not (hi > lo):
        hi = lo + 1.0
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
    fcn = QgsColorRampShader(lo, hi, ramp)
    fcn.setColorRampType(RAMP_INTERPOLATED)
    fcn.classifyColorRamp(8, band, layer.extent(), provider)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def paletted_classes(layer: QgsRasterLayer, band: int, classes: list[tuple[int, str, str]]) -> None:
    """A categorical (paletted) renderer: one colour and label per class value.

    Args:
        layer: the raster layer to style.
        band: the band holding the class values.
        classes: (value, colour as '#rrggbb', label) for each class.
    """
    items = [
        QgsPalettedRasterRenderer.Class(value, QColor(colour), label)
        for value, colour, label in classes
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), band, items))
    layer.triggerRepaint()


def symmetric_pseudocolor(layer: QgsRasterLayer, band: int, ramp_name: str) -> None:
    """Diverging colours centred on zero, limits at the largest absolute value."""
    stats = layer.dataProvider().bandStatistics(band, STATS_MIN | STATS_MAX)
    bound = max(abs(stats.minimumValue), abs(stats.maximumValue), 1e-3)
    pseudocolor(layer, band, ramp_name, -bound, bound)


class LayerStyle(QgsProcessingLayerPostProcessorInterface):
    """Post-processor applying a style function to an output when QGIS loads it.

    QGIS keeps only a raw pointer to a post-processor, so :meth:`attach` keeps the Python
    object alive (the last 16 are kept).
    """

    _alive: list[LayerStyle] = []

    def __init__(self, apply: Callable[[QgsRasterLayer], None]) -> None:
        super().__init__()
        self.apply = apply

    def postProcessLayer(  # noqa: N802 (QGIS API name)
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        if isinstance(layer, QgsRasterLayer) and layer.isValid():
            self.apply(layer)

    @classmethod
    def attach(
        cls,
        context: QgsProcessingContext,
        output: str,
        name: str,
        apply: Callable[[QgsRasterLayer], None],
    ) -> None:
        """Give ``output`` a layer name and the style ``apply`` when QGIS loads it on completion."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = name
        styler = cls(apply)
        cls._alive.append(styler)
        del cls._alive[:-16]
        details.setPostProcessor(styler)
