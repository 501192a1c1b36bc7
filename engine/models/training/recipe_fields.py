"""Recipe values declared once, on the fields of a family's recipe dataclass.

A field made with :func:`recipe_value` carries the training algorithm's parameter name, its
label, its range and (with ``percent``) that the parameter is the field times 100; its default
is the field's default. The training algorithm's advanced parameters
(``TrainingAlgorithm.add_recipe``), the command-line flags of ``scripts/finetune.py`` and the
ranges in the help all come from here, so a default is written in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PARAMETER = "geohazard_parameter"


@dataclass(frozen=True)
class RecipeValue:
    """One recipe field as a parameter: ``parameter`` holds ``field`` (times 100 if percent)."""

    field: str
    parameter: str
    label: str
    default: float
    minimum: float
    maximum: float
    integer: bool
    percent: bool = False

    def from_parameter(self, value: Any) -> Any:
        """The field's value for a parameter value."""
        number = float(value) / 100 if self.percent else value
        return int(number) if self.integer and not self.percent else float(number)


def recipe_value(
    default: float,
    parameter: str,
    label: str,
    minimum: float,
    maximum: float,
    percent: bool = False,
) -> Any:
    """A recipe dataclass field exposed as the parameter ``parameter`` (see module docstring).

    Args:
        default: the field's default (a parameter's default is ``default * 100`` if percent).
        parameter: the training algorithm's parameter name (upper case).
        label: the parameter's label, with its unit.
        minimum, maximum: the parameter's range (in percent where percent).
        percent: the parameter is a whole percentage of the field's share.
    """
    meta = {PARAMETER: (parameter, label, minimum, maximum, percent)}
    return field(default=default, metadata=meta)


def recipe_values(recipe: Any) -> list[RecipeValue]:
    """The parameter-backed fields of a recipe dataclass (or instance), in field order."""
    out = []
    for f in fields(recipe):
        if PARAMETER not in f.metadata:
            continue
        parameter, label, low, high, percent = f.metadata[PARAMETER]
        value: Any = f.default
        default = round(value * 100) if percent else value
        integer = percent or isinstance(value, int)
        out.append(RecipeValue(f.name, parameter, label, default, low, high, integer, percent))
    return out


def recipe_from(recipe_type: Any, values: Mapping[str, Any], **others: Any) -> Any:
    """A recipe from parameter values by parameter name (absent ones keep their default) and
    the other fields given by name."""
    given = {
        v.field: v.from_parameter(values[v.parameter])
        for v in recipe_values(recipe_type)
        if values.get(v.parameter) is not None
    }
    return recipe_type(**given, **others)
