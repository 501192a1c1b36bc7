"""geohazard:offsettracking: classical multi-window NCC offset tracking of two SAR images."""

from __future__ import annotations

from functools import partial
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..engine.offsets.outliers import FILTERS
from .base_algorithm import GeohazardAlgorithm
from .citations import AUTORIFT, CC_RESSIAMNET, COSI_CORR
from .parameter_checks import set_unit
from .qgis_compat import DOUBLE, INTEGER, set_advanced
from .styling import LayerStyle, pseudocolor, symmetric_pseudocolor

HELP = """Measures ground displacement between two SAR amplitude images (or any two co-registered \
images) by normalized cross-correlation (NCC) of windows, as in pixel offset tracking of \
glaciers, landslides and co-seismic ruptures.

<b>Reference</b> and <b>secondary</b>: two acquisitions of the same area, ideally on the same \
grid. A secondary on another grid or CRS is resampled (bilinear) onto the reference grid, with a \
warning in the log. <b>Band</b>: the band of both images to correlate, 1 for the first band.

<b>Window sizes</b> (pixels, comma-separated, even, e.g. 32,64,128): each size is correlated on \
the same grid of window centres and, per point, the smallest window that gives a trustworthy \
match is kept (it agrees within 1 pixel with the larger windows, or correlates at least as well); \
larger windows fill in where it fails. Small windows resolve sharp landslide margins; large \
windows survive noisy or decorrelated ground.

<b>Step</b> (pixels): spacing of window centres, which is the output pixel size. \
<b>Search</b> (pixels): largest offset looked for in each direction; a peak on the edge of the \
search area is rejected.

Output: a 4-band GeoTIFF on the grid of window centres: east offset (m), north offset (m), \
magnitude (m), quality (peak NCC, 0-1). Offsets are those of the secondary relative to the \
reference, positive east and north (the COSI-Corr/autoRIFT convention), NaN where no reliable \
match was found. Geographic (degree) grids are converted to metres locally. The optional \
per-size output holds east, north and quality of every window size before combination and \
outlier removal (the "multi-kernel" offsets of the CC-ResSiamNet paper); it loads showing the \
east offset of the smallest window.

Outlier filter: 2-sigma drops points whose offset differs from their 3x3 neighbourhood median by \
more than twice the robust standard deviation (and at least half a pixel); median smooths with a \
3x3 median. Runs on a CUDA GPU when available (Device)."""


class OffsetTrackingAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "offsettracking"
    DISPLAY_NAME = "Offset tracking (multi-window NCC)"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    TAGS = (
        "landslide",
        "glacier",
        "ice flow",
        "earthquake",
        "coseismic",
        "volcano",
        "displacement",
        "deformation",
        "velocity",
        "offset tracking",
        "pixel tracking",
        "feature tracking",
        "correlation",
        "cross-correlation",
        "NCC",
        "sub-pixel",
        "SAR",
        "Sentinel-1",
        "amplitude",
        "COSI-Corr",
        "autoRIFT",
    )
    CITATIONS = (CC_RESSIAMNET, AUTORIFT, COSI_CORR)
    HELP_ANCHOR = "offset-tracking-geohazardoffsettracking"

    REFERENCE = "REFERENCE"
    SECONDARY = "SECONDARY"
    BAND = "BAND"
    WINDOW_SIZES = "WINDOW_SIZES"
    STEP = "STEP"
    SEARCH = "SEARCH"
    DEVICE = "DEVICE"
    MIN_QUALITY = "MIN_QUALITY"
    OUTLIER_FILTER = "OUTLIER_FILTER"
    OUTPUT = "OUTPUT"
    PER_SIZE_OUTPUT = "PER_SIZE_OUTPUT"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.REFERENCE, self.tr("Reference image (earlier acquisition)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.SECONDARY, self.tr("Secondary image (later acquisition)")
            )
        )
        self.addParameter(
            QgsProcessingParameterBand(
                self.BAND, self.tr("Band (of both images)"), 1, self.REFERENCE, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.WINDOW_SIZES, self.tr("Window sizes (pixels, comma-separated)"), "32,64,128"
            )
        )
        step = QgsProcessingParameterNumber(
            self.STEP,
            self.tr("Step between window centres (pixels)"),
            INTEGER,
            16,
            minValue=1,
            maxValue=4096,
        )
        search = QgsProcessingParameterNumber(
            self.SEARCH,
            self.tr("Search distance (pixels, each direction)"),
            INTEGER,
            16,
            minValue=1,
            maxValue=512,
        )
        for p in (step, search):
            self.addParameter(set_unit(p, "px"))
        self.add_device_parameter(self.DEVICE)
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
        for p in (quality, outliers):
            self.addParameter(set_advanced(p))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT, self.tr("Offsets (east, north, magnitude in m; quality)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.PER_SIZE_OUTPUT,
                self.tr("Offsets per window size"),
                optional=True,
                createByDefault=False,
            )
        )

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.offsets.tracking import (
            OffsetTrackingConfig,
            parse_window_sizes,
            track_offsets,
        )

        reference = self.raster_file(parameters, self.REFERENCE, context)
        secondary = self.raster_file(parameters, self.SECONDARY, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        per_size = self.parameterAsOutputLayer(parameters, self.PER_SIZE_OUTPUT, context) or None
        config = OffsetTrackingConfig(
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
        )
        result = track_offsets(
            reference,
            secondary,
            output,
            config,
            self.reporter(feedback),
            per_size_output=per_size,
            options=self.run_options(parameters, context, feedback, self.DEVICE),
        )
        LayerStyle.attach(
            context,
            output,
            self.tr("Offset magnitude (m)"),
            partial(pseudocolor, band=3, ramp_name="Magma", lo=0.0, unit="m"),
        )
        results = {self.OUTPUT: output}
        if per_size:
            LayerStyle.attach(
                context,
                per_size,
                self.tr("Offsets per window size: east, {size} px window (m)").format(
                    size=result.window_sizes[0]
                ),
                partial(symmetric_pseudocolor, band=1, ramp_name="RdBu", unit="m"),
            )
            results[self.PER_SIZE_OUTPUT] = per_size
        return results
