"""geohazard:landslideareas: polygons of coherent moving ground from a displacement raster."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import STUMPF_2017
from .output_styles import LANDSLIDE_AREAS
from .qgis_compat import DOUBLE, INTEGER, set_advanced
from .styling import LayerStyle
from .vector_output import SOURCE_POLYGON

HELP = """Outlines coherent moving ground (landslides, rock glaciers, creeping slopes) in a \
displacement raster from <i>Offset tracking</i> or <i>Deep offset tracking</i>: offsets in metres \
or velocities in m/yr (the units are read from the raster's band descriptions).

<b>Input</b>: bands 1 east, 2 north, 3 magnitude, 4 quality, and when present 5/6 east/north \
1-sigma uncertainty.

<b>What counts as moving</b>: a measurement point (a pixel of the raster) whose magnitude is at \
least the <b>Threshold</b> (raster units, m or m/yr) and whose motion is significant against \
the offsets' own uncertainty: z = hypot(east / sigma east, north / sigma north) of at least \
<b>Significance</b> k (default 3), each sigma being the point's 1-sigma (bands 5/6) or, when \
larger, the robust scatter of that band over the whole raster (1.4826 x median absolute \
deviation; most of a scene is still ground). Still ground with the same scene and new speckle \
passes this test at only exp(-k<sup>2</sup>/2) of its points, 1.1% at k = 3, and an area must \
hold at least <b>Minimum points</b> (default 4) moving points and cover the <b>Minimum area</b> \
(m2), so noise alone makes no area: still ground gives an empty layer. For 4-band rasters \
(no sigmas) the significance test is skipped with a warning and only the threshold applies. \
<b>DEM</b> (optional, elevations in metres): gives each polygon its mean slope and aspect and \
says whether the motion points downslope; <b>Minimum slope</b> (degrees, 0 = off) ignores \
motion on gentler ground. <b>Gap closing</b> (pixels): a binary morphological closing with a \
3 x 3 square structuring element, repeated this many times, bridges gaps up to twice as wide; \
holes are then filled.

<b>Outlines follow the ground</b>, not the raster's pixel grid: each point's margin to the \
rule above is interpolated (bilinear) onto a grid 5 times finer (3 or 1 on very large \
rasters) and cut at zero there, then each outline is smoothed (fine-pixel corners cut, \
Douglas-Peucker within half a fine pixel). A sharp edge in the motion is cut midway between \
two points, a gradual one where it crosses the threshold.

Output: one polygon per area with area_m2 (ground area, m2), mean_disp and max_disp (raster \
units), azimuth (mean direction of motion, degrees clockwise from north: 90 = east), slope and \
aspect (degrees; aspect is the downhill direction, clockwise from north), downslope (true when \
the motion is within 90 degrees of the downhill direction; an uphill flag marks a suspicious \
polygon or a toppling/rotational head), quality (mean peak NCC), sigma (mean 1-sigma \
uncertainty, raster units) and pixels. Loaded with an outlined hatch style.

Method: thresholding and morphological cleaning of offset-tracking displacement fields, as in \
Stumpf et al. (2017), Remote Sensing of Environment 189, and Lacroix et al. (2018), Remote \
Sensing of Environment 215."""


class LandslideAreasAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "landslideareas"
    DISPLAY_NAME = "Landslide areas (polygons of moving ground)"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    TAGS = (
        "landslide",
        "rock glacier",
        "creep",
        "slope",
        "displacement",
        "velocity",
        "deformation",
        "mapping",
        "polygons",
        "offset tracking",
        "SAR",
    )
    CITATIONS = (STUMPF_2017,)
    HELP_ANCHOR = (
        "landslide-areas-arrows-and-the-shipped-workflow-geohazardlandslideareas-"
        "geohazarddisplacementarrows-geohazardlandslideevent"
    )
    REQUIRES = ("numpy", "rasterio", "scipy")

    INPUT = "INPUT"
    THRESHOLD = "THRESHOLD"
    MIN_AREA = "MIN_AREA"
    DEM = "DEM"
    MIN_SLOPE = "MIN_SLOPE"
    USE_UNCERTAINTY = "USE_UNCERTAINTY"
    SIGNIFICANCE = "SIGNIFICANCE"
    MIN_POINTS = "MIN_POINTS"
    CLOSING = "CLOSING"
    OUTPUT = "OUTPUT"
    COUNT = "COUNT"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.INPUT, self.tr("Displacement raster (offsets in m or velocities in m/yr)")
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.THRESHOLD,
                self.tr("Magnitude threshold (raster units: m or m/yr)"),
                DOUBLE,
                0.5,
                minValue=0.0,
                maxValue=100_000.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MIN_AREA,
                self.tr("Minimum area (m2)"),
                DOUBLE,
                1000.0,
                minValue=0.0,
                maxValue=1e10,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.DEM, self.tr("DEM (elevations in metres)"), optional=True
            )
        )
        slope = QgsProcessingParameterNumber(
            self.MIN_SLOPE,
            self.tr("Minimum slope (degrees; needs the DEM; 0 = off)"),
            DOUBLE,
            0.0,
            minValue=0.0,
            maxValue=89.0,
        )
        uncertainty = QgsProcessingParameterBoolean(
            self.USE_UNCERTAINTY,
            self.tr("Count only motion significant against its uncertainty (bands 5 and 6)"),
            defaultValue=True,
        )
        significance = QgsProcessingParameterNumber(
            self.SIGNIFICANCE,
            self.tr("Significance (k: motion at least k sigma of its uncertainty)"),
            DOUBLE,
            3.0,
            minValue=0.0,
            maxValue=10.0,
        )
        min_points = QgsProcessingParameterNumber(
            self.MIN_POINTS,
            self.tr("Minimum points (moving measurement points per area)"),
            INTEGER,
            4,
            minValue=1,
            maxValue=1_000_000,
        )
        closing = QgsProcessingParameterNumber(
            self.CLOSING,
            self.tr("Gap closing (3 x 3 closing repetitions, pixels)"),
            INTEGER,
            1,
            minValue=0,
            maxValue=20,
        )
        for p in (slope, uncertainty, significance, min_points, closing):
            self.addParameter(set_advanced(p))
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, self.tr("Landslide areas"), SOURCE_POLYGON
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.COUNT, self.tr("Number of areas")))

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.displacement.landslide_areas import (
            FIELDS,
            LandslideConfig,
            landslide_areas,
        )
        from .vector_output import (
            WKB_MULTIPOLYGON,
            crs_from_wkt,
            make_fields,
            polygons,
            write_features,
        )

        source = self.raster_file(parameters, self.INPUT, context)
        dem = (
            self.raster_file(parameters, self.DEM, context)
            if parameters.get(self.DEM) not in (None, "")
            else None
        )
        cfg = LandslideConfig(
            threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
            min_area_m2=self.parameterAsDouble(parameters, self.MIN_AREA, context),
            min_slope_deg=self.parameterAsDouble(parameters, self.MIN_SLOPE, context),
            use_uncertainty=self.parameterAsBool(parameters, self.USE_UNCERTAINTY, context),
            significance=self.parameterAsDouble(parameters, self.SIGNIFICANCE, context),
            min_points=self.parameterAsInt(parameters, self.MIN_POINTS, context),
            closing=self.parameterAsInt(parameters, self.CLOSING, context),
        )
        result = landslide_areas(source, cfg, dem, self.reporter(feedback))
        fields = make_fields(FIELDS)
        sink, dest = self.parameterAsSink(
            parameters,
            self.OUTPUT,
            context,
            fields,
            WKB_MULTIPOLYGON,
            crs_from_wkt(result.crs_wkt),
        )
        count = write_features(
            sink, fields, polygons(result.geometries), result.attributes, feedback
        )
        feedback.pushInfo(self.tr("{n} landslide area(s) written.").format(n=count))
        LayerStyle.attach(context, dest, self.tr("Landslide areas"), LANDSLIDE_AREAS)
        return {self.OUTPUT: dest, self.COUNT: count}
