"""Input rasters loaded once per run without writing anything beside the user's files.

QGIS loads a raster parameter given as a path with GDAL's auxiliary files (PAM) on, which writes
``.aux.xml`` statistics beside the input. Loading it here first, with PAM off, and keeping it in
the context's temporary layer store makes QGIS's checks and ``parameterAsRasterLayer`` reuse it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from qgis.core import QgsProcessingContext, QgsRasterLayer


@contextmanager
def gdal_pam_disabled() -> Iterator[None]:
    """GDAL's auxiliary files (``.aux.xml``) off in this thread, for QGIS's own GDAL.

    A raster layer computes statistics for its default renderer when it is created, and GDAL
    saves them as ``<input>.aux.xml`` beside the input when the layer is closed. Datasets opened
    meanwhile never write one; other threads and the user's own layers are unaffected.
    """
    try:
        from osgeo import gdal
    except ImportError:  # QGIS always ships GDAL's bindings; without them nothing changes
        yield
        return
    key = "GDAL_PAM_ENABLED"
    before = gdal.GetThreadLocalConfigOption(key, None)
    gdal.SetThreadLocalConfigOption(key, "NO")
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption(key, before)


def load_input_raster(source: str, context: QgsProcessingContext) -> QgsRasterLayer | None:
    """Load an input raster given as a file path without writing anything beside it.

    The layer goes to the context's temporary layer store, where QGIS's parameter checks and
    ``parameterAsRasterLayer`` find it by its source, so QGIS does not load it a second time
    (with GDAL's auxiliary files on). Returns None when the file is not a readable raster.
    """
    store = context.temporaryLayerStore()
    for layer in store.mapLayers().values():
        if isinstance(layer, QgsRasterLayer) and layer.source() == source:
            return layer if layer.isValid() else None
    name = os.path.splitext(os.path.basename(source.split("|")[0]))[0]
    with gdal_pam_disabled():
        layer = QgsRasterLayer(source, name, "gdal")
    if not layer.isValid():
        return None
    store.addMapLayer(layer)
    return layer
