"""The plugin's icons, found next to this file (shared by processing_provider/ and ui/)."""

from __future__ import annotations

import os

ICONS_DIR = os.path.dirname(os.path.abspath(__file__))


def plugin_icon_path() -> str:
    """The Geohazard icon (SVG), for the provider, its algorithms and the options page."""
    return os.path.join(ICONS_DIR, "geohazard.svg")


def training_icon_path() -> str:
    """The training dialog's icon (a falling loss curve over the plugin's mountain)."""
    return os.path.join(ICONS_DIR, "training.svg")
