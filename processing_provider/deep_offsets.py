"""geohazard:deepoffsettracking: dense offsets of two SAR amplitude images by CC-ResSiamNet."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBand,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.deep_offsets import FAMILY as DEEP_OFFSETS_FAMILY
from ..engine.families.deep_offsets.task import TASK as DEEP_OFFSET_TASK
from .citations import GARDNER_2018
from .model_algorithm import ModelAlgorithm
from .output_styles import displacement
from .styling import LayerStyle
from .tracking_options import TrackingOptions

HELP = """Measures ground displacement between two SAR amplitude images at every pixel with a \
deep network, CC-ResSiamNet (cross-connected Siamese ResNet; Remote Sensing of Environment 318, \
114577, 2025): two weight-sharing ResNet encoders, one per image, exchange features at every \
scale, and a U-Net decoder with residual and attention blocks predicts the east and north offset \
of each pixel. Like the paper's network it also reads the classical tracker's offsets at \
several window sizes ("multi-kernel"): this plugin's own NCC tracker runs first on a coarse grid \
(the window sizes, step and search named in the model card) and the network refines its result \
to every pixel, sharper at landslide margins and fault ruptures than windows can be.

<b>Reference</b> and <b>secondary</b>: two acquisitions of the same area, ideally on the same \
grid (a secondary on another grid is resampled, bilinear, with a warning). <b>Band</b>: the band \
of both images to use (default 1). Amplitude, not intensity or dB, is what the model was trained \
on; nodata stays nodata.

