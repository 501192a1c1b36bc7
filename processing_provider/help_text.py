"""The help panel of every algorithm: its own text, the allowed values, the references, and the
address of the documentation behind the dialog's Help button (taken from metadata.txt, so the
plugin's homepage is written in one place)."""

from __future__ import annotations

import configparser
import os
from functools import lru_cache

from qgis.core import QgsProcessingParameterDefinition

from .citations import Citation, references_html
from .parameter_checks import Translate, ranges_help


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


def compose_help(
    body: str,
    definitions: list[QgsProcessingParameterDefinition],
    citations: tuple[Citation, ...],
    tr: Translate,
) -> str:
    """The algorithm's text, then its allowed values, then its references."""
    parts = [body.strip(), ranges_help(definitions, tr), references_html(citations)]
    return "\n\n".join(p for p in parts if p)
