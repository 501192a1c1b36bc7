"""Styles applied to outputs when QGIS loads them: one mechanism for every output.

Every style is a QML file shipped in the plugin's ``styles/`` folder (written by
``scripts/make_raster_styles.py`` and ``scripts/make_vector_styles.py``): renderer, band,
colours and transparency, legend kind, resampling. Code adds only what depends on the data:
a ramp written over 0..1 (or -1..1) in its QML is stretched onto the layer's 2nd-98th
percentiles (so one outlier cannot wash the map out) and labelled in the layer's units at a
precision fitted to the range; a hillshade gets the z factor of its CRS.

An output can carry several styles (a displacement raster: magnitude, quality, uncertainty):
the first is shown, the others are in the layer's style list (Layer Properties > Style, or
the layer's context menu > Styles).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable

from qgis.core import (
    QgsBasicNumericFormat,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMapLayerLegendUtils,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsReadWriteContext,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtXml import QDomDocument

from .output_paths import layer_name
from .qgis_compat import STATS_MAX, STATS_MIN

# Share of pixels left out at each end of a colour stretch, and how many pixels are sampled.
STRETCH_CUT = 0.02
STRETCH_SAMPLE = 250_000
STYLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "styles")


def style_path(name: str) -> str:
    """Path of ``styles/<name>.qml`` in the plugin folder."""
    return os.path.join(STYLES_DIR, name + ".qml")


def apply_qml(layer: QgsMapLayer, name: str) -> None:
    """Load the shipped ``styles/<name>.qml`` into ``layer`` (raises if QGIS refuses it)."""
    message, ok = layer.loadNamedStyle(style_path(name))
    if not ok:
        raise RuntimeError(f"Style {name}.qml could not be loaded: {message}")


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
    """``value`` with ``decimals`` decimals and its unit ("-0.0" shown as "0.0")."""
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return f"{text} {unit}".rstrip()


def stretch_ramp(
    layer: QgsRasterLayer,
    unit: str | None = None,
    lo: float | None = None,
    symmetric: bool = False,
    hi: float | None = None,
) -> None:
    """Stretch the pseudocolour ramp loaded from a QML onto the layer's values.

    The QML's items are mapped linearly from its own classification range onto the band's
    2nd-98th percentiles (``lo`` fixes the low end; ``symmetric`` centres the range on zero),
    and the labels and the legend are written in ``unit`` (default: the QML's own suffix)
    at a precision fitted to the range.
    """
    renderer = layer.renderer()
    if not isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        return
    band = renderer.band()
    p_lo, p_hi = robust_limits(layer, band)
    if symmetric:
        bound = max(abs(p_lo), abs(p_hi), 1e-3) if math.isfinite(p_lo + p_hi) else 1.0
        new_lo, new_hi = -bound, bound
    else:
        new_lo = p_lo if lo is None else lo
        new_hi = p_hi if hi is None else hi
    if not (math.isfinite(new_lo) and math.isfinite(new_hi)) or not new_hi > new_lo:
        new_lo = 0.0 if not math.isfinite(new_lo) else new_lo
        new_hi = new_lo + 1.0
    fcn = renderer.shader().rasterShaderFunction()
    old_lo, old_hi = renderer.classificationMin(), renderer.classificationMax()
    settings = QgsColorRampLegendNodeSettings(fcn.legendSettings())
    suffix = settings.suffix() if unit is None else (f" {unit}" if unit else "")
    decimals = label_decimals(new_lo, new_hi)
    items = []
    for item in fcn.colorRampItemList():
        value = new_lo + (item.value - old_lo) / (old_hi - old_lo) * (new_hi - new_lo)
        items.append(
            QgsColorRampShader.ColorRampItem(
                value, item.color, format_value(value, decimals, suffix.strip())
            )
        )
    fcn.setColorRampItemList(items)
    fcn.setMinimumValue(new_lo)
    fcn.setMaximumValue(new_hi)
    settings.setSuffix(suffix)
    number_format = QgsBasicNumericFormat()
    number_format.setNumberDecimalPlaces(decimals)
    number_format.setShowTrailingZeros(True)
    settings.setNumericFormat(number_format)
    fcn.setLegendSettings(settings)
    renderer.setClassificationMin(new_lo)
    renderer.setClassificationMax(new_hi)


@dataclass(frozen=True)
class OutputStyle:
    """One style of an output: a shipped QML and what code adds to it for the data.

    Attributes:
        qml: name of ``styles/<qml>.qml``.
        name: the style's name in the layer's style list.
        fit: adjusts the loaded style to the layer's data (limits, units), or None.
        min_bands: the style is offered only when the layer has at least this many bands.
        legend_title: what the layer is, shown in the legend instead of QGIS's band name
            ("Displacement magnitude (m)", not "Band 3: magnitude (m)"); "" keeps QGIS's.
    """

    qml: str
    name: str = ""
    fit: Callable[[QgsMapLayer], None] | None = None
    min_bands: int = 0
    legend_title: str = ""


def apply_styles(layer: QgsMapLayer, styles: Sequence[OutputStyle]) -> None:
    """Give ``layer`` its styles: the first is shown, every one is in its style list."""
    usable = [
        s
        for s in styles
        if not (s.min_bands and isinstance(layer, QgsRasterLayer))
        or layer.bandCount() >= s.min_bands
    ]
    manager = layer.styleManager()
    for style in reversed(usable):
        apply_qml(layer, style.qml)
        if style.fit is not None:
            style.fit(layer)
        if len(usable) > 1 and style.name:
            manager.addStyleFromLayer(style.name)
    if len(usable) > 1 and usable[0].name:
        default = manager.currentStyle()
        manager.setCurrentStyle(usable[0].name)
        if default not in {s.name for s in usable}:
            manager.removeStyle(default)
    layer.triggerRepaint()


def set_legend_title(root: QgsLayerTreeGroup, layer: QgsMapLayer, style: OutputStyle) -> None:
    """Replace the band-name line QGIS puts first in a single-band raster's legend ("Band 3:
    magnitude (m)") by the style's legend title, on the layer's node under ``root``."""
    node = root.findLayer(layer.id())
    if node is None or not style.legend_title:
        return
    if not isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer):
        return
    QgsMapLayerLegendUtils.setLegendNodeUserLabel(node, 0, style.legend_title)
    layer.emitStyleChanged()