<b>Output</b>: the band layout of "Offset tracking", on the reference grid (one value per input \
pixel): 1 east offset (m), 2 north offset (m), 3 magnitude (m), 4 quality (peak NCC of the \
classical prior's smallest window), 5 east and 6 north 1-sigma uncertainty (m). Offsets of the \
secondary relative to the reference, positive east and north (COSI-Corr/autoRIFT convention). \
The uncertainty is the network's own error estimate, calibrated on simulated validation pairs so \
that about 95% of true errors lie within 2 sigma; it grows where the images decorrelate or lack \
texture and where the network and the classical offsets disagree, and is raised to at least 10% \
of the motion where the ground moves more than the model was trained on (the log says when).

<b>When to use which tracker</b>: the deep tracker gives a dense map quickly and resolves sharp \
gradients; the classical tracker is the reference for small (sub-pixel) motion, which the paper \
names as the deep model's weakness, and for motions larger than the model's training range \
({trained}). The model card (models/*.json) reports, per kind of motion (glacier, fault, \
volcano, landslide, none) and for sub-pixel motion, the RMSE of both on pairs from regions the \
model never saw; read it before trusting one over the other.

<b>Pre-filter</b>, <b>reference and secondary dates</b>, <b>stable ground</b> and <b>prior \
offsets</b> work as in "Offset tracking": the pre-filter (wallis for brightness changes, log for \
intensity) is applied to the images for the NCC prior only (the network reads the amplitudes it \
was trained on); with both dates the optional <b>velocity output</b> holds the same six bands in \
m/yr (offsets x 365.25 / days; Gardner et al. 2018); the median offset over the stable-ground \
polygons is removed from every pixel, and STABLE_SHIFT_EAST, STABLE_SHIFT_NORTH and STABLE_RMSE \
(m) report the shift and what is left over stable ground; prior offsets (a raster of expected \
east/north offsets in m, the reference's CRS) centre the prior's search windows, for motions \
larger than its search. The same file, or two files with identical pixels, is refused: tracking \
an image against itself measures nothing.

<b>Model</b>: "default" is the bundled model ({models}); or a model name, or a .safetensors file \
with its JSON card beside it (e.g. one trained with scripts/train_deep_offsets.py). \
<b>Tile size</b>, <b>overlap</b>, <b>tiles per batch</b> (advanced): the network runs on \
overlapping tiles (default {tile} px, overlap {overlap}), blended without seams, so a scene of \
any size runs in bounded memory. <b>Device</b>: auto uses a CUDA GPU when available."""


class DeepOffsetTrackingAlgorithm(TrackingOptions, ModelAlgorithm):
    ALG_NAME = "deepoffsettracking"
    DISPLAY_NAME = "Deep offset tracking (CC-ResSiamNet)"
    GROUP = "Displacement"
    GROUP_ID = "displacement"
    HELP = HELP
    TASK = DEEP_OFFSET_TASK
    FAMILY = DEEP_OFFSETS_FAMILY
    TAGS = (
        "landslide",
        "glacier",
        "ice flow",
        "earthquake",
        "coseismic",
        "volcano",
        "displacement",
        "deformation",
        "offset tracking",
        "pixel tracking",
        "correlation",
        "SAR",
        "Sentinel-1",
        "amplitude",
        "deep learning",
        "CC-ResSiamNet",
    )
    EXTRA_CITATIONS = (GARDNER_2018,)  # velocities in m/yr

    REFERENCE = "REFERENCE"
    SECONDARY = "SECONDARY"
    BAND = "BAND"
    OUTPUT = "OUTPUT"

    def help_body(self) -> str:
        return super().help_body().replace("{trained}", self._trained_range())

    def _trained_range(self) -> str:
        for entry in self.store().list(self.TASK.name):
            if entry.name == self.TASK.default_model(None):
                px = entry.card.normalisation.params.get("trained_max_px")
                if px:
                    return self.tr("{px:.0f} pixels for the bundled model").format(px=float(px))
        return self.tr("see the model card")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.REFERENCE, self.tr("Reference amplitude image (earlier acquisition)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.SECONDARY, self.tr("Secondary amplitude image (later acquisition)")
            )
        )
        self.addParameter(
            QgsProcessingParameterBand(
                self.BAND, self.tr("Band (of both images)"), 1, self.REFERENCE, optional=True
            )
        )
        self.add_prefilter_parameter(
            self.tr("Pre-filter of the NCC prior (none; wallis: brightness changes; log)")
        )
        self.add_option_parameters()
        self.add_model_parameters()
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT,
                self.tr("Dense offsets (east, north, magnitude in m; quality; 1-sigma in m)"),
            )
        )
        self.add_velocity_output()
        self.add_stable_outputs()

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.deep_offsets.task import DeepOffsetConfig, deep_track_offsets

        reference = self.raster_file(parameters, self.REFERENCE, context)
        secondary = self.raster_file(parameters, self.SECONDARY, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        velocity = self.parameterAsOutputLayer(parameters, self.VELOCITY_OUTPUT, context) or None
        config = DeepOffsetConfig(
            band=self.parameterAsInt(parameters, self.BAND, context) or 1,
            model=self.model_choice(parameters, context),
            tiles=self.tile_settings(parameters, context),
            prefilter=self.prefilter_choice(parameters, context),
            prior_offsets=self.prior_offsets_file(parameters, context),
            reference_date=self._date(parameters, self.REFERENCE_DATE, context),
            secondary_date=self._date(parameters, self.SECONDARY_DATE, context),
            stable_areas=self._stable_areas(parameters, reference, context),
        )
        summary = deep_track_offsets(
            reference,
            secondary,
            output,
            config,
            self.run_options(parameters, context, feedback, self.DEVICE),
            self.reporter(feedback),
            user_models=self.store().user_dir,
            velocity_output=velocity,
        )
        self.model_summary(summary, feedback)
        LayerStyle.attach(
            context,
            output,
            self.tr("Deep offset magnitude (m)"),
            displacement("m"),
        )
        results: dict[str, Any] = {self.OUTPUT: output}
        if summary.get("velocity_output"):
            LayerStyle.attach(
                context,
                velocity,
                self.tr("Deep velocity magnitude (m/yr)"),
                displacement("m/yr"),
            )
            results[self.VELOCITY_OUTPUT] = velocity
        results.update(self.stable_results(summary.get("stable")))
        return results
