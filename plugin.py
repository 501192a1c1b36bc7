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
            provider = GeohazardProvider()
            # QGIS deletes a provider whose id is already registered and returns False
            if QgsApplication.processingRegistry().addProvider(provider):
                self.provider = provider

    def initGui(self) -> None:  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            try:
                QgsApplication.processingRegistry().removeProvider(self.provider)
            except RuntimeError:  # already deleted by QGIS (e.g. at application exit)
                pass
            self.provider = None
