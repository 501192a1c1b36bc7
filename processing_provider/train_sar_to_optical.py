"""geohazard:trainsartooptical: fine-tune a SAR-to-optical model on your own SAR/optical areas."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.sar_to_optical import FAMILY as SAR_TO_OPTICAL_FAMILY
from ..engine.families.sar_to_optical.task import FUSIONS
from ..engine.families.sar_to_optical.task import TASK as SAR_TO_OPTICAL_TASK
from .qgis_compat import FILE_FOLDER
from .training_algorithm import TrainingAlgorithm

HELP = """Fine-tunes a SAR-to-optical translation model (SARDINet, Bralet et al. 2022, 2024) \
on your own area: a Sentinel-1 image, a DEM and a cloud-free optical image of the same place, so \
that its optical-like rendering of later SAR images matches your land cover and relief better \
than the bundled model.

<b>SAR</b> (two bands, VV then VH; sigma0 linear or dB), <b>DEM</b> (m) and <b>optical</b> \
(bands 1-3 red, green, blue; any range, each band is stretched linearly between its 1st and \
99th percentiles to 0-1), optionally a <b>mask</b> (non-zero: cloud, snow, unusable). The DEM, \
optical and mask are read onto the SAR grid (bilinear; the mask nearest). Or a <b>training \
folder</b> of areas named &lt;name&gt;_sar.tif, &lt;name&gt;_dem.tif, &lt;name&gt;_optical.tif \
(optionally &lt;name&gt;_mask.tif). The SAR is log-compressed and the DEM divided by the maximum \
elevation exactly as the base model's card says.

<b>Validation share</b>: the area is cut into patches of PATCH_SIZE pixels and that share of \
whole patches (chosen with the seed) is held out. After each epoch the model is measured there \
(MSE of RGB in 0-1) and the best epoch is kept. The card records MSE, SSIM and PSNR globally and \
in foreshortening, layover, shadow and undistorted areas, next to the base model's and a linear \
colour mapping of the SAR bands (fitted on the training patches) on the same patches.

<b>Base model</b>: training starts from its weights ("default": the bundled model of FUSION: \
{models}); the fusion variant (how the DEM enters) is the base model's. <b>Batch size</b> 24 and \
<b>learning rate</b> 1e-5 (Adam) with a masked MAE loss are the paper's values. <b>Epochs</b>: \
one epoch draws, on average, every training pixel once.

<b>Recipe</b> (advanced): PATCH_SIZE 256 px (paper; multiple of 16), MIN_VALID 50% (share of \
valid pixels a patch needs, in percent), SSIM_WEIGHT 0 (the paper's loss, MAE alone; a value \
a in 0-0.99 trains on (1 - a) MAE + a (1 - SSIM), SSIM as in the card's metric, so that a \
rendering whose colours match but whose texture is smoothed away is penalised; 0.84 is the mix \
of Zhao et al. 2017, IEEE Transactions on Computational Imaging 3(1), here with plain rather than \
multi-scale SSIM). The best epoch is still chosen by validation MSE.

<b>Output model</b>: its name; weights and card go to your models folder and the model appears \
by that name in "SAR to optical" (MODEL). An existing model of that name is only replaced when \
<b>Overwrite</b> is ticked. <b>Log</b>: a CSV of the losses per step and validation per epoch; \
validation columns start with val_, the first, val_mse, is the MSE of RGB in 0-1 (lower is \
better); the row of step 0, stage "base model", is the base model. <b>Curves</b>: a PNG of the \
loss and the validation MSE with the base model and the linear colour mapping as lines.

