"""geohazard:topographicphase: InSAR topographic phase of a DEM and the residue of another DEM."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import ESRGAN_DEM, HANSSEN
from .output_styles import PHASE_RESIDUAL, PHASE_WRAPPED
from .parameter_checks import set_unit
from .qgis_compat import DOUBLE, set_advanced
from .styling import LayerStyle

HELP = """Simulates the topographic phase that a DEM produces in a repeat-pass interferogram: \
phase = 4 pi B_perp h / (lambda R sin(theta)) radians, for elevation h (m above the DEM's datum).

<b>Perpendicular baseline</b> (m, default 150), <b>wavelength</b> (m, default 0.0555, Sentinel-1 \
C band), <b>slant range</b> (m, default 880 000, Sentinel-1 IW mid-swath) and <b>incidence \
angle</b> (degrees, default 39). One fringe corresponds to the height of ambiguity \
lambda R sin(theta) / (2 B_perp), written in the log and as an output.

The baseline may be negative (the sign flips the phase) but not zero.

Output bands: 1 unwrapped phase (rad), 2 wrapped phase (rad, -pi..pi), shown with a cyclic ramp. \
With a <b>comparison DEM</b> (optional; for instance the coarse DEM against a super-resolved or \
reference one), it is resampled onto the DEM's grid (cubic) and bands 3-4 hold the residual \
phase DEM - comparison, unwrapped and wrapped: the DEM phase residues a coarse DEM leaves in \
differential InSAR. Their RMS is an output, and the layer then shows band 3, the unwrapped \
residual (rad, diverging colours around zero), since that is what the comparison is for."""


class TopographicPhaseAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "topographicphase"
    DISPLAY_NAME = "InSAR topographic phase of a DEM"
    GROUP = "DEM"
    GROUP_ID = "dem"
    HELP = HELP
    TAGS = (
        "InSAR",
        "interferometry",
        "interferogram",
        "SAR",
        "Sentinel-1",
        "phase",
        "fringes",
        "height of ambiguity",
        "baseline",
        "DEM",
        "DEM error",
        "elevation",
        "landslide",
        "volcano",
        "deformation",
    )
    CITATIONS = (HANSSEN, ESRGAN_DEM)
    HELP_ANCHOR = "dem-super-resolution-geohazarddemsuperresolution-evaluatedem-topographicphase"

    INPUT = "INPUT"
    BASELINE = "BASELINE"
    WAVELENGTH = "WAVELENGTH"
    SLANT_RANGE = "SLANT_RANGE"
    INCIDENCE = "INCIDENCE"
    COMPARE_DEM = "COMPARE_DEM"
    OUTPUT = "OUTPUT"
    HEIGHT_OF_AMBIGUITY = "HEIGHT_OF_AMBIGUITY"
    RESIDUAL_RMS = "RESIDUAL_RMS"

    # Defaults (Sentinel-1 IW mid-swath), equal to engine.sar.insar_phase.PhaseGeometry's; repeated
    # here so that listing the algorithm never imports the engine (rasterio may be missing).
    DEFAULTS = {
        "baseline_m": 150.0,
        "wavelength_m": 0.05546576,
        "slant_range_m": 880_000.0,
        "incidence_deg": 39.0,
    }
    REQUIRES = ("numpy", "rasterio")
    MEMORY_ADVICE = "clip the DEM to the area of interest"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        d = self.DEFAULTS
        dbl = DOUBLE
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.INPUT, self.tr("DEM (elevations in metres)"))
        )
        baseline = QgsProcessingParameterNumber(
            self.BASELINE,
            self.tr("Perpendicular baseline (m)"),
            dbl,
            d["baseline_m"],
            minValue=-10_000.0,
            maxValue=10_000.0,
        )
        self.addParameter(set_unit(baseline, "m"))
        wavelength = QgsProcessingParameterNumber(
            self.WAVELENGTH,
            self.tr("Radar wavelength (m)"),
            dbl,
            d["wavelength_m"],
            minValue=0.001,
            maxValue=2.0,
        )
        slant = QgsProcessingParameterNumber(
            self.SLANT_RANGE,
            self.tr("Slant range (m)"),
            dbl,
            d["slant_range_m"],
            minValue=100.0,
            maxValue=3_000_000.0,
        )
        for p in (wavelength, slant):
            self.addParameter(set_unit(set_advanced(p), "m"))
        incidence = QgsProcessingParameterNumber(
            self.INCIDENCE,
            self.tr("Incidence angle (degrees)"),
            dbl,
            d["incidence_deg"],
            minValue=0.1,
            maxValue=89.9,
        )
        self.addParameter(set_unit(incidence, "degrees"))
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.COMPARE_DEM, self.tr("Comparison DEM for phase residues"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Topographic phase (rad)"))
        )
        self.addOutput(
            QgsProcessingOutputNumber(self.HEIGHT_OF_AMBIGUITY, self.tr("Height of ambiguity (m)"))
        )
        self.addOutput(
            QgsProcessingOutputNumber(self.RESIDUAL_RMS, self.tr("RMS residual phase (rad)"))
        )

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.sar.insar_phase import PhaseGeometry, topographic_phase

        dem = self.raster_file(parameters, self.INPUT, context)
        compare = None
        if parameters.get(self.COMPARE_DEM):
            compare = self.raster_file(parameters, self.COMPARE_DEM, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        geometry = PhaseGeometry(
            baseline_m=self.parameterAsDouble(parameters, self.BASELINE, context),
            wavelength_m=self.parameterAsDouble(parameters, self.WAVELENGTH, context),
            slant_range_m=self.parameterAsDouble(parameters, self.SLANT_RANGE, context),
            incidence_deg=self.parameterAsDouble(parameters, self.INCIDENCE, context),
        )
        res = topographic_phase(dem, output, geometry, compare, self.reporter(feedback))
        feedback.pushInfo(f"Height of ambiguity: {res['height_of_ambiguity_m']:.1f} m per fringe.")
        if "residual_phase_rms_rad" in res:
            feedback.pushInfo(
                f"RMS residual phase DEM - comparison: {res['residual_phase_rms_rad']:.4f} rad."
            )
        if compare is None:
            LayerStyle.attach(
                context,
                output,
                self.tr("Topographic phase, wrapped (rad)"),
                PHASE_WRAPPED,
            )
        else:
            LayerStyle.attach(
                context,
                output,
                self.tr("Residual phase DEM - comparison (rad)"),
                PHASE_RESIDUAL,
            )
        return {
            self.OUTPUT: output,
            self.HEIGHT_OF_AMBIGUITY: res["height_of_ambiguity_m"],
            self.RESIDUAL_RMS: res.get("residual_phase_rms_rad", float("nan")),
        }
