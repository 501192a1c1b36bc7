"""Where outputs go, read without side effects, and the name a loaded output gets.

``parameterAsOutputLayer`` is not a pure read: for "[Save to temporary file]" it invents a new
temporary path on every call and registers it for loading when the run completes. Asking it
twice (once to check, once to write) left QGIS waiting for a file that was never written ("The
following layers were not correctly generated"). The checks here read only what the user
typed; a temporary output is a fresh file that cannot clash with anything.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable

from qgis.core import (
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingUtils,
    QgsProperty,
    QgsVectorFileWriter,
)

from ..engine.io.output_files import overwritten_input

# Parameter types whose values are layers (a file path, a layer id or a layer object).
LAYER_TYPES = ("raster", "vector", "source", "layer", "mesh", "pointcloud", "multilayer")


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


def _layer_paths(value: Any, context: QgsProcessingContext) -> list[str]:
    """The files behind a layer parameter's value (a path, a layer id or name, a layer, a
    feature source, or a list of these), without loading anything new."""
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _layer_paths(item, context)]
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source
    if isinstance(value, QgsProperty):
        value, _ok = value.valueAsString(context.expressionContext())
    if isinstance(value, QgsMapLayer):
        return [value.source().split("|")[0]]
    if not isinstance(value, str) or not value.strip():
        return []
    path = value.split("|")[0]
    if os.path.exists(path):
        return [path]
    layer = QgsProcessingUtils.mapLayerFromString(value, context, False)
    return [layer.source().split("|")[0]] if layer is not None else []


def input_files(
    alg: QgsProcessingAlgorithm, parameters: dict, context: QgsProcessingContext
) -> list[tuple[str, str]]:
    """``(parameter, path)`` of every file or folder a run reads: layers of every kind, files
    and folders, and text values that name an existing file (a model's weights)."""
    found: list[tuple[str, str]] = []
    for definition in alg.parameterDefinitions():
        if definition.isDestination():
            continue
        name, kind = definition.name(), definition.type()
        value = parameters.get(name)
        if value is None:
            continue
        if kind in LAYER_TYPES:
            found += [(name, p) for p in _layer_paths(value, context)]
            continue
        if isinstance(value, QgsProperty):
            value, _ok = value.valueAsString(context.expressionContext())
        if kind == "file" or (kind == "string" and os.path.isfile(str(value))):
            text = str(value).strip()
            if text and os.path.exists(text):
                found.append((name, text))
    return found


def output_clash(
    alg: QgsProcessingAlgorithm,
    parameters: dict,
    context: QgsProcessingContext,
    tr: Callable[[str], str],
) -> str | None:
    """One sentence when a file output of the run would overwrite one of its inputs or another
    of its outputs; None when every output is its own new file. Reads only what the user typed
    (see :func:`explicit_destination`), so it is safe before the run."""
    inputs = input_files(alg, parameters, context)
    seen: dict[str, str] = {}
    for definition in alg.destinationParameterDefinitions():
        name = definition.name()
        path = explicit_destination(definition, parameters.get(name), context)
        if not path:
            continue
        path = path.split("|")[0]
        clash = overwritten_input(path, inputs)
        if clash is not None:
            return tr(
                "{output} would overwrite the input {input} ('{file}'); choose another output "
                "file. Inputs are never modified."
            ).format(output=name, input=clash[0], file=os.path.basename(path))
        real = os.path.realpath(path)
        if real in seen:
            return tr(
                "{output} and {other} are the same file ('{file}'); give each output its own "
                "file name."
            ).format(output=name, other=seen[real], file=os.path.basename(path))
        seen[real] = name
    return None


# Destination types whose file type is checked, and the kind of file each writes.
_FILE_KINDS = {"sink": "vector", "vectorDestination": "vector", "rasterDestination": "raster"}
# Prefixes of destinations that are not plain files (databases, QGIS's own providers).
_NOT_FILES = re.compile(r"^(ogr|postgres|postgis|spatialite|memory|mssql|oracle|hana):", re.I)


def _extensions(alg: QgsProcessingAlgorithm, definition: QgsProcessingParameterDefinition) -> list:
    """File name extensions (lower case, no dot) a destination parameter can write."""
    kind = _FILE_KINDS.get(definition.type())
    provider = alg.provider()
    if kind == "vector":
        if provider is not None:
            return [e.lower() for e in provider.supportedOutputVectorLayerExtensions()]
        return [e.lower() for e in QgsVectorFileWriter.supportedFormatExtensions()]
    if kind == "raster":
        found = (
            [e.lower() for e in provider.supportedOutputRasterLayerExtensions()] if provider else []
        )
        return found + ["tiff"] if "tif" in found else found  # GeoTIFF's other spelling
    if definition.type() == "fileDestination":
        return [e.lower() for e in re.findall(r"\*\.(\w+)", definition.fileFilter() or "")]
    return []


def output_format_problem(
    alg: QgsProcessingAlgorithm,
    parameters: dict,
    context: QgsProcessingContext,
    tr: Callable[[str], str],
) -> str | None:
    """One sentence when a file output names a file type the output cannot be written as (a
    vector layer given a .tif name, a raster given .gpkg); None when every type fits."""
    for definition in alg.destinationParameterDefinitions():
        name = definition.name()
        path = explicit_destination(definition, parameters.get(name), context)
        if not path or _NOT_FILES.match(path):
            continue
        extension = os.path.splitext(path.split("|")[0])[1].lstrip(".").lower()
        allowed = _extensions(alg, definition)
        if allowed and extension not in allowed:
            shown = ", ".join(f".{e}" for e in allowed[:6]) + (", ..." if len(allowed) > 6 else "")
            return tr(
                "{output}: '{file}' is not a file type this output can be written as; give a "
                "name ending in {allowed}."
            ).format(output=name, file=os.path.basename(path), allowed=shown)
    return None


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
