"""The toy family's algorithms, on the plugin's shared model and training algorithm bases."""

from __future__ import annotations

from typing import Any

from geohazard.processing_provider.citations import Citation
from geohazard.processing_provider.model_algorithm import ModelAlgorithm
from geohazard.processing_provider.training_algorithm import TrainingAlgorithm
from qgis.core import (
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from . import FAMILY
from .task import TASK

TOY_REFERENCE = Citation("Nobody, A.", 2026, "A toy gain", "Tests of Geohazard")
TAGS = ("toy", "gain", "test", "model", "family")


class ToyGainAlgorithm(ModelAlgorithm):
    ALG_NAME = "toygain"
    DISPLAY_NAME = "Toy gain"
    GROUP = "Tests"
    GROUP_ID = "tests"
    HELP = "Applies a toy 1x1 convolution to a one-band raster. {models} {tile} {overlap}"
    TASK = TASK
    FAMILY = FAMILY
    TAGS = TAGS
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster"))
        self.add_model_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Output"))

    def process(self, parameters: dict, context: Any, feedback: Any) -> dict[str, Any]:
        from .task import ToyConfig, apply_gain

        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        config = ToyConfig(
            self.model_choice(parameters, context), self.tile_settings(parameters, context)
        )
        summary = apply_gain(
            self.raster_file(parameters, self.INPUT, context),
            output,
            config,
            self.run_options(parameters, context, feedback),
            self.reporter(feedback),
        )
        self.model_summary(summary, feedback)
        return {self.OUTPUT: output}


class TrainToyGainAlgorithm(TrainingAlgorithm):
    ALG_NAME = "traintoygain"
    DISPLAY_NAME = "Train the toy gain"
    GROUP = "Tests"
    GROUP_ID = "tests"
    HELP = "Fine-tunes the toy gain on an input and a target raster."
    TASK = TASK
    FAMILY = FAMILY
    TAGS = TAGS
    INPUT = "INPUT"
    TARGET = "TARGET"

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802
        from .finetune import ToyRecipe

        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.TARGET, "Target raster"))
        self.add_training_parameters()
        self.add_recipe(ToyRecipe)
        self.add_training_outputs()

    def process(self, parameters: dict, context: Any, feedback: Any) -> dict[str, Any]:
        from .finetune import ToyRecipe, finetune_toy_gain

        settings = self.finetune_settings(parameters, context, feedback)
        pair = (
            self.raster_file(parameters, self.INPUT, context),
            self.raster_file(parameters, self.TARGET, context),
        )
        recipe = self.recipe(ToyRecipe, parameters, context)
        summary = finetune_toy_gain(pair, settings, recipe, self.reporter(feedback))
        return self.training_results(summary, settings, feedback)
