"""Writing engine records (WKT geometry + attribute dict) to a Processing feature sink.

The engine computes geometries and attributes; this only turns them into QGIS features.
Field types: QGIS 3.38+ (and QGIS 4 / Qt6) take ``QMetaType.Type``; earlier versions take
``QVariant.Type``, which Qt6 no longer has.
"""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingFeedback,
    QgsWkbTypes,
)

from .qgis_compat import VECTOR_POLYGON, _first

# Vector layer types of sink parameters and geometry types of sinks, by each QGIS's name.
SOURCE_POLYGON = VECTOR_POLYGON  # shared with the other polygon parameters
SOURCE_POINT = _first(
    "the point layer type",
    (Qgis, "ProcessingSourceType.VectorPoint"),
    (QgsProcessing, "SourceType.TypeVectorPoint"),
)
WKB_POLYGON = _first(
    "the polygon geometry type", (Qgis, "WkbType.Polygon"), (QgsWkbTypes, "Type.Polygon")
)
WKB_MULTIPOLYGON = _first(
    "the multipolygon geometry type",
    (Qgis, "WkbType.MultiPolygon"),
    (QgsWkbTypes, "Type.MultiPolygon"),
)
WKB_POINT = _first("the point geometry type", (Qgis, "WkbType.Point"), (QgsWkbTypes, "Type.Point"))

_NEW_FIELD_TYPES = Qgis.versionInt() >= 33800


def _qt_type(kind: str) -> Any:
    if _NEW_FIELD_TYPES:
        from qgis.PyQt.QtCore import QMetaType

        names = {"int": "Int", "double": "Double", "string": "QString", "bool": "Bool"}
        return getattr(QMetaType.Type, names[kind])
    from qgis.PyQt.QtCore import QVariant

    names = {"int": "Int", "double": "Double", "string": "String", "bool": "Bool"}
    # QGIS before 3.38 accepts only QVariant.Type here (this branch never runs on QGIS 4)
    return getattr(QVariant.Type, names[kind])  # noqa: QGS402


def make_fields(spec: tuple[tuple[str, str], ...]) -> QgsFields:
    """QgsFields from the engine's ``(name, type)`` pairs (int, double, string, bool)."""
    fields = QgsFields()
    for name, kind in spec:
        fields.append(QgsField(name, _qt_type(kind)))
    return fields


def crs_from_wkt(wkt: str | None) -> QgsCoordinateReferenceSystem:
    """The CRS the engine read from the raster (invalid when it had none)."""
    return QgsCoordinateReferenceSystem.fromWkt(wkt) if wkt else QgsCoordinateReferenceSystem()


def _value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None  # NULL in the attribute table
    return value


def write_features(
    sink: QgsFeatureSink,
    fields: QgsFields,
    geometries: list[QgsGeometry],
    attributes: list[dict[str, Any]],
    feedback: QgsProcessingFeedback,
) -> int:
    """Add one feature per geometry with its attributes; returns how many were written."""
    names = fields.names()
    for geometry, record in zip(geometries, attributes):
        if feedback.isCanceled():
            break
        feature = QgsFeature(fields)
        feature.setGeometry(geometry)
        feature.setAttributes([_value(record.get(name)) for name in names])
        sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
    return len(geometries)


def polygons(wkts: list[str]) -> list[QgsGeometry]:
    """Multipolygons (the sink's type) from the engine's WKT polygons."""
    out = []
    for wkt in wkts:
        geometry = QgsGeometry.fromWkt(wkt)
        geometry.convertToMultiType()
        out.append(geometry)
    return out


def points(xy: list[tuple[float, float]]) -> list[QgsGeometry]:
    return [QgsGeometry.fromPointXY(QgsPointXY(x, y)) for x, y in xy]
