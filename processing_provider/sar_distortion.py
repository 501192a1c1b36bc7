"""geohazard:sardistortion: foreshortening, layover and shadow of a SAR acquisition over a DEM."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import KROPATSCH_STROBL, MEIER_FREI_NUESCH, SARDINET_DEM
from .output_styles import DISTORTION_CLASSES
from .parameter_checks import set_unit
from .styling import LayerStyle

LOOK_OPTIONS = ["right", "left"]

HELP = """Maps where a side-looking radar (Sentinel-1 by default) sees the terrain of a DEM \
distorted: a class raster on the DEM grid with 0 undistorted, 1 foreshortening, 2 layover, \
3 shadow (255 where the DEM has no data). Use it to know which parts of a SAR image of a steep \
slope can be trusted, or to score SAR-to-optical translation per distortion.

<b>DEM</b>: elevations in metres, any north-up grid with a CRS (degrees are converted with the \
local metres per degree). <b>Incidence angle</b> (degrees from vertical, default 39: Sentinel-1 \
IW mid-swath; IW spans about 29-46). <b>Heading</b> (degrees clockwise from north of the \
satellite track, the platformHeading of Sentinel-1 metadata; default -168, a descending pass; \
an ascending pass is about -12). <b>Look</b>: right (Sentinel-1 and most SAR satellites) or left. \
The look direction is heading + 90 degrees when right-looking (west-north-west for the default).

With the range slope alpha (the slope along the look direction, positive when facing the \
sensor) and the incidence theta: foreshortening where 0 &lt; alpha &lt;= theta, layover where \
alpha &gt; theta (a slope facing the sensor steeper than the incidence), shadow where \
alpha &lt; -(90 - theta) (a slope facing away steeper than 90 degrees minus the incidence). \
<b>Along-range occlusion</b> (on by default) also marks ground hidden behind other terrain \
(shadow cast by a ridge nearer the sensor) and ground whose range cells are shared with a \
layover slope (passive layover), by tracing rays along exact range lines, as SNAP's \
layover/shadow mask does; off, only the local slope decides. A pixel in both shadow and layover \
is shadow. <b>Minimum foreshortening slope</b> (degrees, default 0) leaves gentler slopes \
facing the sensor undistorted.

