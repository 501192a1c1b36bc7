"""Graphical models (.model3) shipped in the plugin's ``graphical_models/`` folder.

Each model is registered in the Geohazard provider under a fixed id (``geohazard:<file stem>``
without underscores, e.g. ``geohazard:landslideevent``), so it shows in the Processing toolbox
next to the algorithms it chains and runs from ``qgis_process`` like any of them.
"""

from __future__ import annotations

import glob
import os

from qgis.core import QgsProcessingContext, QgsProcessingModelAlgorithm
from qgis.PyQt.QtCore import QCoreApplication

from .base_algorithm import plugin_dir
from .help_text import help_url
from .output_paths import output_clash, output_format_problem
from .parameter_checks import check_values

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

    def name(self) -> str:
        return os.path.splitext(os.path.basename(self._path))[0].replace("_", "")

    def displayName(self) -> str:  # noqa: N802 (QGIS API name)
        return super().name()  # the model's own name, as saved by the modeler

    def tags(self) -> list[str]:
        return list(TAGS)

    def helpUrl(self) -> str:  # noqa: N802 (QGIS API name)
        return help_url(HELP_ANCHOR)

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802
        """The rules of every Geohazard algorithm, checked before any step of the model runs:
        one clear sentence for a bad value or a missing input (see parameter_checks), and no
        output may overwrite an input or another output, nor have a file type it cannot be
        written as (see output_paths)."""

        def tr(text: str) -> str:
            return QCoreApplication.translate("ShippedModel", text)

        message = (
            check_values(self, parameters, context, tr)
            or output_clash(self, parameters, context, tr)
            or output_format_problem(self, parameters, context, tr)
        )
        if message:
            return False, message
        return super().checkParameterValues(parameters, context)

    def createInstance(self) -> ShippedModel:  # noqa: N802 (QGIS API name)
        return ShippedModel(self._path)


def shipped_models() -> list[ShippedModel]:
    """One algorithm per shipped model file."""
    return [ShippedModel(path) for path in shipped_model_paths()]
