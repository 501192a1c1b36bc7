"""The QGIS plugin object: registers the Processing provider and leaves nothing behind on unload.

It also puts the installer's managed package folder on sys.path (before anything imports
torch), and in the desktop offers the dependency installer and the device settings page.
"""

from __future__ import annotations

from qgis.core import QgsApplication

MENU = "&Geohazard"


class GeohazardPlugin:
    """Registers the ``geohazard`` Processing provider in QGIS and in qgis_process."""

    def __init__(self) -> None:
        from qgis.utils import iface  # set by QGIS before plugins load; None in qgis_process

        from .settings import activate_dependencies_folder

        self.iface = iface
        self.provider = None
        self.actions: list = []
        self.options_factory = None
        self.training_dialog = None
        activate_dependencies_folder()

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
        from .ui.menu import add_menu, offer_install_if_missing, register_options_page

        self.actions = add_menu(
            MENU,
            self.show_installer,
            self.show_device_settings,
            self.show_training,
            self.show_model_manager,
        )
        self.options_factory = register_options_page()
        offer_install_if_missing(self.show_installer)

    def show_installer(self) -> None:
        from .ui.installer_dialog import InstallerDialog

        InstallerDialog(self.iface.mainWindow()).exec()

    def show_device_settings(self) -> None:
        from .ui.device_settings import DeviceSettingsDialog

        DeviceSettingsDialog(self.iface.mainWindow()).exec()

    def show_training(self) -> None:
        """The training dialog, non-modal; one instance, so a run survives closing it."""
        from .ui.menu import offer_install_if_missing

        if offer_install_if_missing(self.show_installer):  # torch, numpy... are needed
            return
        from .ui.training_dialog import TrainingDialog

        if self.training_dialog is None:
            self.training_dialog = TrainingDialog(self.iface.mainWindow())
        self.training_dialog.show()
        self.training_dialog.raise_()
        self.training_dialog.activateWindow()

    def show_model_manager(self) -> None:
        from .ui.menu import offer_install_if_missing

        if offer_install_if_missing(self.show_installer):  # checking a model needs torch
            return
        from .ui.model_manager import ModelManagerDialog

        ModelManagerDialog(self.iface.mainWindow()).exec()
        if self.training_dialog is not None:
            self.training_dialog.refresh_models()

    def unload(self) -> None:
        from .ui.menu import remove_menu, unregister_options_page

        if self.training_dialog is not None:
            self.training_dialog.stop_and_wait()
            self.training_dialog.close()
            self.training_dialog.deleteLater()
            self.training_dialog = None
        if self.actions:
            remove_menu(MENU, self.actions)
            self.actions = []
        if self.options_factory is not None:
            unregister_options_page(self.options_factory)
            self.options_factory = None
        if self.provider is not None:
            try:
                QgsApplication.processingRegistry().removeProvider(self.provider)
            except RuntimeError:  # already deleted by QGIS (e.g. at application exit)
                pass
            self.provider = None
