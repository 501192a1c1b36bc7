"""Graphical models (.model3) shipped in the plugin's ``graphical_models/`` folder.

Each model is registered in the Geohazard provider under a fixed id (``geohazard:<file stem>``
without underscores, e.g. ``geohazard:landslideevent``), so it shows in the Processing toolbox
next to the algorithms it chains and runs from ``qgis_process`` like any of them.

A shipped model runs all or none, as every algorithm does:

- every output is optional: a step whose outputs were not asked for, and which no other step
  needs, is skipped; one that another step needs writes to a temporary file;
- the raster inputs are checked to show the same ground before any step runs, and a raster
  that lies elsewhere is named;
- every file output is written under a private folder beside its destination and renamed onto
  it only when every step has succeeded; after a failure or a cancel every destination holds
  what it held before.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication

from .base_algorithm import plugin_dir
from .help_text import help_url
from .output_paths import output_clash, output_format_problem
from .parameter_checks import check_values
from .qgis_compat import OPTIONAL
from .styling import LayerStyle

# The README section on the shipped workflow (GitHub heading anchor).
HELP_ANCHOR = (
    "landslide-areas-arrows-and-the-shipped-workflow-geohazardlandslideareas-"
    "geohazarddisplacementarrows-geohazardlandslideevent"
)
TAGS = ("workflow", "model", "landslide", "displacement", "offset tracking", "SAR", "event")


def shipped_model_paths() -> list[str]:
    """The .model3 files in the plugin's graphical_models/ folder, sorted."""
    return sorted(glob.glob(os.path.join(plugin_dir(), "graphical_models", "*.model3")))