def sidecar_path(output: str) -> str:
    """The .qml QGIS loads with ``output`` when it opens the file (same name, .qml)."""
    return os.path.splitext(output.split("|")[0])[0] + ".qml"


def style_document(layer: QgsMapLayer, styles: Sequence[OutputStyle]) -> str:
    """The QML text of ``layer`` given its styles (the first one, as shown)."""
    apply_styles(layer, styles)
    doc = QDomDocument("qgis")
    message = layer.exportNamedStyle(doc, QgsReadWriteContext())
    if message:
        raise RuntimeError(message)
    return doc.toString()


# Outputs whose style is written beside them when their run ends: output -> styles.
_SIDECARS: dict[str, Sequence[OutputStyle]] = {}
_SIDECARS_LOCK = threading.Lock()


def write_sidecars(outputs: Iterable[object], feedback: QgsProcessingFeedback) -> None:
    """Write the .qml style beside each of ``outputs`` that :meth:`LayerStyle.attach` styled
    (a failure is a warning: the output itself is complete)."""
    from ..engine.io.output_files import write_text_file
    from .input_layers import gdal_pam_disabled

    for output in outputs:
        if not isinstance(output, str):
            continue
        with _SIDECARS_LOCK:
            styles = _SIDECARS.pop(output, None)
        path = output.split("|")[0]
        if styles is None or not os.path.isfile(path):
            continue
        qml = sidecar_path(path)
        try:
            # GDAL's .aux.xml off while the layer lives: it would save statistics beside the
            # output when the layer closes
            with gdal_pam_disabled():
                if path.lower().endswith((".tif", ".tiff")):
                    layer: QgsMapLayer = QgsRasterLayer(path, "output", "gdal")
                else:
                    layer = QgsVectorLayer(path, "output", "ogr")
                if not layer.isValid():
                    raise RuntimeError("QGIS could not open it")
                text = style_document(layer, styles)
                del layer
            write_text_file(qml, text)
        except Exception as exc:  # noqa: BLE001 (the style is a convenience; the run succeeded)
            feedback.pushWarning(f"The style could not be written beside the output ({exc}).")
            continue
        feedback.pushInfo(
            f"Style written beside the output: {os.path.basename(qml)} (QGIS loads it with "
            "the layer)."
        )


def band_sample(layer: QgsRasterLayer, band: int, side: int = 512) -> list[float]:
    """The finite values of a float32 band read at up to ``side`` x ``side`` px (a resampled
    view of the whole layer: quick on any size)."""
    import numpy as np

    provider = layer.dataProvider()
    width = min(side, layer.width())
    height = min(side, layer.height())
    block = provider.block(band, layer.extent(), width, height)
    if block is None or not block.isValid() or block.dataTypeSize() != 4:
        return []
    values = np.frombuffer(bytes(block.data()), dtype=np.float32)
    return values[np.isfinite(values)].tolist()


def band_quantile(
    layer: QgsRasterLayer, band: int, share: float, floor: float | None = None
) -> float:
    """The ``share`` quantile of a band's values (those above ``floor`` when given), from a
    sample of the layer; NaN when no value qualifies."""
    import numpy as np

    values = np.asarray(band_sample(layer, band))
    if floor is not None:
        values = values[values > floor]
    return float(np.quantile(values, share)) if values.size else float("nan")


class LayerStyle(QgsProcessingLayerPostProcessorInterface):
    """Post-processor applying the output's styles when QGIS loads it.

    QGIS keeps only a raw pointer to a post-processor, so :meth:`attach` keeps the Python
    object alive (the last 16 are kept).
    """

    _alive: list[LayerStyle] = []

    def __init__(self, styles: Sequence[OutputStyle]) -> None:
        super().__init__()
        self.styles = list(styles)

    def postProcessLayer(  # noqa: N802 (QGIS API name)
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        if isinstance(layer, (QgsRasterLayer, QgsVectorLayer)) and layer.isValid():
            apply_styles(layer, self.styles)
            project = context.project()
            if project is not None and self.styles:
                set_legend_title(project.layerTreeRoot(), layer, self.styles[0])

    @classmethod
    def attach(
        cls,
        context: QgsProcessingContext,
        output: str,
        name: str,
        styles: Sequence[OutputStyle],
    ) -> None:
        """Style ``output`` when QGIS loads it on completion, named after the file the user
        chose, or ``name`` for a temporary output; its style is also written beside it when
        the run ends (:func:`write_sidecars`)."""
        with _SIDECARS_LOCK:
            _SIDECARS[output] = list(styles)
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = layer_name(output, name)
        details.forceName = True
        details.setPostProcessor(cls.kept(styles))

    @classmethod
    def kept(cls, styles: Sequence[OutputStyle]) -> LayerStyle:
        """A new post-processor for ``styles``, kept alive while QGIS may call it."""
        styler = cls(styles)
        cls._alive.append(styler)
        del cls._alive[:-16]
        return styler
