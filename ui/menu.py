"""The plugin's menu entries, the options page registration, and the "missing packages" offer."""

from __future__ import annotations

from typing import Callable

from qgis.core import Qgis
from qgis.PyQt.QtWidgets import QAction, QPushButton

from ..dependencies.requirements import PLUGIN_MODULES, join_names, missing_modules


def add_menu(iface, menu: str, install: Callable[[], None], settings: Callable[[], None]) -> list:  # type: ignore[no-untyped-def]
    """Plugins > Geohazard > Install dependencies... / Device settings..."""
    actions = []
    for text, slot in (("Install dependencies…", install), ("Device settings…", settings)):
        action = QAction(text, iface.mainWindow())
        action.triggered.connect(slot)
        iface.addPluginToMenu(menu, action)
        actions.append(action)
    return actions


def remove_menu(iface, menu: str, actions: list) -> None:  # type: ignore[no-untyped-def]
    for action in actions:
        iface.removePluginMenu(menu, action)
        action.deleteLater()


def register_options_page(iface):  # type: ignore[no-untyped-def]
    """Settings > Options > Geohazard (device, mixed precision, GPU memory cap)."""
    from .device_settings import DeviceOptionsFactory

    factory = DeviceOptionsFactory()
    iface.registerOptionsWidgetFactory(factory)
    return factory


def unregister_options_page(iface, factory) -> None:  # type: ignore[no-untyped-def]
    iface.unregisterOptionsWidgetFactory(factory)


def offer_install_if_missing(iface, install: Callable[[], None]) -> list[str]:  # type: ignore[no-untyped-def]
    """A message bar naming the missing packages (the same the installer lists), with an
    Install button; returns them."""
    missing = missing_modules(PLUGIN_MODULES)
    if not missing:
        return missing
    bar = iface.messageBar()
    names, verb = join_names(missing)
    text = (
        f"{names} {verb} not installed for QGIS's Python; "
        "Geohazard's algorithms need them to run."
    )
    if hasattr(bar, "createMessage") and hasattr(bar, "pushWidget"):
        item = bar.createMessage("Geohazard", text)
        button = QPushButton("Install…", item)
        button.clicked.connect(install)
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.MessageLevel.Warning, 0)
    else:  # a minimal interface (tests' mock): the message alone
        bar.pushMessage("Geohazard", text, level=Qgis.MessageLevel.Warning)
    return missing
