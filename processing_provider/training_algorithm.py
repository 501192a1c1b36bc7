"""Shared base of the training algorithms: BASE_MODEL, EPOCHS, BATCH_SIZE, LEARNING_RATE,
VALIDATION_SHARE, DEVICE, OUTPUT_MODEL, LOG (CSV) and CURVES (PNG).

A family's training algorithm adds its data inputs and recipe values, then passes
:meth:`TrainingAlgorithm.finetune_settings` to its engine function. Cancel keeps the checkpoint;
a re-run with the same OUTPUT_MODEL, data and values resumes from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .model_algorithm import ModelAlgorithm
from .qgis_compat import DOUBLE, INTEGER, set_advanced

if TYPE_CHECKING:
    from ..engine.models.family import Family
    from ..engine.models.training.finetune import FineTuneSettings


class TrainingAlgorithm(ModelAlgorithm):
    """Base for ``geohazard:train*``; subclasses set ``TASK`` and the defaults below."""

    BASE_MODEL = "BASE_MODEL"
    EPOCHS = "EPOCHS"
    BATCH_SIZE = "BATCH_SIZE"
    LEARNING_RATE = "LEARNING_RATE"
    VALIDATION_SHARE = "VALIDATION_SHARE"
    OUTPUT_MODEL = "OUTPUT_MODEL"
    LOG = "LOG"
    CURVES = "CURVES"
    MODEL_PATH = "MODEL_PATH"
    SEED = "SEED"
    OVERWRITE = "OVERWRITE"
    LOG_METRIC = "LOG_METRIC"
    # The log's primary validation column (first ``val_*`` column; lower is better).
    PRIMARY_LOG_COLUMN = "val_loss"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        family = cls.__dict__.get("FAMILY")
        if family is not None:
            cls.DEFAULT_BATCH = family.batch_size
            cls.DEFAULT_LR = family.learning_rate

    @staticmethod
    def family_requires(family: Family) -> tuple[str, ...]:
        return family.training_requires

    DEFAULT_EPOCHS = 5
    DEFAULT_BATCH = 16
    DEFAULT_LR = 1e-4
    DEFAULT_OUTPUT = "my_model"

    def add_training_parameters(self) -> None:
        """BASE_MODEL, EPOCHS, BATCH_SIZE, LEARNING_RATE, VALIDATION_SHARE, OUTPUT_MODEL, then
        the advanced SEED and DEVICE."""
        self.addParameter(
            QgsProcessingParameterString(
                self.BASE_MODEL,
                self.tr(
                    "Base model to start from: 'default', a bundled or user model's name, or a "
                    ".safetensors file"
                ),
                "default",
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.EPOCHS,
                self.tr("Epochs (passes over the training data)"),
                INTEGER,
                self.DEFAULT_EPOCHS,
                minValue=1,
                maxValue=10_000,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.BATCH_SIZE,
                self.tr("Batch size (samples per optimiser step)"),
                INTEGER,
                self.DEFAULT_BATCH,
                minValue=1,
                maxValue=1024,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.LEARNING_RATE,
                self.tr("Learning rate (Adam)"),
                DOUBLE,
                self.DEFAULT_LR,
                minValue=1e-8,
                maxValue=1.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.VALIDATION_SHARE,
                self.tr("Validation share (held out as whole blocks, 0-0.9)"),
                DOUBLE,
                0.2,
                minValue=0.01,
                maxValue=0.9,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.OUTPUT_MODEL,
                self.tr("Name of the new model (saved in your models folder)"),
                self.DEFAULT_OUTPUT,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.OVERWRITE,
                self.tr("Replace an existing user model of that name"),
                False,
            )
        )
        self.addParameter(
            set_advanced(
                QgsProcessingParameterNumber(
                    self.SEED, self.tr("Random seed"), INTEGER, 0, minValue=0, maxValue=2**31 - 1
                )
            )
        )
        self.add_device_parameter(self.DEVICE)

    def add_recipe(self, recipe_type: Any) -> None:
        """The recipe dataclass's parameter fields as advanced numbers, in field order, with
        the label, default and range the fields declare."""
        from ..engine.models.training.recipe_fields import recipe_values

        for v in recipe_values(recipe_type):
            self.addParameter(
                set_advanced(
                    QgsProcessingParameterNumber(
                        v.parameter,
                        self.tr(v.label),
                        INTEGER if v.integer else DOUBLE,
                        v.default,
                        minValue=v.minimum,
                        maxValue=v.maximum,
                    )
                )
            )

    def recipe(
        self, recipe_type: Any, parameters: dict, context: QgsProcessingContext, **others: Any
    ) -> Any:
        """The recipe from the parameters :meth:`add_recipe` added, and ``others`` by field."""
        from ..engine.models.training.recipe_fields import recipe_from, recipe_values

        read = {True: self.parameterAsInt, False: self.parameterAsDouble}
        values = {
            v.parameter: read[v.integer](parameters, v.parameter, context)
            for v in recipe_values(recipe_type)
        }
        return recipe_from(recipe_type, values, **others)

    def add_metric_outputs(self, outputs: tuple[tuple[str, str], ...]) -> None:
        """The validation metrics the algorithm returns: (name, label) each."""
        for name, label in outputs:
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def add_training_outputs(self) -> None:
        """LOG (CSV) and CURVES (PNG), optional; the model's name, path and metrics as outputs."""
        for name, label, filt in (
            (self.LOG, self.tr("Training log"), self.tr("CSV files (*.csv)")),
            (self.CURVES, self.tr("Training curves"), self.tr("PNG images (*.png)")),
        ):
            self.addParameter(
                QgsProcessingParameterFileDestination(name, label, filt, optional=True)
            )
        self.addOutput(QgsProcessingOutputString(self.OUTPUT_MODEL, self.tr("Model name")))
        self.addOutput(QgsProcessingOutputFile(self.MODEL_PATH, self.tr("Model weights")))
        self.addOutput(QgsProcessingOutputNumber("STEPS", self.tr("Optimiser steps")))
        self.addOutput(
            QgsProcessingOutputString(
                self.LOG_METRIC, self.tr("Primary validation column of the log (lower is better)")
            )
        )

    def finetune_settings(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> FineTuneSettings:
        """The shared values as the engine's settings (device: the DEVICE parameter, where auto
        defers to the device settings page)."""
        from ..engine.models.training.finetune import FineTuneSettings

        options = self.run_options(parameters, context, feedback)
        return FineTuneSettings(
            base_model=self.parameterAsString(parameters, self.BASE_MODEL, context).strip(),
            output_name=self.parameterAsString(parameters, self.OUTPUT_MODEL, context).strip(),
            user_models=self.store().user_dir or "",
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            learning_rate=self.parameterAsDouble(parameters, self.LEARNING_RATE, context),
            validation_share=self.parameterAsDouble(parameters, self.VALIDATION_SHARE, context),
            device=options.device,
            log_path=self.file_output(parameters, self.LOG, context),
            curves_path=self.file_output(parameters, self.CURVES, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            overwrite=self.parameterAsBoolean(parameters, self.OVERWRITE, context),
        )

    def file_output(self, parameters: dict, name: str, context: QgsProcessingContext) -> str:
        if parameters.get(name) in (None, ""):
            return ""
        return self.parameterAsFileOutput(parameters, name, context)

    def training_results(
        self, summary: dict[str, Any], settings: FineTuneSettings, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """The algorithm's results from the engine's summary, and a closing message."""
        feedback.pushInfo(
            self.tr(
                "Model '{name}' saved in {folder}; choose it by this name in the MODEL "
                "parameter of the inference algorithm."
            ).format(name=summary["model"], folder=settings.user_models)
        )
        results: dict[str, Any] = {
            self.OUTPUT_MODEL: summary["model"],
            self.MODEL_PATH: summary["path"],
            "STEPS": summary["steps"],
            self.LOG_METRIC: summary.get("metric", self.PRIMARY_LOG_COLUMN),
        }
        if settings.log_path:
            results[self.LOG] = settings.log_path
        if settings.curves_path:
            results[self.CURVES] = settings.curves_path
        return results
