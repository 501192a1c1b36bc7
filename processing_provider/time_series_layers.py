"""How the time series output loads in QGIS: one layer per date that the Temporal Controller
plays.

QGIS 3.22 gives a raster layer one temporal range, not one per band, so the post-processor
turns the loaded OUTPUT into a group of layers on the same file, one per date, each showing
that date's magnitude band on one colour ramp (stretched on the last date, the largest motion)
with a fixed temporal range from its date to the next (the last date: as long as the interval
before it). No extra file is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from qgis.core import (
    Qgis,
    QgsDateTimeRange,
    QgsLayerTreeRegistryBridge,
    QgsMapLayer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterLayerTemporalProperties,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime

from .output_paths import layer_name
from .styling import apply_qml, stretch_ramp


def _fixed_range_mode():  # type: ignore[no-untyped-def]
    """The fixed-temporal-range mode under the name the running QGIS knows."""
    for owner, path in (
        (Qgis, "RasterTemporalMode.FixedTemporalRange"),
        (QgsRasterLayerTemporalProperties, "TemporalMode.ModeFixedTemporalRange"),
    ):
        value = owner
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise ImportError("This QGIS has no fixed temporal range mode for raster layers.")


def _qdatetime(day: dt.date) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(0, 0))


def date_ranges(dates: Sequence[str]) -> list[tuple[dt.date, dt.date]]:
    """[date, next date) for each date; the last lasts as long as the interval before it."""
    days = [dt.date.fromisoformat(d) for d in dates]
    ends = days[1:] + [days[-1] + (days[-1] - days[-2] if len(days) > 1 else dt.timedelta(1))]
    return list(zip(days, ends))


def style_dates(layer: QgsRasterLayer, dates: Sequence[str]) -> list[QgsRasterLayer]:
    """``layer`` and its clones, one per date, styled and given their temporal ranges."""
    n = len(dates)
    apply_qml(layer, "displacement_magnitude")
    renderer = layer.renderer()
    limits = (0.0, 1.0)
    if isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        renderer.setBand(3 * n)  # the last date's magnitude: the ramp covers the whole series
        stretch_ramp(layer, unit="m", lo=0.0)
        limits = (renderer.classificationMin(), renderer.classificationMax())
    base = layer.renderer().clone()
    layers = []
    for k, (start, end) in enumerate(date_ranges(dates)):
        lyr = layer if k == 0 else layer.clone()
        r = base.clone()
        if isinstance(r, QgsSingleBandPseudoColorRenderer):
            r.setBand(2 * n + 1 + k)
            r.setClassificationMin(limits[0])  # clone() leaves them unset on QGIS 3.22
            r.setClassificationMax(limits[1])
        lyr.setRenderer(r)
        props = lyr.temporalProperties()
        props.setMode(_fixed_range_mode())
        props.setFixedTemporalRange(
            QgsDateTimeRange(_qdatetime(start), _qdatetime(end), True, False)
        )
        props.setIsActive(True)
        lyr.setName(f"{dates[k]} cumulative displacement")
        layers.append(lyr)
    return layers


class TimeSeriesLayers(QgsProcessingLayerPostProcessorInterface):
    """Post-processor: the loaded OUTPUT becomes a group of one layer per date."""

    _alive: list[TimeSeriesLayers] = []

    def __init__(self, dates: Sequence[str], name: str) -> None:
        super().__init__()
        self.dates, self.name = list(dates), name

    def postProcessLayer(  # noqa: N802 (QGIS API name)
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            return
        project = context.project()
        layers = style_dates(layer, self.dates)
        if project is None:
            return
        root = project.layerTreeRoot()
        node = root.findLayer(layer.id())
        parent = node.parent() if node is not None else root
        index = parent.children().index(node) if node is not None else 0
        group = parent.insertGroup(index, self.name)
        for lyr in layers:
            if lyr is not layer:
                project.addMapLayer(lyr, False)
            group.addLayer(lyr)
        if node is not None:
            parent.removeChildNode(node)
        # the run's other outputs load above the group, not into it
        project.layerTreeRegistryBridge().setLayerInsertionPoint(
            QgsLayerTreeRegistryBridge.InsertionPoint(parent, parent.children().index(group))
        )
        layer.triggerRepaint()

    @classmethod
    def attach(cls, context: QgsProcessingContext, output: str, dates: Sequence[str]) -> None:
        """Load ``output`` as one layer per date when the run completes."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = layer_name(output, "Displacement time series")
        details.forceName = True
        processor = cls(dates, details.name)
        cls._alive.append(processor)
        del cls._alive[:-16]
        details.setPostProcessor(processor)
