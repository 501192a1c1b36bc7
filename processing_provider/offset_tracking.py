"""geohazard:offsettracking: classical multi-window NCC offset tracking of two SAR images."""

from __future__ import annotations

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
from .citations import AUTORIFT, CC_RESSIAMNET, COSI_CORR, GARDNER_2018, SCARANO_2002
from .output_styles import displacement, offsets_per_window
from .parameter_checks import set_unit
from .qgis_compat import DOUBLE, INTEGER, set_advanced
from .styling import LayerStyle
from .tracking_options import TrackingOptions

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

Output: a 6-band GeoTIFF on the grid of window centres: 1 east offset (m), 2 north offset (m), 3 \
magnitude (m), 4 quality (peak NCC, 0-1), 5 east and 6 north 1-sigma uncertainty (m). Offsets are \
those of the secondary relative to the reference, positive east and north (the COSI-Corr/autoRIFT \
convention), NaN where no reliable match was found. Geographic (degree) grids are converted to \
metres locally. The optional per-size output holds east, north and quality of every window size \
before combination and outlier removal (the "multi-kernel" offsets of the CC-ResSiamNet \
paper); it loads showing the east offset of the smallest window.

Outlier filter: 2-sigma drops points whose offset differs from their 3x3 neighbourhood median by \
more than twice the robust standard deviation (and at least half a pixel); median smooths with a \
3x3 median. Runs on a CUDA GPU when available (Device).

<b>Sub-pixel offsets</b>: each window's correlation peak is found to the whole pixel and refined \
by 3-point Gaussian fits; a window-deformation pass follows, the iterative image deformation \
of particle image velocimetry (Scarano 2002) as OpenPIV's multi-pass runs it. The offsets found \
are cleaned (3x3 median), smoothed over a quarter window and used to resample the secondary \
(cubic B-spline) pixel by pixel, so that it lines up with the reference; each window's small \
remaining offset is then measured near zero lag and added. This removes the pull of sub-pixel \
estimates towards whole pixels (pixel locking: 0.05 px of bias on a real texture with speckle, \
about 0.01 px after) and follows motion that varies inside a window (landslide margins, strain \
near a fault, glacier shear margins): the offset is that at the window centre, not the window's \
average (32 and 64 px windows at a step of 8 px: 0.04-0.07 px RMSE on a smooth 3 px field). A \
window whose refined offset would move by more than a pixel keeps its first estimate, for the \
outlier filter to judge. Window-deformation passes (advanced): 1 by default, at about 1.4 times \
the time of the first correlation alone; 0 keeps the 3-point fits (faster, pixel locking); 2 \
follows fields that vary strongly inside a window (steep strain gradients) at about twice the time.

<b>Uncertainty</b> (bands 5-6, m, 1-sigma): per point, from the sharpness of the correlation \
peak against its decorrelation and the noise of the correlation surface and the window size (the \
idea of ampcor's covariance and of COSI-Corr's SNR; Leprince et al. 2007, IEEE TGRS), plus the \
disagreement between window sizes. Calibrated on simulated pairs with known motion (uniform and \
varying, 1 to 16 looks, decorrelated ground, a synthetic and a real DEM-based texture) so that \
about 95% of true errors lie within 2 sigma (measured 91-98% per case). It does not include \
errors common to the whole scene (orbit or co-registration bias): the stable-ground RMSE \
measures those. Points without a match or removed as outliers are NaN in every band.

<b>Reference date / Secondary date</b> (optional, dates of the acquisitions): with both, the \
optional <b>velocity output</b> holds the same six bands in m/yr (offsets x 365.25 / days \
between the dates; quality unchanged), as ITS_LIVE and autoRIFT report (Gardner et al. 2018, The \
Cryosphere). The secondary date must be later than the reference date.

<b>Stable areas</b> (optional polygons, any CRS): ground known not to move (bedrock, built-up \
areas away from the slope). The median east and north offset of the points inside is subtracted \
from every point, removing co-registration and orbit bias; the log and the outputs \
STABLE_SHIFT_EAST, STABLE_SHIFT_NORTH (m) give the shift removed and STABLE_RMSE (m) the \
root-mean-square offset left on stable ground, the figure ITS_LIVE users read as the map's error. \
At least 10 valid points must lie inside, or no correction is made (with a warning).

