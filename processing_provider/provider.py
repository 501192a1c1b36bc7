"""The ``geohazard`` Processing provider: the algorithms found by :mod:`.algorithms` and the
shipped graphical models."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .base_algorithm import plugin_icon_path


class GeohazardProvider(QgsProcessingProvider):
    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS API name)
        from .algorithms import algorithm_classes

        for cls in algorithm_classes():
            self.addAlgorithm(cls())
        from .shipped_models import shipped_models

        for model in shipped_models():
            self.addAlgorithm(model)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802 (QGIS API name)
        return ["tif"]  # outputs are written by rasterio as GeoTIFF

    def id(self) -> str:
        return "geohazard"

    def name(self) -> str:
        return "Geohazard"

    def longName(self) -> str:  # noqa: N802 (QGIS API name)
        return "Geohazard: SAR and DEM tools for landslides, earthquakes, volcanoes and glaciers"

    def icon(self) -> QIcon:
        return QIcon(plugin_icon_path())
