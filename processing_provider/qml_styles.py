"""QML styles shipped in the plugin's ``styles/`` folder, applied when an output loads.

Vector outputs (landslide polygons, displacement arrows) get a fixed QML: their symbology is
driven by attributes (and, for arrows, by data-defined rotation and size), so it needs no
statistics of the data. The post-processor is the shared :class:`LayerStyle`.
"""

from __future__ import annotations

import os
from functools import partial

from qgis.core import QgsMapLayer, QgsProcessingContext

from .base_algorithm import plugin_dir
from .styling import LayerStyle


def style_path(name: str) -> str:
    """Path of ``styles/<name>.qml`` in the plugin folder."""
    return os.path.join(plugin_dir(), "styles", name + ".qml")


def apply_qml(layer: QgsMapLayer, name: str) -> None:
    """Load the shipped ``styles/<name>.qml`` into ``layer`` (raises if QGIS refuses it)."""
    message, ok = layer.loadNamedStyle(style_path(name))
    if not ok:
        raise RuntimeError(f"Style {name}.qml could not be loaded: {message}")
    layer.triggerRepaint()


def attach_qml(context: QgsProcessingContext, output: str, layer_name: str, qml: str) -> None:
    """Name ``output`` and give it ``styles/<qml>.qml`` when QGIS loads it on completion."""
    LayerStyle.attach(context, output, layer_name, partial(apply_qml, name=qml))
