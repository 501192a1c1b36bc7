"""geohazard:displacementtimeseries: displacement time series from a stack of amplitude images."""

from __future__ import annotations

import glob
import json
import os
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsRasterLayer,
    QgsSettings,
)

from ..engine.offsets.outliers import FILTERS
from ..engine.offsets.prefilter import PREFILTERS
from .base_algorithm import GeohazardAlgorithm
from .citations import AUTORIFT, COSI_CORR, SCARANO_2002
from .displacement_time_series_help import HELP
from .input_layers import load_input_raster
from .offset_tracking import DEFAULT_DEFORM_PASSES
from .output_styles import displacement
from .parameter_checks import set_unit
from .qgis_compat import DOUBLE, INTEGER, LAYER_RASTER, VECTOR_POLYGON, set_advanced
from .styling import LayerStyle
from .time_series_layers import TimeSeriesLayers

SCHEDULER_KEY = "geohazard/dask_scheduler"
IMAGE_EXTENSIONS = (".tif", ".tiff")


class DisplacementTimeSeriesAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "displacementtimeseries"
    DISPLAY_NAME = "Displacement time series (stack of images)"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    MEMORY_ADVICE = "use a larger STEP, fewer window sizes, or clip the images to the slope"
    TAGS = (
        "landslide",
        "time series",
        "stack",
        "SBAS",
        "displacement",
        "velocity",
        "acceleration",
        "offset tracking",
        "Sentinel-1",
        "SAR",
        "Dask",
        "cluster",
    )
    CITATIONS = (AUTORIFT, COSI_CORR, SCARANO_2002)
    HELP_ANCHOR = "displacement-time-series-geohazarddisplacementtimeseries"

    INPUT = "INPUT"
    DATES = "DATES"
    PAIRS_PER_IMAGE = "PAIRS_PER_IMAGE"
    MAX_SPAN_DAYS = "MAX_SPAN_DAYS"
    BAND = "BAND"
    WINDOW_SIZES = "WINDOW_SIZES"
    STEP = "STEP"
    SEARCH = "SEARCH"
    PREFILTER = "PREFILTER"
    STABLE_AREAS = "STABLE_AREAS"
    AREAS = "AREAS"
    POINTS = "POINTS"
    SCHEDULER = "SCHEDULER"
    DEVICE = "DEVICE"
    MIN_QUALITY = "MIN_QUALITY"
    OUTLIER_FILTER = "OUTLIER_FILTER"
    DEFORMATION_PASSES = "DEFORMATION_PASSES"
    OUTPUT = "OUTPUT"
    VELOCITY_OUTPUT = "VELOCITY_OUTPUT"
    REPORT = "REPORT"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.INPUT,
                self.tr("Images, oldest first (at least 3 co-registered rasters)"),
                LAYER_RASTER,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.DATES,
                self.tr(
                    "Acquisition dates (YYYY-MM-DD, comma-separated, in INPUT "
                    "order; empty: from the files' tags or names)"
                ),
                optional=True,
            )
        )
        k = QgsProcessingParameterNumber(
            self.PAIRS_PER_IMAGE,
            self.tr("Pairs per image (each image with its next K)"),
            INTEGER,
            3,
            minValue=1,
            maxValue=20,
        )
        span = QgsProcessingParameterNumber(
            self.MAX_SPAN_DAYS,
            self.tr("Largest time span of a pair (days, 0: no limit)"),
            DOUBLE,
            0.0,
            minValue=0.0,
            maxValue=36525.0,
        )
        self.addParameter(k)
        self.addParameter(set_unit(span, "days"))
        self.addParameter(
            QgsProcessingParameterString(
                self.WINDOW_SIZES, self.tr("Window sizes (pixels, comma-separated)"), "32,64,128"
            )
        )
        for name, label, default, top in (
            (self.STEP, self.tr("Step between window centres (pixels)"), 16, 4096),
            (self.SEARCH, self.tr("Search distance (pixels, each direction)"), 16, 512),
        ):
            self.addParameter(
                set_unit(
                    QgsProcessingParameterNumber(
                        name, label, INTEGER, default, minValue=1, maxValue=top
                    ),
                    "px",
                )
            )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.PREFILTER,
                self.tr("Pre-filter (none; wallis: brightness changes; log: SAR " "intensity)"),
                list(PREFILTERS),
                defaultValue=0,
            )
        )
        for name, label, kind in (
            (
                self.STABLE_AREAS,
                self.tr("Stable ground (polygons of ground that did not move)"),
                VECTOR_POLYGON,
            ),
            (self.AREAS, self.tr("Landslide areas for the report (polygons)"), VECTOR_POLYGON),
            (self.POINTS, self.tr("Points for the report"), None),
        ):
            types = [kind] if kind is not None else []
            self.addParameter(
                QgsProcessingParameterFeatureSource(name, label, types, optional=True)
            )
        self.addParameter(
            QgsProcessingParameterString(
                self.SCHEDULER,
                self.tr("Dask scheduler address (tcp://host:8786; empty: this " "machine)"),
                defaultValue=str(QgsSettings().value(SCHEDULER_KEY, "") or ""),
                optional=True,
            )
        )
        self.add_device_parameter(self.DEVICE)
        band = QgsProcessingParameterNumber(
            self.BAND, self.tr("Band (of every image)"), INTEGER, 1, minValue=1, maxValue=65535
        )
        quality = QgsProcessingParameterNumber(
            self.MIN_QUALITY,
            self.tr("Minimum peak NCC to accept a match (0-1)"),
            DOUBLE,
            0.1,
            minValue=-1.0,
            maxValue=1.0,
        )
        outliers = QgsProcessingParameterEnum(
            self.OUTLIER_FILTER, self.tr("Outlier filter"), list(FILTERS), defaultValue=1
        )
        passes = QgsProcessingParameterNumber(
            self.DEFORMATION_PASSES,
            self.tr("Window-deformation passes (0: peak fits only, faster)"),
            INTEGER,
            DEFAULT_DEFORM_PASSES,
            minValue=0,
            maxValue=3,
        )
        for p in (band, quality, outliers, passes):
            self.addParameter(set_advanced(p))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT, self.tr("Cumulative displacement per date (east, north in m)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.VELOCITY_OUTPUT,
                self.tr("Mean velocity and acceleration (m/yr, m/yr2)"),
                optional=True,
                createByDefault=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.REPORT,
                self.tr("HTML report (time series plot)"),
                self.tr("HTML files (*.html)"),
                optional=True,
                createByDefault=False,
            )
        )

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802
        """A folder given as INPUT (qgis_process) stands for its GeoTIFFs; image files are
        loaded once here without GDAL's auxiliary files (input_layers.py), so that nothing is
        written beside the user's images."""
        folder = self._folder(parameters.get(self.INPUT))
        values = parameters.get(self.INPUT)
        files = self._folder_files(folder) if folder else values
        if folder and not files:
            return False, self.tr("INPUT: the folder holds no .tif images.")
        for value in files if isinstance(files, (list, tuple)) else []:
            if isinstance(value, str) and os.path.isfile(value.split("|")[0]):
                if load_input_raster(value, context) is None:
                    return False, self.tr(
                        "INPUT: '{file}' could not be read as a raster (corrupt file or "
                        "unsupported format)."
                    ).format(file=os.path.basename(value))
        if folder:
            parameters = {**parameters, self.INPUT: files}
        return super().checkParameterValues(parameters, context)

    @staticmethod
    def _folder(value: Any) -> str | None:
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        return value if isinstance(value, str) and os.path.isdir(value) else None

    @staticmethod
    def _folder_files(folder: str) -> list[str]:
        return sorted(
            p
            for p in glob.glob(os.path.join(folder, "*"))
            if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(p)
        )

    def image_paths(self, parameters: dict, context: QgsProcessingContext) -> list[str]:
        folder = self._folder(parameters.get(self.INPUT))
        if folder:
            return self._folder_files(folder)
        paths = []
        for layer in self.parameterAsLayerList(parameters, self.INPUT, context):
            if not isinstance(layer, QgsRasterLayer) or layer.providerType() != "gdal":
                raise QgsProcessingException(
                    self.tr(
                        "INPUT: '{layer}' is not a file-based raster; save it as a GeoTIFF first."
                    ).format(layer=layer.name())
                )
            paths.append(layer.source().split("|")[0])
        return paths

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.offsets.tracking import OffsetTrackingConfig, parse_window_sizes
        from ..engine.timeseries.run import TimeSeriesConfig, displacement_time_series

        paths = self.image_paths(parameters, context)
        first = load_input_raster(paths[0], context) if paths else None
        crs = first.crs() if first is not None else None
        tracking = OffsetTrackingConfig(
            window_sizes=parse_window_sizes(
                self.parameterAsString(parameters, self.WINDOW_SIZES, context)
            ),
            step=self.parameterAsInt(parameters, self.STEP, context),
            search=self.parameterAsInt(parameters, self.SEARCH, context),
            band=self.parameterAsInt(parameters, self.BAND, context) or 1,
            min_quality=self.parameterAsDouble(parameters, self.MIN_QUALITY, context),
            outlier_filter=list(FILTERS)[
                self.parameterAsEnum(parameters, self.OUTLIER_FILTER, context)
            ],
            prefilter=list(PREFILTERS)[self.parameterAsEnum(parameters, self.PREFILTER, context)],
            deform_passes=self.parameterAsInt(parameters, self.DEFORMATION_PASSES, context),
            stable_areas=[
                g for _n, g in self._features(parameters, self.STABLE_AREAS, crs, context)
            ]
            or None,
        )
        config = TimeSeriesConfig(
            tracking=tracking,
            dates=self.parameterAsString(parameters, self.DATES, context) or None,
            pairs_per_image=self.parameterAsInt(parameters, self.PAIRS_PER_IMAGE, context),
            max_span_days=self.parameterAsDouble(parameters, self.MAX_SPAN_DAYS, context),
            scheduler=self.parameterAsString(parameters, self.SCHEDULER, context) or None,
            areas=self._features(parameters, self.AREAS, crs, context) or None,
            points=[
                (n, g["coordinates"][0], g["coordinates"][1])
                for n, g in self._features(parameters, self.POINTS, crs, context)
                if g.get("type") == "Point"
            ],
        )
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        velocity = self.parameterAsOutputLayer(parameters, self.VELOCITY_OUTPUT, context) or None
        report = self.parameterAsFileOutput(parameters, self.REPORT, context) or None
        result = displacement_time_series(
            paths,
            output,
            config,
            self.reporter(feedback),
            velocity,
            report,
            self.run_options(parameters, context, feedback, self.DEVICE),
        )
        TimeSeriesLayers.attach(context, output, [d.isoformat() for d in result.dates])
        results: dict[str, Any] = {self.OUTPUT: output}
        if velocity:
            LayerStyle.attach(
                context, velocity, self.tr("Mean velocity (m/yr)"), displacement("m/yr")
            )
            results[self.VELOCITY_OUTPUT] = velocity
        if report:
            results[self.REPORT] = report
        return results

    def _features(
        self, parameters: dict, name: str, crs: Any, context: QgsProcessingContext
    ) -> list[tuple[str, dict]]:
        """(name, GeoJSON geometry in the images' CRS) of an optional vector parameter."""
        if not parameters.get(name):
            return []
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            raise QgsProcessingException(
                self.tr("{name}: could not load the layer.").format(name=name)
            )
        transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
        out = []
        for feature in source.getFeatures():
            geom = feature.geometry()
            if geom is None or geom.isEmpty():
                continue
            geom.transform(transform)
            label = str(feature.id())
            fields = feature.fields().names()
            for key in ("name", "NAME", "id", "ID"):
                if key in fields and feature[key] not in (None, ""):
                    label = str(feature[key])
                    break
            if name == self.POINTS and geom.isMultipart():
                geom = geom.centroid()
            out.append((label, json.loads(geom.asJson())))
        return out
