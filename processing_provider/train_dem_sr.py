"""geohazard:traindemsuperresolution: fine-tune a DEM super-resolution model on your own DEMs."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsRasterLayer,
)

from ..engine.families.dem_sr import FAMILY as DEM_SR_FAMILY
from ..engine.families.dem_sr.task import SCALES
from ..engine.families.dem_sr.task import TASK as DEM_SR_TASK
from .qgis_compat import FILE_FOLDER, INTEGER, LAYER_RASTER
from .training_algorithm import TrainingAlgorithm

HELP = """Fine-tunes a DEM super-resolution model (ESRGAN-style RRDB generator) on your own \
high-resolution DEMs, for example a LiDAR DEM of your study area, so that it sharpens coarser \
DEMs of similar terrain better than the bundled model.

<b>Training DEMs</b> (layers) and/or <b>training folder</b> (every GeoTIFF in it): one-band \
DEMs in metres at the resolution you want to reach. Each DEM makes its own training pairs: \
patches are degraded by the mean of each SCALE x SCALE block (what a coarser DEM cell \
measures) and the network learns to restore them. A DEM must hold at least two whole blocks of \
2 x PATCH_SIZE pixels.

<b>Validation share</b>: that share of each DEM's blocks (2 x PATCH_SIZE pixels square, chosen \
with the seed) is held out as whole blocks, with a 4-pixel buffer no training patch reaches. \
After each epoch the model is measured there (elevation RMSE, m) and the best epoch is kept. \
The new model's card records these metrics next to the base model's and bicubic \
interpolation's on the same blocks.

<b>Base model</b>: training starts from its weights ("default": the bundled model of SCALE: \
{models}). <b>Epochs</b>: one epoch draws, on average, every training pixel once. \
<b>Batch size</b> 16 and <b>learning rate</b> 1e-4 (Adam 0.9/0.999, halved at 50% and 75% of \
the steps) are the fine-tuning values of Demiray et al. (2021) and ESRGAN (Wang et al., 2018).

<b>Recipe</b> (advanced): PATCH_SIZE (HR pixels, multiple of 16; 0: 64 at x4, 48 at x2, as the \
bundled models), ADVERSARIAL_SHARE (the last share of the steps adds the adversarial and feature \
terms; 0.125 as the bundled recipe), loss weights W_L1 1, W_GRADIENT 0.5 (slope), W_FEATURE 0.1 \
and W_ADVERSARIAL 0.005 (ESRGAN's adversarial weight), ELEVATION_BINS 8 (patches drawn equally \
from 8 bands of elevation, the paper's oversampling of high terrain).

<b>Output model</b>: its name; the weights and card go to your models folder (QGIS profile, \
geohazard/models) and the model appears by that name in "DEM super-resolution". An existing \
model of that name is only replaced when <b>Overwrite</b> is ticked. <b>Log</b>: a CSV of the \
losses per step and the validation metrics per epoch (columns step, epoch, stage, loss, ...; \
validation columns start with val_, the first, val_rmse_m, is the elevation RMSE in m; the \
row of step 0, stage "base model", is the base model on the same validation blocks). \
<b>Curves</b>: a PNG of the training loss and the validation RMSE, with bicubic and the base \
model as lines.

Cancel keeps a checkpoint: run again with the same output model name, data and values to resume \
where it stopped. A NaN or exploding loss stops training with a message; the last good \
checkpoint is kept (lower the learning rate and run again)."""


class TrainDemSuperResolutionAlgorithm(TrainingAlgorithm):
    ALG_NAME = "traindemsuperresolution"
    DISPLAY_NAME = "Train DEM super-resolution (fine-tune)"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = HELP
    TASK = DEM_SR_TASK
    FAMILY = DEM_SR_FAMILY
    DEFAULT_OUTPUT = "my_dem_sr"
    TAGS = (
        "training",
        "fine-tuning",
        "deep learning",
        "DEM",
        "elevation",
        "super-resolution",
        "ESRGAN",
        "model",
        "LiDAR",
        "SRTM",
    )

    PRIMARY_LOG_COLUMN = "val_rmse_m"

    INPUT = "INPUT"
    FOLDER = "FOLDER"
    SCALE = "SCALE"

    def help_body(self) -> str:
        return self.tr(HELP).replace("{models}", self.models_help())

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.INPUT,
                self.tr("Training DEMs (high resolution, metres)"),
                LAYER_RASTER,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("Training folder (every GeoTIFF DEM in it)"),
                FILE_FOLDER,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SCALE,
                self.tr("Scale factor (2 or 4)"),
                INTEGER,
                4,
                minValue=min(SCALES),
                maxValue=max(SCALES),
            )
        )
        self.add_training_parameters()
        from ..engine.families.dem_sr.finetune import DemRecipe

        self.add_recipe(DemRecipe)
        self.add_training_outputs()
        self.add_metric_outputs(
            (
                ("RMSE", self.tr("Validation RMSE of the new model (m)")),
                ("BASE_RMSE", self.tr("Validation RMSE of the base model (m)")),
                ("BICUBIC_RMSE", self.tr("Validation RMSE of bicubic interpolation (m)")),
            )
        )

    def dem_paths(self, parameters: dict, context: QgsProcessingContext) -> list[str]:
        from ..engine.families.dem_sr.finetune import dem_files

        paths = []
        for layer in self.parameterAsLayerList(parameters, self.INPUT, context):
            if not isinstance(layer, QgsRasterLayer) or layer.providerType() != "gdal":
                raise QgsProcessingException(
                    self.tr(
                        "INPUT: '{layer}' is not a file-based raster layer; save it as a "
                        "GeoTIFF first."
                    ).format(layer=layer.name())
                )
            paths.append(layer.source().split("|")[0])
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if folder:
            paths += dem_files(folder)
        if not paths:
            raise QgsProcessingException(
                self.tr("Give training DEMs as layers (INPUT) or a folder of GeoTIFFs (FOLDER).")
            )
        return list(dict.fromkeys(paths))

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.dem_sr.finetune import DemRecipe, finetune_dem_sr

        paths = self.dem_paths(parameters, context)
        settings = self.finetune_settings(parameters, context, feedback)
        scale = self.parameterAsInt(parameters, self.SCALE, context)
        recipe = self.recipe(DemRecipe, parameters, context, scale=scale)
        summary = finetune_dem_sr(paths, settings, recipe, self.reporter(feedback))
        results = self.training_results(summary, settings, feedback)
        metrics = summary["metrics"]
        pairs = (("model", "RMSE"), ("base_model", "BASE_RMSE"), ("bicubic", "BICUBIC_RMSE"))
        for key, name in pairs:
            results[name] = metrics[key]["rmse_m"]
        return results