<b>Prior offsets</b> (optional raster, bands 1-2 = expected east and north offsets in m, in the \
reference's CRS, any pixel size; e.g. a previous velocity map times the interval): each window \
searches around its prior, so a glacier moving 40 px is tracked with a search of 8 px (the \
spatially varying search centres of autoRIFT, Lei et al. 2021). The reported offsets are the \
total motion.

<b>Pre-filter</b>: none (optical images, or SAR pairs of the same season and geometry); wallis \
(local contrast normalisation over 21 px, as autoRIFT does for Sentinel-1: use it when \
brightness or contrast changed between the dates, e.g. snow, vegetation, soil moisture, or when \
a few bright areas would dominate the correlation); log (logarithm of the amplitude: for SAR \
intensity or amplitude with strong bright scatterers or a gain change between the dates).

<b>Suggested settings.</b> Glaciers: windows 64,128 (or 32,64 for small glaciers), step 16-32, \
search 8-16 with a prior velocity map (without one, a search above the largest motion in \
pixels), Wallis pre-filter, dates for m/yr, rock outcrops as stable areas. Landslides: windows \
32,64, step 4-8 (the small step also gives the window deformation a finer field to follow), \
search a little above the largest expected motion in pixels, no pre-filter (log for SAR with \
bright buildings or rock faces), stable areas around the slide. Earthquakes (co-seismic \
offsets, decimetres to metres): windows 64,128, step 16, search 4-8, log or Wallis pre-filter, \
stable areas far from the rupture."""

# engine/offsets/deform.py PASSES (not imported: that module needs torch, the provider loads
# without it); tests/test_offset_tracking_options.py checks they agree
DEFAULT_DEFORM_PASSES = 1


class OffsetTrackingAlgorithm(TrackingOptions):
    ALG_NAME = "offsettracking"
    DISPLAY_NAME = "Offset tracking (multi-window NCC)"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    MEMORY_ADVICE = (
        "use a larger STEP, fewer or smaller window sizes, or clip the images to the area "
        "of interest"
    )
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
    CITATIONS = (CC_RESSIAMNET, AUTORIFT, COSI_CORR, SCARANO_2002, GARDNER_2018)
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
    DEFORMATION_PASSES = "DEFORMATION_PASSES"

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
        self.add_prefilter_parameter(
            self.tr("Pre-filter (none; wallis: brightness changes; log: SAR intensity)")
        )
        self.add_option_parameters()
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
        passes = QgsProcessingParameterNumber(
            self.DEFORMATION_PASSES,
            self.tr("Window-deformation passes (0: peak fits only, faster)"),
            INTEGER,
            DEFAULT_DEFORM_PASSES,
            minValue=0,
            maxValue=3,
        )
        for p in (quality, outliers, passes):
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
        self.add_velocity_output()
        self.add_stable_outputs()

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
            prefilter=self.prefilter_choice(parameters, context),
            deform_passes=self.parameterAsInt(parameters, self.DEFORMATION_PASSES, context),
            reference_date=self._date(parameters, self.REFERENCE_DATE, context),
            secondary_date=self._date(parameters, self.SECONDARY_DATE, context),
            stable_areas=self._stable_areas(parameters, reference, context),
            prior_offsets=self.prior_offsets_file(parameters, context),
        )
        velocity = self.parameterAsOutputLayer(parameters, self.VELOCITY_OUTPUT, context) or None
        result = track_offsets(
            reference,
            secondary,
            output,
            config,
            self.reporter(feedback),
            per_size_output=per_size,
            options=self.run_options(parameters, context, feedback, self.DEVICE),
            velocity_output=velocity,
        )
        LayerStyle.attach(
            context,
            output,
            self.tr("Offset magnitude (m)"),
            displacement("m"),
        )
        results: dict[str, Any] = {self.OUTPUT: output}
        if per_size:
            LayerStyle.attach(
                context,
                per_size,
                self.tr("Offsets per window size: east, {size} px window (m)").format(
                    size=result.window_sizes[0]
                ),
                offsets_per_window("m"),
            )
            results[self.PER_SIZE_OUTPUT] = per_size
        if velocity:
            LayerStyle.attach(
                context,
                velocity,
                self.tr("Velocity magnitude (m/yr)"),
                displacement("m/yr"),
            )
            results[self.VELOCITY_OUTPUT] = velocity
        results.update(self.stable_results(result.stable))
        return results
