"""Shared base of the algorithms that run a model: MODEL, TILE_SIZE, OVERLAP, BATCH, DEVICE.

Defaults and option lists come from the engine task (``TASK``) and the model store, so none is
copied here by hand. Listing the models reads their JSON cards only (no torch), so the dialog
and the help open fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import Citation
from .parameter_checks import set_unit
from .qgis_compat import INTEGER, set_advanced

if TYPE_CHECKING:
    from ..engine.models.family import Family
    from ..engine.models.model_store import ModelStore
    from ..engine.models.model_task import ModelTask, TileSettings

MAX_TILE = 8192


def widget_wrapper() -> Any:
    """The MODEL widget class, or None where Processing's GUI is not importable (the widget is
    only a convenience: the parameter stays a string everywhere)."""
    try:
        from .model_widget import ModelWidgetWrapper
    except ImportError:
        return None
    return ModelWidgetWrapper


MAX_BATCH = 256


def family_citations(family: Family, module: str) -> tuple[Citation, ...]:
    """The family's references by name: from ``citations.py``, or the algorithm's own module."""
    import sys

    from . import citations

    own = sys.modules.get(module)
    return tuple(getattr(own, n, None) or getattr(citations, n) for n in family.citations)


class ModelAlgorithm(GeohazardAlgorithm):
    """Base for model algorithms; subclasses set ``TASK`` and ``FAMILY`` and call
    :meth:`add_model_parameters`. ``FAMILY`` (the family's descriptor) gives the references,
    help anchor and required packages, the same for the family's inference and training."""

    TASK: ModelTask
    FAMILY: Family | None = None
    MODEL = "MODEL"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH = "BATCH"
    DEVICE = "DEVICE"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        family = cls.__dict__.get("FAMILY")
        if family is not None:
            # the family's references, then what this algorithm adds (EXTRA_CITATIONS)
            cls.CITATIONS = family_citations(family, cls.__module__) + tuple(
                cls.__dict__.get("EXTRA_CITATIONS", ())
            )
            cls.HELP_ANCHOR = family.help_anchor
            cls.REQUIRES = cls.family_requires(family)

    @staticmethod
    def family_requires(family: Family) -> tuple[str, ...]:
        return family.requires

    @staticmethod
    def store() -> ModelStore:
        """The model store: bundled models and the user's models folder in the QGIS profile."""
        from ..engine.models.model_store import ModelStore
        from ..settings import user_models_folder

        return ModelStore(user_models_folder())

    def model_names(self) -> list[str]:
        """Names of the task's bundled and user models (cards only; no torch)."""
        return self.store().names(self.TASK.name)

    def help_body(self) -> str:
        """The help text with the live values filled in: ``{models}`` (the task's bundled and
        user models), ``{tile}`` and ``{overlap}`` (the task's defaults)."""
        return (
            self.tr(self.HELP)
            .replace("{models}", self.models_help())
            .replace("{tile}", str(self.TASK.tile_size))
            .replace("{overlap}", str(self.TASK.overlap))
        )

    def models_help(self) -> str:
        names = self.model_names()
        return ", ".join(names) if names else self.tr("none installed")

    def add_model_parameters(self) -> None:
        """MODEL, then the advanced TILE_SIZE, OVERLAP, BATCH and DEVICE."""
        model = QgsProcessingParameterString(
            self.MODEL,
            self.tr(
                "Model: 'default', the name of a bundled or user model, or a .safetensors file"
            ),
            "default",
        )
        wrapper = widget_wrapper()
        if wrapper is not None:
            model.setMetadata({"widget_wrapper": {"class": wrapper, "models": self.model_names()}})
        self.addParameter(model)
        task = self.TASK
        advanced = [
            QgsProcessingParameterNumber(
                self.TILE_SIZE,
                self.tr("Tile size (input pixels)"),
                INTEGER,
                task.tile_size,
                minValue=task.min_tile,
                maxValue=MAX_TILE,
            ),
            QgsProcessingParameterNumber(
                self.OVERLAP,
                self.tr("Tile overlap (input pixels)"),
                INTEGER,
                task.overlap,
                minValue=0,
                maxValue=MAX_TILE // 2,
            ),
            QgsProcessingParameterNumber(
                self.BATCH,
                self.tr(
                    "Tiles per batch (0: automatic, {cpu} on the CPU and {gpu} on a GPU)"
                ).format(cpu=task.batch_cpu, gpu=task.batch_gpu),
                INTEGER,
                0,
                minValue=0,
                maxValue=MAX_BATCH,
            ),
        ]
        for p, unit in zip(advanced, ("px", "px", "tiles")):
            self.addParameter(set_unit(set_advanced(p), unit))
        self.add_device_parameter(self.DEVICE)

    def model_choice(self, parameters: dict, context: QgsProcessingContext) -> str:
        return self.parameterAsString(parameters, self.MODEL, context).strip()

    def tile_settings(self, parameters: dict, context: QgsProcessingContext) -> TileSettings:
        from ..engine.models.model_task import TileSettings

        return TileSettings(
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH, context),
        )

    def model_summary(self, summary: dict[str, Any], feedback: QgsProcessingFeedback) -> None:
        feedback.pushInfo(
            self.tr("Model {model} ran on {device} in {tiles} tile(s).").format(
                model=summary.get("model"), device=summary.get("device"), tiles=summary.get("tiles")
            )
        )
