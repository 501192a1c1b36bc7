"""The plugin's menu entries, the options page registration, and the "missing packages" offer.

The QGIS interface is read from ``qgis.utils.iface`` when each function runs (QGIS sets it
before plugins load; tests set their own).
"""

from __future__ import annotations

from typing import Any, Callable

from qgis import utils
from qgis.core import Qgis
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QPushButton

from ..dependencies.requirements import PLUGIN_MODULES, join_names, missing_modules
from ..icons import training_icon_path


def _iface() -> Any:
    return utils.iface


def add_menu(
    menu: str,
    install: Callable[[], None],
    settings: Callable[[], None],
    train: Callable[[], None] | None = None,
    models: Callable[[], None] | None = None,
) -> list[Any]:
    """Plugins > Geohazard > Train a model... / Model manager... / Install dependencies... /
    Device settings...; the training dialog also gets a toolbar button."""
    iface = _iface()
    actions = []
    entries = [
        ("Train a model…", train, training_icon_path()),
        ("Model manager…", models, None),
        ("Install dependencies…", install, None),
        ("Device settings…", settings, None),
    ]
    for text, slot, icon in entries:
        if slot is None:
            continue
        action = QAction(text, iface.mainWindow())
        if icon:
            action.setIcon(QIcon(icon))
        action.triggered.connect(slot)
        iface.addPluginToMenu(menu, action)
        if icon:
            iface.addToolBarIcon(action)
        actions.append(action)
    return actions


def remove_menu(menu: str, actions: list[Any]) -> None:
    iface = _iface()
    for action in actions:
        iface.removePluginMenu(menu, action)
        iface.removeToolBarIcon(action)
        action.deleteLater()


def register_options_page() -> Any:
    """Settings > Options > Geohazard (device, mixed precision, GPU memory cap)."""
    from .device_settings import DeviceOptionsFactory

    factory = DeviceOptionsFactory()
    _iface().registerOptionsWidgetFactory(factory)
    return factory


def unregister_options_page(factory: Any) -> None:
    _iface().unregisterOptionsWidgetFactory(factory)


def offer_install_if_missing(install: Callable[[], None]) -> list[str]:
    """A message bar naming the missing packages (the same the installer lists), with an
    Install button; returns them."""
    missing = missing_modules(PLUGIN_MODULES)
    if not missing:
        return missing
    bar = _iface().messageBar()
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
