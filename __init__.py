"""Geohazard QGIS plugin entry point (QGIS calls classFactory when the plugin is enabled)."""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    """Create the plugin; heavy imports (torch, rasterio) happen only when an algorithm runs.

    ``iface`` is the same object as ``qgis.utils.iface``, where the plugin reads it.
    """
    from .plugin import GeohazardPlugin

    return GeohazardPlugin()
