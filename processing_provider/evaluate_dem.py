"""geohazard:evaluatedem: accuracy of a DEM against a reference DEM, with a report."""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import ESRGAN_DEM, SSIM
from .output_styles import DEM_DIFFERENCE
from .styling import LayerStyle

HELP = """Compares a DEM (for instance a super-resolved or resampled one) with a reference DEM \
of higher accuracy, on the reference's grid (the DEM is resampled by cubic convolution when \
the grids differ), over the pixels valid in both.

Reported: PSNR (dB, peak = the reference's elevation range), SSIM (0-1), elevation RMSE, MAE \
and mean bias (m, DEM minus reference), and RMSE of slope (degrees, central differences on the \
pixel size in metres; degrees of latitude/longitude converted at the grid's latitude).

Outputs: the difference raster DEM - reference (m), styled with a diverging ramp centred on zero \
and stretched over the 2nd-98th percentiles of the differences (so a few spikes do not wash it \
out), and an HTML report with the metrics and the histogram of differences with a fitted normal \
curve. The metrics are those the DEM super-resolution paper reports.

<b>Low-resolution DEM</b> (optional): the DEM the evaluated one was made from (for instance the \
input of "DEM super-resolution"), on the reference's CRS with pixels a whole number of times \
larger. When given, the same metrics are computed for three classical upsamplings of it onto the \
reference grid, so you can see whether the evaluated DEM is worth more than they are: cubic \
spline with back-projection (every block of output pixels averages to its low-resolution \
pixel; the "spline" method of DEM super-resolution), GDAL cubic convolution (gdalwarp -r cubic) \
and nearest neighbour. They are listed in the log and the report, and returned as \
SPLINE_RMSE, SPLINE_SLOPE_RMSE, CUBIC_RMSE, CUBIC_SLOPE_RMSE, NEAREST_RMSE and \
NEAREST_SLOPE_RMSE (m and degrees)."""


class EvaluateDemAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "evaluatedem"
    DISPLAY_NAME = "Evaluate DEM against a reference"
    GROUP = "DEM"
    GROUP_ID = "dem"
    HELP = HELP
    TAGS = (
        "DEM",
        "elevation",
        "accuracy",
        "validation",
        "comparison",
        "difference",
        "error",
        "RMSE",
        "PSNR",
        "SSIM",
        "slope",
        "super-resolution",
    )
    CITATIONS = (SSIM, ESRGAN_DEM)
    HELP_ANCHOR = "dem-super-resolution-geohazarddemsuperresolution-evaluatedem-topographicphase"

    INPUT = "INPUT"
    REFERENCE = "REFERENCE"
    OUTPUT = "OUTPUT"
    REPORT = "REPORT"
    LOW_RESOLUTION = "LOW_RESOLUTION"
    METRICS = ("PSNR", "SSIM", "RMSE", "MAE", "BIAS", "SLOPE_RMSE")
    BASELINE_OUTPUTS = {
        "spline_bp": ("SPLINE_RMSE", "SPLINE_SLOPE_RMSE", "spline with back-projection"),
        "gdal_cubic": ("CUBIC_RMSE", "CUBIC_SLOPE_RMSE", "GDAL cubic"),
        "nearest": ("NEAREST_RMSE", "NEAREST_SLOPE_RMSE", "nearest neighbour"),
    }
    REQUIRES = ("numpy", "rasterio", "scipy")
    MEMORY_ADVICE = "clip both DEMs to the area of interest"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("DEM to evaluate")))
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.REFERENCE, self.tr("Reference DEM (defines the grid)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT, self.tr("Difference DEM - reference (m)")
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.REPORT,
                self.tr("HTML report (metrics and difference histogram)"),
                self.tr("HTML files (*.html)"),
                optional=True,
                createByDefault=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.LOW_RESOLUTION,
                self.tr("Low-resolution DEM it was made from (adds the classical baselines)"),
                optional=True,
            )
        )
        labels = {
            "PSNR": "PSNR (dB)",
            "SSIM": "SSIM",
            "RMSE": "Elevation RMSE (m)",
            "MAE": "Elevation MAE (m)",
            "BIAS": "Mean difference (m)",
            "SLOPE_RMSE": "Slope RMSE (degrees)",
        }
        for key in self.METRICS:
            self.addOutput(QgsProcessingOutputNumber(key, self.tr(labels[key])))
        for rmse, slope, name in self.BASELINE_OUTPUTS.values():
            self.addOutput(
                QgsProcessingOutputNumber(
                    rmse, self.tr("Elevation RMSE of {name} (m)").format(name=name)
                )
            )
            self.addOutput(
                QgsProcessingOutputNumber(
                    slope, self.tr("Slope RMSE of {name} (degrees)").format(name=name)
                )
            )

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.dem.dem_baselines import evaluate_dem_with_baselines, format_baselines

        dem = self.raster_file(parameters, self.INPUT, context)
        reference = self.raster_file(parameters, self.REFERENCE, context)
        low = None
        if self.parameterAsRasterLayer(parameters, self.LOW_RESOLUTION, context) is not None:
            low = self.raster_file(parameters, self.LOW_RESOLUTION, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        report = self.parameterAsFileOutput(parameters, self.REPORT, context) or None
        m, baselines = evaluate_dem_with_baselines(
            dem, reference, low, output, report, self.reporter(feedback)
        )

        def shown(value: float, fmt: str) -> str:
            return "undefined" if math.isnan(value) else format(value, fmt)

        feedback.pushInfo(
            f"PSNR {shown(m.psnr_db, '.2f')} dB, SSIM {shown(m.ssim, '.4f')}, RMSE "
            f"{m.rmse_m:.3f} m, slope RMSE {shown(m.slope_rmse_deg, '.3f')} deg over "
            f"{m.valid_pixels} pixels."
        )
        LayerStyle.attach(
            context,
            output,
            self.tr("DEM difference (m)"),
            DEM_DIFFERENCE,
        )
        values = (m.psnr_db, m.ssim, m.rmse_m, m.mae_m, m.bias_m, m.slope_rmse_deg)
        results = {self.OUTPUT: output, **dict(zip(self.METRICS, values))}
        if baselines:
            for line in format_baselines(m, baselines):
                feedback.pushInfo(line)
            for key, (rmse, slope, _name) in self.BASELINE_OUTPUTS.items():
                results[rmse] = baselines[key].rmse_m
                results[slope] = baselines[key].slope_rmse_deg
        if report:
            results[self.REPORT] = report
        return results
