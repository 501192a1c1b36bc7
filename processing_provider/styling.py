"""Styles applied to outputs when QGIS loads them (post-processors run in the main thread).

Every output is continuous (elevations, offsets, differences, phase), so it is drawn with
cubic resampling when zoomed in and bilinear when zoomed out (nearest neighbour made
hillshades look cross-hatched). Colour ramps stretch over the 2nd-98th percentiles, so one
outlier cannot wash the map out, and legends carry the unit with a precision fitted to the
range.
"""

from __future__ import annotations

import math
from typing import Callable

from qgis.core import (
    QgsBasicNumericFormat,
    QgsBilinearRasterResampler,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsCubicRasterResampler,
    QgsMapLayer,
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

from .output_paths import layer_name
from .qgis_compat import RAMP_INTERPOLATED, STATS_MAX, STATS_MIN

# Share of pixels left out at each end of a colour stretch, and how many pixels are sampled.
STRETCH_CUT = 0.02
STRETCH_SAMPLE = 250_000


def smooth_resampling(layer: QgsRasterLayer) -> None:
    """Cubic when zoomed in, bilinear when zoomed out (for continuous rasters)."""
    resampler = layer.resampleFilter()
    resampler.setZoomedInResampler(QgsCubicRasterResampler())
    resampler.setZoomedOutResampler(QgsBilinearRasterResampler())
    resampler.setMaxOversampling(2.0)


def robust_limits(
    layer: QgsRasterLayer, band: int, cut: float = STRETCH_CUT
) -> tuple[float, float]:
    """The ``cut`` and ``1 - cut`` quantiles of a band (min/max when the histogram fails)."""
    provider = layer.dataProvider()
    # A sample keeps styling quick on large outputs (it runs in QGIS's main thread).
    lo, hi = provider.cumulativeCut(band, cut, 1.0 - cut, QgsRectangle(), STRETCH_SAMPLE)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        stats = provider.bandStatistics(band, STATS_MIN | STATS_MAX)
        lo, hi = stats.minimumValue, stats.maximumValue
    return lo, hi


def label_decimals(lo: float, hi: float) -> int:
    """Decimals that show about three significant digits of the range (0 to 4)."""
    span = abs(hi - lo)
    if not math.isfinite(span) or span == 0:
        return 2
    return int(min(4, max(0, 2 - math.floor(math.log10(span)))))


def format_value(value: float, decimals: int, unit: str) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return f"{text} {unit}".rstrip()


def pseudocolor(
    layer: QgsRasterLayer,
    band: int,
    ramp_name: str,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "",
    classes: int = 8,
) -> None:
    """Single-band pseudocolor over ``lo``..``hi`` (by default the 2nd-98th percentiles), with
    legend labels in ``unit`` at a precision fitted to the range, and smooth resampling."""
    provider = layer.dataProvider()
    if lo is None or hi is None:
        p_lo, p_hi = robust_limits(layer, band)
        lo = p_lo if lo is None else lo
        hi = p_hi if hi is None else hi
    if not (hi > lo):
        hi = lo + 1.0
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
    fcn = QgsColorRampShader(lo, hi, ramp)
    fcn.setColorRampType(RAMP_INTERPOLATED)
    fcn.classifyColorRamp(classes, band, layer.extent(), provider)
    decimals = label_decimals(lo, hi)
    items = []
    for item in fcn.colorRampItemList():
        item.label = format_value(item.value, decimals, unit)
        items.append(item)
    fcn.setColorRampItemList(items)
    legend = QgsColorRampLegendNodeSettings()
    legend.setUseContinuousLegend(True)
    if unit:
        legend.setSuffix(f" {unit}")
    number_format = QgsBasicNumericFormat()
    number_format.setNumberDecimalPlaces(decimals)
    number_format.setShowTrailingZeros(True)
    legend.setNumericFormat(number_format)
    fcn.setLegendSettings(legend)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    layer.setRenderer(renderer)
    smooth_resampling(layer)
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


def symmetric_pseudocolor(layer: QgsRasterLayer, band: int, ramp_name: str, unit: str = "") -> None:
    """Diverging colours centred on zero, limits at the larger of the 2nd and 98th percentiles
    in absolute value (a single spike no longer turns the map white)."""
    lo, hi = robust_limits(layer, band)
    bound = max(abs(lo), abs(hi), 1e-3)
    pseudocolor(layer, band, ramp_name, -bound, bound, unit)


class LayerStyle(QgsProcessingLayerPostProcessorInterface):
    """Post-processor applying a style function to an output when QGIS loads it.

    QGIS keeps only a raw pointer to a post-processor, so :meth:`attach` keeps the Python
    object alive (the last 16 are kept).
    """

    _alive: list[LayerStyle] = []

    def __init__(self, apply: Callable[[QgsMapLayer], None]) -> None:
        super().__init__()
        self.apply = apply

    def postProcessLayer(  # noqa: N802 (QGIS API name)
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        if isinstance(layer, (QgsRasterLayer, QgsVectorLayer)) and layer.isValid():
            self.apply(layer)

    @classmethod
    def attach(
        cls,
        context: QgsProcessingContext,
        output: str,
        name: str,
        apply: Callable[[QgsMapLayer], None],
    ) -> None:
        """Style ``output`` with ``apply`` when QGIS loads it on completion, named after the
        file the user chose, or ``name`` for a temporary output."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = layer_name(output, name)
        details.forceName = True
        styler = cls(apply)
        cls._alive.append(styler)
        del cls._alive[:-16]
        details.setPostProcessor(styler)
