"""geohazard:traindeepoffsettracking: fine-tune the deep offset tracker on your own SAR pairs."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.deep_offsets import FAMILY as DEEP_OFFSETS_FAMILY
from ..engine.families.deep_offsets.task import TASK as DEEP_OFFSETS_TASK
from .qgis_compat import FILE_FOLDER, INTEGER
from .training_algorithm import TrainingAlgorithm

HELP = """Fine-tunes the deep offset tracker (CC-ResSiamNet, Kim et al. 2025) on your own SAR \
amplitude pairs, for example a glacier or landslide you have already tracked, so that it follows \
that kind of motion and speckle better than the bundled model.

<b>Reference</b>, <b>secondary</b> (amplitude rasters on one grid, BAND of both) and \
<b>targets</b>: a raster of east and north offsets in metres (bands 1 and 2), either the output \
of "Offset tracking" (classical NCC on its grid of window centres; read onto the reference grid \
bilinearly, pixels without a match are not used) or a known displacement raster. The model then \
learns to reproduce those offsets densely. <b>What the targets teach</b>: a network learns the \
answer it is shown. Targets taken from a tracker (this plugin's classical or deep one) teach it \
that tracker's answer, its smoothing across faults and landslide edges included, so it cannot \
do better than that tracker (the log warns when the targets raster was written by one). \
Fine-tuning pays with targets better than the trackers: motion interpolated from GNSS stations, \
a correlation of finer images (LiDAR hillshades or optical images at a finer resolution), or a \
simulated event on your own images. Or a <b>training folder</b> of pairs named \
&lt;name&gt;_reference.tif, &lt;name&gt;_secondary.tif, &lt;name&gt;_offsets.tif. The NCC prior \
is measured as at inference with the base model's window sizes; pixels within its margin of the \
image edge are not used.

<b>Validation share</b>: each pair is cut into blocks of 2 x PATCH_SIZE pixels and that share \
of whole blocks (chosen with the seed) is held out. After each epoch the model is measured there \
(end-point error, px: the mean length of the error vector) and the best epoch is kept. The card \
records it next to the base model's and the classical NCC prior's on the same pixels.

<b>Base model</b>: training starts from its weights ("default": {models}). <b>Epochs</b>: one \
epoch draws, on average, every training pixel once. <b>Batch size</b> 8 (the bundled recipe); \
<b>learning rate</b> 1e-4 peak of a one-cycle schedule (AdamW; the bundled model trained from \
scratch at 5e-4; a fine-tuning run starts lower).

<b>Recipe</b> (advanced): PATCH_SIZE 64 px crops (multiple of 16), HUBER_PX 0.1 (the Huber \
loss is quadratic below 0.1 px, as the bundled recipe and the authors' masked Huber loss), \
W_SIGMA 0.05 (weight of the error head's likelihood), WEIGHT_DECAY 1e-4.

<b>Output model</b>: its name; weights and card go to your models folder and the model appears \
by that name in "Deep offset tracking" (MODEL). An existing model of that name is only replaced \
when <b>Overwrite</b> is ticked. <b>Log</b>: a CSV of the losses per step and validation per \
epoch; validation columns start with val_, the first, val_epe_px, is the end-point error in \
pixels (lower is better); the row of step 0, stage "base model", is the base model. \
<b>Curves</b>: a PNG of the loss and the validation error with the base model and the NCC prior \
as lines.

Cancel keeps a checkpoint: run again with the same output model name, data and values to resume. \
A NaN or exploding loss stops training with a message; the last good checkpoint is kept."""


class TrainDeepOffsetTrackingAlgorithm(TrainingAlgorithm):
    ALG_NAME = "traindeepoffsettracking"
    DISPLAY_NAME = "Train deep offset tracking (fine-tune)"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = HELP
    TASK = DEEP_OFFSETS_TASK
    FAMILY = DEEP_OFFSETS_FAMILY
    DEFAULT_OUTPUT = "my_deep_offsets"
    PRIMARY_LOG_COLUMN = "val_epe_px"
    TAGS = (
        "training",
        "fine-tuning",
        "deep learning",
        "offset tracking",
        "SAR",
        "displacement",
        "glacier",
        "landslide",
        "CC-ResSiamNet",
        "model",
    )

    REFERENCE = "REFERENCE"
    SECONDARY = "SECONDARY"
    TARGETS = "TARGETS"
    BAND = "BAND"
    FOLDER = "FOLDER"

    def help_body(self) -> str:
        return self.tr(HELP).replace("{models}", self.models_help())

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        for name, label in (
            (self.REFERENCE, self.tr("Reference amplitude image (earlier acquisition)")),
            (self.SECONDARY, self.tr("Secondary amplitude image (later acquisition)")),
            (self.TARGETS, self.tr("Target offsets (east, north in m: an offset map)")),
        ):
            self.addParameter(QgsProcessingParameterRasterLayer(name, label, optional=True))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.BAND,
                self.tr("Band (of both images)"),
                INTEGER,
                1,
                minValue=1,
                maxValue=65535,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("Training folder (<name>_reference/_secondary/_offsets.tif)"),
                FILE_FOLDER,
                optional=True,
            )
        )
        self.add_training_parameters()
        from ..engine.families.deep_offsets.finetune import DeepOffsetRecipe

        self.add_recipe(DeepOffsetRecipe)
        self.add_training_outputs()
        self.add_metric_outputs(
            (
                ("EPE", self.tr("Validation end-point error of the new model (px)")),
                ("BASE_EPE", self.tr("Validation end-point error of the base model (px)")),
                (
                    "PRIOR_EPE",
                    self.tr("Validation end-point error of the classical NCC prior (px)"),
                ),
            )
        )

    def pairs(self, parameters: dict, context: QgsProcessingContext) -> list[Any]:
        from ..engine.families.deep_offsets.finetune import DeepOffsetPair, pair_files

        band = self.parameterAsInt(parameters, self.BAND, context) or 1
        given = [
            parameters.get(n) not in (None, "")
            for n in (self.REFERENCE, self.SECONDARY, self.TARGETS)
        ]
        pairs = []
        if any(given):
            if not all(given):
                raise QgsProcessingException(
                    self.tr("Give all three of REFERENCE, SECONDARY and TARGETS, or a FOLDER.")
                )
            pairs.append(
                DeepOffsetPair(
                    self.raster_file(parameters, self.REFERENCE, context),
                    self.raster_file(parameters, self.SECONDARY, context),
                    self.raster_file(parameters, self.TARGETS, context),
                    band,
                )
            )
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if folder:
            pairs += pair_files(folder)
        if not pairs:
            raise QgsProcessingException(
                self.tr(
                    "Give a training pair (REFERENCE, SECONDARY and TARGETS) or a folder of "
                    "pairs (FOLDER)."
                )
            )
        return pairs

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.deep_offsets.finetune import DeepOffsetRecipe, finetune_deep_offsets

        pairs = self.pairs(parameters, context)
        settings = self.finetune_settings(parameters, context, feedback)
        recipe = self.recipe(DeepOffsetRecipe, parameters, context)
        summary = finetune_deep_offsets(pairs, settings, recipe, self.reporter(feedback))
        results = self.training_results(summary, settings, feedback)
        metrics = summary["metrics"]
        for key, name in (("model", "EPE"), ("base_model", "BASE_EPE"), ("ncc_prior", "PRIOR_EPE")):
            results[name] = metrics[key]["epe_px"]
        return results