class ShippedModel(QgsProcessingModelAlgorithm):
    """A model read from a shipped .model3 file, with an id made from the file name."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        if not self.fromFile(path):
            raise ValueError(f"The shipped model '{os.path.basename(path)}' could not be read.")
        for definition in self.destinationParameterDefinitions():
            definition.setFlags(definition.flags() | OPTIONAL)

    def name(self) -> str:
        return os.path.splitext(os.path.basename(self._path))[0].replace("_", "")

    def displayName(self) -> str:  # noqa: N802 (QGIS API name)
        return super().name()  # the model's own name, as saved by the modeler

    def tags(self) -> list[str]:
        return list(TAGS)

    def helpUrl(self) -> str:  # noqa: N802 (QGIS API name)
        return help_url(HELP_ANCHOR)

    def tr(self, text: str) -> str:
        return QCoreApplication.translate("ShippedModel", text)

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802
        """The rules of every Geohazard algorithm, checked before any step of the model runs:
        one clear sentence for a bad value or a missing input (see parameter_checks), and no
        output may overwrite an input or another output, nor have a file type it cannot be
        written as (see output_paths)."""
        message = (
            check_values(self, parameters, context, self.tr)
            or output_clash(self, parameters, context, self.tr)
            or output_format_problem(self, parameters, context, self.tr)
        )
        if message:
            return False, message
        return super().checkParameterValues(parameters, context)

    def createInstance(self) -> ShippedModel:  # noqa: N802 (QGIS API name)
        return ShippedModel(self._path)

    def processAlgorithm(  # noqa: N802 (QGIS API name)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        from ..engine.core.errors import GeohazardError
        from ..engine.io.input_overlap import check_same_ground
        from ..engine.io.output_files import StagedOutput, commit_all, discard_all

        try:
            check_same_ground(self._raster_inputs(parameters, context))
        except GeohazardError as exc:
            raise QgsProcessingException(str(exc)) from exc
        parameters = dict(parameters)
        self._skip_unasked(parameters, feedback)
        staged: dict[str, StagedOutput] = {}
        try:
            for definition in self.destinationParameterDefinitions():
                name = definition.name()
                path = _file_destination(parameters.get(name))
                if path is None:
                    continue
                staged[name] = StagedOutput(path)
                parameters[name] = _redirected(parameters[name], staged[name].tmp)
            results = super().processAlgorithm(parameters, context, feedback)
            if feedback.isCanceled():
                raise QgsProcessingException(self.tr("Canceled: no output was written."))
            for out in staged.values():
                out.finish()
            commit_all(list(staged.values()))
        except GeohazardError as exc:
            discard_all(list(staged.values()))
            raise QgsProcessingException(str(exc)) from exc
        except BaseException:
            discard_all(list(staged.values()))
            feedback.reportError(
                self.tr("The workflow stopped; every output holds what it held before.")
            )
            raise
        moved = {out.tmp: out.path for out in staged.values()}
        _reload_from(context, moved)
        for name, out in staged.items():
            results[name] = out.path
        return results

    def _raster_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, str]:
        """``"NAME (description)"`` -> file of every raster input given."""
        rasters = {}
        for definition in self.parameterDefinitions():
            if not isinstance(definition, QgsProcessingParameterRasterLayer):
                continue
            if parameters.get(definition.name()) in (None, ""):
                continue
            layer = self.parameterAsRasterLayer(parameters, definition.name(), context)
            if layer is not None:
                label = f"{definition.name()} ({definition.description()})"
                rasters[label] = layer.source()
        return rasters

    def _skip_unasked(self, parameters: dict[str, Any], feedback: QgsProcessingFeedback) -> None:
        """Skip the steps whose outputs were not asked for and that no step needs; send the
        unasked outputs of the other steps to temporary files."""
        unasked = {
            d.name()
            for d in self.destinationParameterDefinitions()
            if not _asked(parameters.get(d.name()))
        }
        skipped: set[str] = set()
        changed = True
        while changed:  # a step only a skipped step needed is skipped too
            changed = False
            for child_id, child in self.childAlgorithms().items():
                names = {f"{child_id}:{label}" for label in child.modelOutputs()}
                if child_id in skipped or not child.isActive() or not names <= unasked:
                    continue
                if set(self.dependentChildAlgorithms(child_id)) - skipped:
                    continue
                skipped.add(child_id)
                unasked -= names
                changed = True
                feedback.pushInfo(
                    self.tr("Step '{step}' skipped: its output was not asked for.").format(
                        step=child.description()
                    )
                )
        for child_id in skipped:
            self.deactivateChildAlgorithm(child_id)
        for name in unasked:
            parameters[name] = QgsProcessing.TEMPORARY_OUTPUT


def shipped_models() -> list[ShippedModel]:
    """One algorithm per shipped model file."""
    return [ShippedModel(path) for path in shipped_model_paths()]


def _asked(value: Any) -> bool:
    """Whether an output was given a destination (a file, a layer, a temporary output)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    return value not in (None, "")


def _file_destination(value: Any) -> str | None:
    """The file an output is written to, or None for a temporary or non-file output."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    if not isinstance(value, str) or not value or value == QgsProcessing.TEMPORARY_OUTPUT:
        return None
    if ":" in value.split(os.sep)[0] and not os.path.isabs(value) or "|" in value:
        return None  # memory:, postgres:, ogr:... and layer-name suffixes: not a plain file
    return os.path.abspath(value)


def _redirected(value: Any, path: str) -> Any:
    """``value`` writing to ``path`` instead (a layer definition keeps where it loads)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        out = QgsProcessingOutputLayerDefinition(value)
        out.sink.setStaticValue(path)
        return out
    return path


def _reload_from(context: QgsProcessingContext, moved: dict[str, str]) -> None:
    """Point the layers QGIS loads when the run ends at the renamed files."""
    renamed = {}
    for key, details in context.layersToLoadOnCompletion().items():
        final = moved.get(os.path.abspath(key))
        if final is None:
            renamed[key] = details
            continue
        # a post-processor belongs to one entry (QGIS deletes the replaced entry's), so the
        # renamed entry gets its own
        fresh = QgsProcessingContext.LayerDetails(
            details.name, details.project, details.outputName, details.layerTypeHint
        )
        fresh.forceName = details.forceName
        styler = details.postProcessor()
        if isinstance(styler, LayerStyle):
            fresh.setPostProcessor(LayerStyle.kept(styler.styles))
        renamed[final] = fresh
    context.setLayersToLoadOnCompletion(renamed)
