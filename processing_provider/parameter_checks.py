"""Parameter values refused with one clear sentence, and the ranges listed in the help.

Shared by every Geohazard algorithm through ``GeohazardAlgorithm.checkParameterValues``: numbers
must be finite and inside the range their definition gives (NaN passes QGIS's own range test,
and QGIS only says "Incorrect parameter value for X" otherwise), bands are numbered from 1 and
must exist, enums must name one of their options, and input rasters must exist. Units travel in
the definition's metadata (:func:`set_unit`) so that messages and help name them.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingParameterDefinition,
    QgsProcessingUtils,
    QgsProperty,
)

from .input_layers import load_input_raster
from .qgis_compat import INTEGER, OPTIONAL

UNIT_KEY = "geohazard_unit"
# Parameter types that are numbers (a distance is a number in the layer's map units).
NUMBER_TYPES = ("number", "distance")
# QGIS's "no limit" is +-DBL_MAX; anything beyond this counts as unbounded.
UNBOUNDED = 1e300

Translate = Callable[[str], str]


def set_unit(
    param: QgsProcessingParameterDefinition, unit: str
) -> QgsProcessingParameterDefinition:
    """Record the unit of a number parameter (shown in messages and in the help's ranges)."""
    metadata = dict(param.metadata() or {})
    metadata[UNIT_KEY] = unit
    param.setMetadata(metadata)
    return param


def unit_of(definition: QgsProcessingParameterDefinition) -> str:
    return str((definition.metadata() or {}).get(UNIT_KEY, ""))


def format_number(value: float) -> str:
    """A number as a person writes it: 880 000, 0.0555, 150, -1."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        whole = int(value)
        return f"{whole:,}".replace(",", " ") if abs(whole) >= 10_000 else str(whole)
    return f"{value:.6g}"


def number_bounds(definition: QgsProcessingParameterDefinition) -> tuple[float, float]:
    return definition.minimum(), definition.maximum()


def has_full_range(definition: QgsProcessingParameterDefinition) -> bool:
    """True when a number parameter has both a lower and an upper limit."""
    lo, hi = number_bounds(definition)
    return lo > -UNBOUNDED and hi < UNBOUNDED


def range_text(definition: QgsProcessingParameterDefinition, tr: Translate = str) -> str:
    """``-20 000 to 20 000 m`` (or ``at least 1 px`` when only one side is limited)."""
    lo, hi = number_bounds(definition)
    unit = unit_of(definition)
    tail = f" {unit}" if unit else ""
    low, high = format_number(lo), format_number(hi)
    if lo > -UNBOUNDED and hi < UNBOUNDED:
        return tr("{low} to {high}").format(low=low, high=high) + tail
    if lo > -UNBOUNDED:
        return tr("at least {low}").format(low=low) + tail
    if hi < UNBOUNDED:
        return tr("at most {high}").format(high=high) + tail
    return tr("any finite number") + tail


def ranges_help(definitions: list[QgsProcessingParameterDefinition], tr: Translate) -> str:
    """The help's list of every number parameter with its range and default."""
    rows = []
    for d in definitions:
        if d.type() not in NUMBER_TYPES:
            continue
        default = d.defaultValue()
        text = f"<code>{d.name()}</code> ({d.description()}): {range_text(d, tr)}"
        if default is not None:
            text += tr(", default {value}").format(value=format_number(float(default)))
        rows.append(text)
    if not rows:
        return ""
    return tr("<b>Allowed values</b>") + "<br>" + "<br>".join(rows)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _check_number(
    definition: QgsProcessingParameterDefinition, value: Any, tr: Translate
) -> str | None:
    name, unit = definition.name(), unit_of(definition)
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else value
    except ValueError:
        return tr("{name} must be a number ({range}), not '{value}'.").format(
            name=name, range=range_text(definition, tr), value=value
        )
    if not math.isfinite(number):
        return tr("{name} must be a finite number ({range}), not {value}.").format(
            name=name, range=range_text(definition, tr), value=value
        )
    if definition.dataType() == INTEGER and number != int(number):
        return tr("{name} must be a whole number ({range}), not {value}.").format(
            name=name, range=range_text(definition, tr), value=format_number(number)
        )
    lo, hi = number_bounds(definition)
    if number < lo or number > hi:
        tail = f" {unit}" if unit else ""
        allowed = (
            tr("between {lo} and {hi}").format(lo=format_number(lo), hi=format_number(hi)) + tail
            if has_full_range(definition)
            else range_text(definition, tr)
        )
        return tr("{name} must be {allowed}, not {value}.").format(
            name=name, allowed=allowed, value=format_number(number) + tail
        )
    return None


def _check_band(
    alg: Any,
    definition: QgsProcessingParameterDefinition,
    value: Any,
    parameters: dict,
    context: QgsProcessingContext,
    tr: Translate,
) -> str | None:
    name = definition.name()
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else value
    except ValueError:
        return tr("{name} must be a band number (1 for the first band), not '{value}'.").format(
            name=name, value=value
        )
    if not math.isfinite(number) or number != int(number) or number < 1:
        return tr(
            "{name} must be a band number, 1 for the first band (bands are numbered from 1), "
            "not {value}."
        ).format(name=name, value=value)
    parent = definition.parentLayerParameterName()
    if parent and not _is_unset(parameters.get(parent)):
        layer = alg.parameterAsRasterLayer(parameters, parent, context)
        if layer is not None and layer.isValid() and int(number) > layer.bandCount():
            count = layer.bandCount()
            return tr("{name} {band} does not exist: '{layer}' has {count} band{s}.").format(
                name=name,
                band=int(number),
                layer=layer.name(),
                count=count,
                s="" if count == 1 else "s",
            )
    return None


def _check_enum(
    definition: QgsProcessingParameterDefinition, value: Any, tr: Translate
) -> str | None:
    options = definition.options()
    values = value if isinstance(value, list) else [value]
    for item in values:
        try:
            index = int(str(item).strip())
        except ValueError:
            index = -1
        if not 0 <= index < len(options):
            listing = ", ".join(f"{i} = {o}" for i, o in enumerate(options))
            return tr(
                "{name} must be the number of one of its options ({options}), not '{value}'."
            ).format(name=definition.name(), options=listing, value=item)
    return None


def _check_raster(
    definition: QgsProcessingParameterDefinition,
    value: Any,
    context: QgsProcessingContext,
    tr: Translate,
) -> str | None:
    if not isinstance(value, str):
        return None  # a layer object or a property: QGIS's own check follows
    path = value.split("|")[0]
    if os.path.isfile(path):
        if load_input_raster(value, context) is None:
            return tr(
                "{name}: '{file}' is damaged or not a raster: it exists but cannot be read as "
                "one; replace it with an intact copy."
            ).format(name=definition.name(), file=os.path.basename(path))
        return None
    if QgsProcessingUtils.mapLayerFromString(value, context) is None:
        return tr("{name}: '{value}' was not found (no such file or layer).").format(
            name=definition.name(), value=value
        )
    return None


def check_values(
    alg: Any, parameters: dict, context: QgsProcessingContext, tr: Translate
) -> str | None:
    """The first bad value among ``parameters`` as one sentence, or None when all are fine."""
    for definition in alg.parameterDefinitions():
        name, kind = definition.name(), definition.type()
        value = parameters.get(name)
        if isinstance(value, QgsProperty):
            continue  # data-defined (models): evaluated by QGIS at run time
        if _is_unset(value):
            if not (definition.flags() & OPTIONAL) and (
                definition.defaultValue() is None and not definition.isDestination()
            ):
                return tr("{name} is required: {description}.").format(
                    name=name, description=definition.description()
                )
            continue
        message = None
        if kind in NUMBER_TYPES:
            message = _check_number(definition, value, tr)
        elif kind == "band":
            message = _check_band(alg, definition, value, parameters, context, tr)
        elif kind == "enum":
            message = _check_enum(definition, value, tr)
        elif kind == "raster":
            message = _check_raster(definition, value, context, tr)
        if message is None and not definition.checkValueIsAcceptable(value, context):
            message = tr("{name} ({description}): '{value}' is not an accepted value.").format(
                name=name, description=definition.description(), value=value
            )
        if message:
            return message
    return None
