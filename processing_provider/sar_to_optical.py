"""geohazard:sartooptical: an optical-like RGB image from Sentinel-1 VV/VH and a DEM (SARDINet)."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.sar_to_optical import FAMILY as SAR_TO_OPTICAL_FAMILY
from ..engine.families.sar_to_optical.task import ENHANCEMENTS, FUSIONS
from ..engine.families.sar_to_optical.task import TASK as SAR_TO_OPTICAL_TASK
from .model_algorithm import ModelAlgorithm
from .output_styles import OPTICAL_RGB
from .styling import LayerStyle

HELP = """Predicts an optical-like RGB image of the ground from a Sentinel-1 image, for example \
when clouds hide the optical images after a rainstorm, with SARDINet (Bralet et al., ICIP \
2022) and the DEM fusion of Bralet et al. (IGARSS 2024), which helps the network tell radar \
shadow from water and read foreshortened and layover slopes.

<b>SAR</b>: two bands, VV then VH backscatter (sigma0, calibrated and terrain-corrected GRD, \
linear or dB; dB is recognised by its negative values). <b>DEM</b>: elevations in metres, any \
grid overlapping the SAR (resampled onto the SAR grid); needed by every fusion except sar-only. \
<b>Fusion</b>: sar-only (the original SARDINet), early (DEM stacked with the SAR), late \
(separate SAR and DEM branches, the paper's most reliable in shadows) or intermediate \
(balanced separable convolutions, 9,852 instead of 223,776 weights in the input conditioning). \
The model must be of the chosen fusion.

<b>Enhance</b>: none; laplacian (sharpening by the Laplacian filter) or wiener (Wiener \
deconvolution of a 9 x 9 Gaussian kernel), the paper's remedies for the low contrast of the \
translations.

<b>Model</b>: "default" is the bundled model of the fusion ({models}); or a user model's name, \
or a .safetensors file with its JSON card beside it. The bundled models are demonstrations \
trained on SIMULATED Sentinel-1 images (real DEMs, land cover from a real Sentinel-2 scene); \
on simulated held-out areas only sar-only and intermediate beat a linear colour mapping of the \
SAR bands in both MSE and SSIM; late and early lose to it in MSE (all beat it in SSIM; \
docs/sar_optical_table1.md, the cards' held_out). Retrain on real Sentinel-1/Sentinel-2 pairs \
of your region (scripts/prepare_sar_optical.py, scripts/train_sar_to_optical.py) before relying \
on them. The output is a \
prediction, not an observation.

Output: RGB GeoTIFF (0-255, float32, nodata where the SAR has none) on the SAR grid, loaded as \
an RGB layer. Tile size {tile} and overlap {overlap} pixels (advanced); Device: a CUDA GPU when \
available."""


class SarToOpticalAlgorithm(ModelAlgorithm):
    ALG_NAME = "sartooptical"
    DISPLAY_NAME = "SAR to optical translation (SARDINet with DEM)"
    GROUP = "SAR"
    GROUP_ID = "sar"
    HELP = HELP
    TASK = SAR_TO_OPTICAL_TASK
    FAMILY = SAR_TO_OPTICAL_FAMILY
    TAGS = (
        "SAR",
        "Sentinel-1",
        "optical",
        "SAR-to-optical",
        "translation",
        "SARDINet",
        "deep learning",
        "clouds",
        "DEM",
        "landslide",
        "flood",
        "RGB",
    )
    # What a run imports (scikit-image is only used by the training metrics, not here); every
    # name must be one the installer offers (dependencies.requirements.PLUGIN_MODULES).

    SAR = "SAR"
    DEM = "DEM"
    FUSION = "FUSION"
    ENHANCE = "ENHANCE"
    OUTPUT = "OUTPUT"
    DEFAULT_FUSION = 2  # late

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.SAR, self.tr("Sentinel-1 SAR (band 1 VV, band 2 VH; sigma0 linear or dB)")
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.DEM, self.tr("DEM (elevations in metres)"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FUSION,
                self.tr("SAR-DEM fusion"),
                options=list(FUSIONS),
                defaultValue=self.DEFAULT_FUSION,
            )
        )
        self.add_model_parameters()
        self.addParameter(
            QgsProcessingParameterEnum(
                self.ENHANCE,
                self.tr("Contrast enhancement"),
                options=list(ENHANCEMENTS),
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Optical-like image"))
        )

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.sar_to_optical.task import (
            SarToOpticalConfig,
            translate_sar_to_optical,
        )

        sar = self.raster_file(parameters, self.SAR, context)
        dem = self.raster_file(parameters, self.DEM, context) if parameters.get(self.DEM) else None
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        config = SarToOpticalConfig(
            fusion=FUSIONS[self.parameterAsEnum(parameters, self.FUSION, context)],
            model=self.model_choice(parameters, context),
            enhance=ENHANCEMENTS[self.parameterAsEnum(parameters, self.ENHANCE, context)],
            tiles=self.tile_settings(parameters, context),
        )
        summary = translate_sar_to_optical(
            sar,
            dem,
            output,
            config,
            self.run_options(parameters, context, feedback),
            self.reporter(feedback),
            user_models=self.store().user_dir,
        )
        self.model_summary(summary, feedback)
        LayerStyle.attach(context, output, self.tr("Optical-like image (predicted)"), OPTICAL_RGB)
        return {self.OUTPUT: output}
