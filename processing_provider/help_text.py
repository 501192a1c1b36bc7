"""The help panel of every algorithm: its own text, the allowed values, the references, and the
address of the documentation behind the dialog's Help button (taken from metadata.txt, so the
plugin's homepage is written in one place)."""

from __future__ import annotations

import configparser
import os
from functools import lru_cache

from qgis.core import QgsProcessingOutputDefinition, QgsProcessingParameterDefinition

from .citations import Citation, references_html
from .parameter_checks import NUMBER_TYPES, Translate, ranges_help
from .qgis_compat import HIDDEN, OPTIONAL


def plugin_dir() -> str:
    """The plugin's folder (the repository root; ``geohazard`` when installed)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@lru_cache(maxsize=1)
def plugin_metadata() -> dict[str, str]:
    """The ``[general]`` section of metadata.txt."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(plugin_dir(), "metadata.txt"), encoding="utf-8")
    return dict(parser["general"]) if parser.has_section("general") else {}


def help_url(anchor: str = "") -> str:
    """The README on the repository host, at the section ``anchor`` (GitHub heading slug)."""
    home = plugin_metadata().get("homepage", "").rstrip("/")
    if not home:
        return ""
    return f"{home}#{anchor}" if anchor else home


def _hidden(definition: QgsProcessingParameterDefinition) -> bool:
    return bool(definition.flags() & HIDDEN)


def _enum_options(definition: QgsProcessingParameterDefinition) -> str:
    options = getattr(definition, "options", None)
    if definition.type() != "enum" or options is None:
        return ""
    return ": " + ", ".join(f"{i} {o}" for i, o in enumerate(options()))


def inputs_help(definitions: list[QgsProcessingParameterDefinition], tr: Translate) -> str:
    """Every input that is not a number (numbers are in "Allowed values"), by the name that
    qgis_process and scripts use and the label of the dialog (which carries the unit)."""
    rows = []
    for d in definitions:
        if d.isDestination() or d.type() in NUMBER_TYPES or _hidden(d):
            continue
        optional = tr(", optional") if d.flags() & OPTIONAL else ""
        rows.append(f"<code>{d.name()}</code> ({d.description()}{optional}){_enum_options(d)}")
    if not rows:
        return ""
    return tr("<b>Parameters</b>") + "<br>" + "<br>".join(rows)


# Destination types that become map layers (and get a .qml style beside them).
LAYER_DESTINATIONS = ("rasterDestination", "sink", "vectorDestination")


def outputs_help(
    definitions: list[QgsProcessingParameterDefinition],
    outputs: list[QgsProcessingOutputDefinition],
    tr: Translate,
) -> str:
    """Every output: the files (destination parameters) and the values the algorithm returns."""
    rows = []
    files = {d.name() for d in definitions if d.isDestination()}
    for d in definitions:
        if d.isDestination() and not _hidden(d):
            optional = tr(", optional") if d.flags() & OPTIONAL else ""
            rows.append(f"<code>{d.name()}</code> ({d.description()}{optional})")
    for o in outputs:
        if o.name() not in files:
            rows.append(f"<code>{o.name()}</code> ({o.description()})")
    if not rows:
        return ""
    text = tr("<b>Outputs</b>") + "<br>" + "<br>".join(rows)
    if any(d.type() in LAYER_DESTINATIONS for d in definitions if d.isDestination()):
        text += "<br>" + tr(
            "Each raster or vector layer output gets its style in a .qml file of the same name "
            "beside it (e.g. offsets.tif and offsets.qml): QGIS loads it with the layer, so an "
            "output written by qgis_process or a script opens styled later."
        )
    return text


def compose_help(
    body: str,
    definitions: list[QgsProcessingParameterDefinition],
    citations: tuple[Citation, ...],
    tr: Translate,
    outputs: list[QgsProcessingOutputDefinition] | None = None,
) -> str:
    """The algorithm's text, its parameters and allowed values, its outputs, its references."""
    parts = [
        body.strip(),
        inputs_help(definitions, tr),
        ranges_help(definitions, tr),
        outputs_help(definitions, outputs or [], tr),
        references_html(citations),
    ]
    return "\n\n".join(p for p in parts if p)
