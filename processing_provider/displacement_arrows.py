"""geohazard:displacementarrows: arrow points sampled from a displacement raster."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterDistance,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import COSI_CORR
from .output_styles import DISPLACEMENT_ARROWS
from .qgis_compat import DOUBLE, set_advanced
from .styling import LayerStyle
from .vector_output import SOURCE_POINT

HELP = """Turns a displacement raster (from <i>Offset tracking</i> or <i>Deep offset tracking</i>, \
offsets in m or velocities in m/yr) into arrows for a map: one point every <b>Spacing</b> map \
units (metres on a projected grid, degrees on a geographic one), at the centre of a square cell, \
holding the mean east and north motion of the raster pixels in that cell.

Fields: magnitude (length of the mean vector, raster units), azimuth (direction of motion, \
degrees clockwise from north: 0 north, 90 east, 180 south, 270 west), east and north (raster \
units), sigma (mean 1-sigma uncertainty, hypot of bands 5 and 6; empty for 4-band rasters), \
quality (mean peak NCC) and units. Cells without any measurement, or whose magnitude is under \
<b>Minimum magnitude</b> (raster units), get no arrow.

Loaded with an arrow marker rotated by the azimuth and sized from 1.5 to 8 mm in proportion to \
the magnitude (the largest arrow is the layer's largest magnitude)."""


class DisplacementArrowsAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "displacementarrows"
    DISPLAY_NAME = "Displacement arrows"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    TAGS = (
        "arrows",
        "vectors",
        "displacement",
        "velocity",
        "landslide",
        "glacier",
        "earthquake",
        "volcano",
        "offset tracking",
        "map",
    )
    CITATIONS = (COSI_CORR,)
    HELP_ANCHOR = (
        "landslide-areas-arrows-and-the-shipped-workflow-geohazardlandslideareas-"
        "geohazarddisplacementarrows-geohazardlandslideevent"
    )
    REQUIRES = ("numpy", "rasterio")

    INPUT = "INPUT"
    SPACING = "SPACING"
    MIN_MAGNITUDE = "MIN_MAGNITUDE"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.INPUT, self.tr("Displacement raster (offsets in m or velocities in m/yr)")
            )
        )
        self.addParameter(
            QgsProcessingParameterDistance(
                self.SPACING,
                self.tr("Spacing between arrows (map units)"),
                200.0,
                self.INPUT,
                minValue=0.0,
                maxValue=1e7,
            )
        )
        minimum = QgsProcessingParameterNumber(
            self.MIN_MAGNITUDE,
            self.tr("Minimum magnitude (raster units: m or m/yr)"),
            DOUBLE,
            0.0,
            minValue=0.0,
            maxValue=100_000.0,
        )
        self.addParameter(set_advanced(minimum))
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, self.tr("Displacement arrows"), SOURCE_POINT
            )
        )

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.displacement.arrows import FIELDS, displacement_arrows
        from .vector_output import WKB_POINT, crs_from_wkt, make_fields, points, write_features

        source = self.raster_file(parameters, self.INPUT, context)
        result = displacement_arrows(
            source,
            self.parameterAsDouble(parameters, self.SPACING, context),
            self.parameterAsDouble(parameters, self.MIN_MAGNITUDE, context),
            self.reporter(feedback),
        )
        fields = make_fields(FIELDS)
        sink, dest = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, WKB_POINT, crs_from_wkt(result.crs_wkt)
        )
        count = write_features(sink, fields, points(result.points), result.attributes, feedback)
        feedback.pushInfo(self.tr("{n} arrow(s) written.").format(n=count))
        LayerStyle.attach(context, dest, self.tr("Displacement arrows"), DISPLACEMENT_ARROWS)
        return {self.OUTPUT: dest}