One incidence angle applies to the whole DEM and the Earth is taken as flat over it (fine for \
DEMs up to a few tens of kilometres across range). Large DEMs are read in strips with a margin \
as long as the longest shadow or layover their relief allows."""


# class value -> colour (grey undistorted, orange foreshortening, red layover, dark blue shadow)
class SarDistortionAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "sardistortion"
    DISPLAY_NAME = "SAR layover, shadow and foreshortening from a DEM"
    GROUP = "SAR"
    GROUP_ID = "sar"
    HELP = HELP
    TAGS = (
        "SAR",
        "Sentinel-1",
        "radar geometry",
        "layover",
        "shadow",
        "foreshortening",
        "distortion",
        "DEM",
        "InSAR",
        "landslide",
        "steep slopes",
        "mountains",
    )
    CITATIONS = (KROPATSCH_STROBL, MEIER_FREI_NUESCH, SARDINET_DEM)
    HELP_ANCHOR = "sar-distortion-and-sar-to-optical-geohazardsardistortion-geohazardsartooptical"
    REQUIRES = ("numpy", "rasterio")

    DEM = "DEM"
    INCIDENCE = "INCIDENCE"
    HEADING = "HEADING"
    LOOK = "LOOK"
    ALONG_RANGE = "ALONG_RANGE"
    MIN_FORESHORTENING = "MIN_FORESHORTENING"
    OUTPUT = "OUTPUT"
    UNDISTORTED_PERCENT = "UNDISTORTED_PERCENT"
    FORESHORTENING_PERCENT = "FORESHORTENING_PERCENT"
    LAYOVER_PERCENT = "LAYOVER_PERCENT"
    SHADOW_PERCENT = "SHADOW_PERCENT"

    # Defaults equal to engine.sar.sar_geometry.AcquisitionGeometry's, repeated so that listing
    # the algorithm never imports the engine (rasterio may be missing).
    DEFAULT_INCIDENCE = 39.0
    DEFAULT_HEADING = -168.0

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        dbl = QgsProcessingParameterNumber.Type.Double
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.DEM, self.tr("DEM (elevations in metres)"))
        )
        self.addParameter(
            set_unit(
                QgsProcessingParameterNumber(
                    self.INCIDENCE,
                    self.tr("Incidence angle (degrees from vertical)"),
                    dbl,
                    self.DEFAULT_INCIDENCE,
                    minValue=5.0,
                    maxValue=80.0,
                ),
                "degrees",
            )
        )
        self.addParameter(
            set_unit(
                QgsProcessingParameterNumber(
                    self.HEADING,
                    self.tr("Satellite heading (degrees clockwise from north; -168 descending)"),
                    dbl,
                    self.DEFAULT_HEADING,
                    minValue=-360.0,
                    maxValue=360.0,
                ),
                "degrees",
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.LOOK, self.tr("Look direction"), options=LOOK_OPTIONS, defaultValue=0
            )
        )
        along = QgsProcessingParameterBoolean(
            self.ALONG_RANGE,
            self.tr("Along-range occlusion (shadow cast by and layover shared with other terrain)"),
            defaultValue=True,
        )
        min_fore = QgsProcessingParameterNumber(
            self.MIN_FORESHORTENING,
            self.tr("Minimum foreshortening slope (degrees along range)"),
            dbl,
            0.0,
            minValue=0.0,
            maxValue=89.0,
        )
        set_unit(min_fore, "degrees")
        for p in (along, min_fore):
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("SAR distortion classes"))
        )
        for key, label in (
            (self.UNDISTORTED_PERCENT, self.tr("Undistorted (% of valid pixels)")),
            (self.FORESHORTENING_PERCENT, self.tr("Foreshortening (% of valid pixels)")),
            (self.LAYOVER_PERCENT, self.tr("Layover (% of valid pixels)")),
            (self.SHADOW_PERCENT, self.tr("Shadow (% of valid pixels)")),
        ):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.sar.sar_distortion import DistortionOptions, sar_distortion
        from ..engine.sar.sar_geometry import AcquisitionGeometry

        dem = self.raster_file(parameters, self.DEM, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        geometry = AcquisitionGeometry(
            incidence_deg=self.parameterAsDouble(parameters, self.INCIDENCE, context),
            heading_deg=self.parameterAsDouble(parameters, self.HEADING, context),
            look=LOOK_OPTIONS[self.parameterAsEnum(parameters, self.LOOK, context)],
        )
        options = DistortionOptions(
            along_range=self.parameterAsBool(parameters, self.ALONG_RANGE, context),
            min_foreshortening_deg=self.parameterAsDouble(
                parameters, self.MIN_FORESHORTENING, context
            ),
        )
        res = sar_distortion(dem, output, geometry, options, self.reporter(feedback))
        feedback.pushInfo(
            self.tr(
                "Undistorted {u:.1f}%, foreshortening {f:.1f}%, layover {l:.1f}%, shadow {s:.1f}%."
            ).format(
                u=res["undistorted_percent"],
                f=res["foreshortening_percent"],
                l=res["layover_percent"],
                s=res["shadow_percent"],
            )
        )
        LayerStyle.attach(
            context,
            output,
            self.tr("SAR distortion (layover, shadow)"),
            DISTORTION_CLASSES,
        )
        return {
            self.OUTPUT: output,
            self.UNDISTORTED_PERCENT: res["undistorted_percent"],
            self.FORESHORTENING_PERCENT: res["foreshortening_percent"],
            self.LAYOVER_PERCENT: res["layover_percent"],
            self.SHADOW_PERCENT: res["shadow_percent"],
        }
