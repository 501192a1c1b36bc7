"""Styles applied to outputs when QGIS loads them (post-processors run in the main thread)."""

from __future__ import annotations

from qgis.core import (
    QgsColorRampShader,
    QgsMapLayer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)


def pseudocolor(layer: QgsRasterLayer, band: int, ramp_name: str, lo: float | None = None, hi: float | None = None) -> None:
    """Single-band pseudocolor renderer from the layer's own min/max (or given limits)."""
    provider = layer.dataProvider()
    if lo is None or hi is None:
        stats = provider.bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
        lo = stats.minimumValue if lo is None else lo
        hi = stats.maximumValue if hi is None else hi
    if not (hi > lo):
        hi = lo + 1.0
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
    fcn = QgsColorRampShader(lo, hi, ramp)
    fcn.setColorRampType(QgsColorRampShader.Interpolated)
    fcn.classifyColorRamp(8, band, layer.extent(), provider)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


class BandPseudocolor(QgsProcessingLayerPostProcessorInterface):
    """Post-processor colouring one band of a raster output. Keep the object referenced
    (see :meth:`attach`): QGIS holds only a raw pointer to it."""

    _alive: list["BandPseudocolor"] = []

    def __init__(self, band: int, ramp_name: str, zero_based: bool = True) -> None:
        super().__init__()
        self.band = band
        self.ramp_name = ramp_name
        self.zero_based = zero_based

    def postProcessLayer(  # noqa: N802 (QGIS API name)
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        if isinstance(layer, QgsRasterLayer) and layer.isValid():
            pseudocolor(layer, self.band, self.ramp_name, 0.0 if self.zero_based else None)

    @classmethod
    def attach(cls, context: QgsProcessingContext, output: str, name: str, band: int, ramp: str) -> None:
        """Give the output a layer name and this style when QGIS loads it on completion."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = name
        styler = cls(band, ramp)
        cls._alive.append(styler)
        del cls._alive[:-16]
        details.setPostProcessor(styler)