Cancel keeps a checkpoint: run again with the same output model name, data and values to resume. \
A NaN or exploding loss stops training with a message; the last good checkpoint is kept."""


class TrainSarToOpticalAlgorithm(TrainingAlgorithm):
    ALG_NAME = "trainsartooptical"
    DISPLAY_NAME = "Train SAR to optical (fine-tune)"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = HELP
    TASK = SAR_TO_OPTICAL_TASK
    FAMILY = SAR_TO_OPTICAL_FAMILY
    DEFAULT_OUTPUT = "my_sardinet"
    PRIMARY_LOG_COLUMN = "val_mse"
    TAGS = (
        "training",
        "fine-tuning",
        "deep learning",
        "SAR",
        "optical",
        "Sentinel-1",
        "Sentinel-2",
        "translation",
        "SARDINet",
        "model",
    )

    SAR = "SAR"
    DEM = "DEM"
    OPTICAL = "OPTICAL"
    MASK = "MASK"
    FOLDER = "FOLDER"
    FUSION = "FUSION"

    def help_body(self) -> str:
        return self.tr(HELP).replace("{models}", self.models_help())

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        for name, label in (
            (self.SAR, self.tr("SAR image (VV, VH sigma0, linear or dB)")),
            (self.DEM, self.tr("DEM (m)")),
            (self.OPTICAL, self.tr("Optical image (red, green, blue)")),
            (self.MASK, self.tr("Mask (non-zero: cloud, snow, unusable)")),
        ):
            self.addParameter(QgsProcessingParameterRasterLayer(name, label, optional=True))
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("Training folder (<name>_sar/_dem/_optical[/_mask].tif)"),
                FILE_FOLDER,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FUSION,
                self.tr("Fusion variant of the default base model"),
                options=list(FUSIONS),
                defaultValue=FUSIONS.index("late"),
            )
        )
        self.add_training_parameters()
        from ..engine.families.sar_to_optical.finetune import SarOpticalRecipe

        self.add_recipe(SarOpticalRecipe)
        self.add_training_outputs()
        self.add_metric_outputs(
            (
                ("MSE", self.tr("Validation MSE of the new model (RGB 0-1)")),
                ("BASE_MSE", self.tr("Validation MSE of the base model (RGB 0-1)")),
                ("LINEAR_MSE", self.tr("Validation MSE of the linear colour mapping (RGB 0-1)")),
                ("SSIM", self.tr("Validation SSIM of the new model")),
                ("BASE_SSIM", self.tr("Validation SSIM of the base model")),
            )
        )

    def areas(self, parameters: dict, context: QgsProcessingContext) -> list[Any]:
        from ..engine.families.sar_to_optical.finetune import SarOpticalArea, area_files

        given = [parameters.get(n) not in (None, "") for n in (self.SAR, self.DEM, self.OPTICAL)]
        areas = []
        if any(given):
            if not all(given):
                raise QgsProcessingException(
                    self.tr("Give all three of SAR, DEM and OPTICAL (MASK optional), or a FOLDER.")
                )
            mask = ""
            if parameters.get(self.MASK) not in (None, ""):
                mask = self.raster_file(parameters, self.MASK, context)
            areas.append(
                SarOpticalArea(
                    self.raster_file(parameters, self.SAR, context),
                    self.raster_file(parameters, self.DEM, context),
                    self.raster_file(parameters, self.OPTICAL, context),
                    mask,
                )
            )
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if folder:
            areas += area_files(folder)
        if not areas:
            raise QgsProcessingException(
                self.tr(
                    "Give a training area (SAR, DEM and OPTICAL) or a folder of areas (FOLDER)."
                )
            )
        return areas

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.sar_to_optical.card import BASELINE
        from ..engine.families.sar_to_optical.finetune import (
            SarOpticalRecipe,
            finetune_sar_to_optical,
        )

        areas = self.areas(parameters, context)
        settings = self.finetune_settings(parameters, context, feedback)
        fusion = FUSIONS[self.parameterAsEnum(parameters, self.FUSION, context)]
        recipe = self.recipe(SarOpticalRecipe, parameters, context, fusion=fusion)
        summary = finetune_sar_to_optical(areas, settings, recipe, self.reporter(feedback))
        results = self.training_results(summary, settings, feedback)
        m = summary["metrics"]
        results.update(
            MSE=m["model"]["mse"],
            BASE_MSE=m["base_model"]["mse"],
            LINEAR_MSE=m[BASELINE]["mse"],
            SSIM=m["model"]["ssim"],
            BASE_SSIM=m["base_model"]["ssim"],
        )
        return results
