"""Plugin settings kept in QgsSettings under ``geohazard/``, and the profile's dependency folder.

QGIS side only (imports qgis, never torch): the device options that algorithms pass to the
engine, and where the installer puts packages (see ``dependencies/managed_folder.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import QgsApplication, QgsSettings

from .dependencies.managed_folder import activate, managed_folder

PREFIX = "geohazard/"
DEVICE_KEY = PREFIX + "device"
MIXED_PRECISION_KEY = PREFIX + "mixed_precision"
MEMORY_CAP_KEY = PREFIX + "gpu_memory_cap"
TORCH_BUILD_KEY = PREFIX + "torch_build"


@dataclass(frozen=True)
class DeviceSettings:
    """What the user chose in the device settings page.

    Args:
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; used when an algorithm's
            DEVICE parameter is left on ``auto``.
        mixed_precision: run networks in float16/bfloat16 autocast on the GPU.
        memory_cap: GPU memory limit as typed (``""`` for none, ``0.8``, ``80%`` or ``6 GiB``).
    """

    device: str = "auto"
    mixed_precision: bool = False
    memory_cap: str = ""


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def load_device_settings() -> DeviceSettings:
    s = QgsSettings()
    return DeviceSettings(
        device=str(s.value(DEVICE_KEY, "auto") or "auto"),
        mixed_precision=_bool(s.value(MIXED_PRECISION_KEY, False)),
        memory_cap=str(s.value(MEMORY_CAP_KEY, "") or ""),
    )


def save_device_settings(settings: DeviceSettings) -> None:
    s = QgsSettings()
    s.setValue(DEVICE_KEY, settings.device)
    s.setValue(MIXED_PRECISION_KEY, settings.mixed_precision)
    s.setValue(MEMORY_CAP_KEY, settings.memory_cap)


def dependencies_folder() -> str:
    """``<QGIS profile>/python/dependencies/py3.11``: where the installer puts packages."""
    return managed_folder(QgsApplication.qgisSettingsDirPath())


def activate_dependencies_folder() -> bool:
    """Put the managed folder (if it exists) at the end of sys.path; called on plugin load."""
    return activate(dependencies_folder())


def qgis_proxy_url() -> str | None:
    """QGIS's HTTP proxy (Settings > Options > Network) as ``http://[user:pass@]host:port``."""
    s = QgsSettings()
    enabled = str(s.value("proxy/proxyEnabled", False)).lower() in ("true", "1")
    host = str(s.value("proxy/proxyHost", "") or "")
    if not enabled or not host:
        return None
    port = str(s.value("proxy/proxyPort", "") or "")
    user = str(s.value("proxy/proxyUser", "") or "")
    password = str(s.value("proxy/proxyPassword", "") or "")
    from urllib.parse import quote

    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    return f"http://{auth}{host}" + (f":{port}" if port else "")


def user_models_folder() -> str:
    """``<QGIS profile>/geohazard/models``: the user's own models (training writes there)."""
    import os

    return os.path.join(QgsApplication.qgisSettingsDirPath(), "geohazard", "models")
