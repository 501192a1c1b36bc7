"""The QGIS plugin object: registers the Processing provider and leaves nothing behind on unload."""

from __future__ import annotations

from qgis.core import QgsApplication


class GeohazardPlugin:
    """Registers the ``geohazard`` Processing provider in QGIS and in qgis_process."""

    def __init__(self, iface) -> None:  # type: ignore[no-untyped-def]
        self.iface = iface
        self.provider = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS API name)
        """Called by QGIS (desktop and qgis_process) to add the provider to the registry."""
        from .processing_provider.provider import GeohazardProvider

        if self.provider is None:
            self.provider = GeohazardProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
