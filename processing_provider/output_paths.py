"""Where outputs go, read without side effects, and the name a loaded output gets.

``parameterAsOutputLayer`` is not a pure read: for "[Save to temporary file]" it invents a new
temporary path on every call and registers it for loading when the run completes. Asking it
twice (once to check, once to write) left QGIS waiting for a file that was never written ("The
following layers were not correctly generated"). The checks here read only what the user
typed; a temporary output is a fresh file that cannot clash with anything.
"""

from __future__ import annotations

import os
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingUtils,
    QgsProperty,
)


def explicit_destination(
    definition: QgsProcessingParameterDefinition, value: Any, context: QgsProcessingContext
) -> str | None:
    """The file a destination parameter names, or None for a temporary or skipped output.

    Nothing is created or registered: safe to call before ``processAlgorithm`` asks for the
    real path.
    """
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProperty):  # a static value, or an expression (models)
        value, _ok = value.valueAsString(context.expressionContext())
    if value is None:
        return None
    text = str(value).strip()
    if not text or text == QgsProcessing.TEMPORARY_OUTPUT or text.startswith("memory:"):
        return None
    if not os.path.splitext(text)[1]:
        extension = getattr(definition, "defaultFileExtension", lambda: "")()
        if extension:
            text = f"{text}.{extension}"
    return text


def is_temporary_output(path: str) -> bool:
    """True for a file inside QGIS's temporary Processing folder (a "[Save to temporary file]")."""
    temp = os.path.realpath(QgsProcessingUtils.tempFolder())
    return os.path.realpath(path).startswith(temp + os.sep)


def layer_name(path: str, descriptive: str) -> str:
    """The name a loaded output gets: the file's base name when the user named the file, the
    descriptive name for a temporary output (whose file name, OUTPUT.tif, says nothing)."""
    if is_temporary_output(path):
        return descriptive
    return os.path.splitext(os.path.basename(path))[0]
