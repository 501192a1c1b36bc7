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
curve. The metrics are those the DEM super-resolution paper reports."""


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
    METRICS = ("PSNR", "SSIM", "RMSE", "MAE", "BIAS", "SLOPE_RMSE")
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

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.dem_evaluation import evaluate_dem

        dem = self.raster_file(parameters, self.INPUT, context)
        reference = self.raster_file(parameters, self.REFERENCE, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        report = self.parameterAsFileOutput(parameters, self.REPORT, context) or None
        m = evaluate_dem(dem, reference, output, report, self.reporter(feedback))

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
        if report:
            results[self.REPORT] = report
        return results
