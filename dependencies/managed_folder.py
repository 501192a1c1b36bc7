"""The plugin-managed folder that pip installs into, one per Python version.

The installer never writes into QGIS's own Python (``site-packages`` of the QGIS install, which
may be read-only and is shared by other plugins). It runs ``pip install --target`` into
``<QGIS profile>/python/dependencies/py<major>.<minor>`` instead, and the plugin adds that folder
to ``sys.path`` when it loads. The folder is per Python version because compiled wheels (torch,
rasterio) only import on the version they were built for: after a QGIS upgrade that brings a
new Python, the old folder is simply not used and the installer offers a fresh install.

The folder is *appended* to ``sys.path`` (``site.addsitedir``), so a package QGIS already ships
(numpy, GDAL) is always the one imported: the managed folder only fills gaps.
"""

from __future__ import annotations

import os
import site
import sys


def python_tag(version: tuple[int, int] | None = None) -> str:
    """``py3.11`` for the running interpreter (or ``version``)."""
    major, minor = version or (sys.version_info.major, sys.version_info.minor)
    return f"py{major}.{minor}"


def managed_folder(profile_dir: str, version: tuple[int, int] | None = None) -> str:
    """``<profile_dir>/python/dependencies/py3.11``: where the installer puts packages.

    Args:
        profile_dir: the QGIS user profile folder (``QgsApplication.qgisSettingsDirPath()``).
        version: Python (major, minor); defaults to the running interpreter's.
    """
    return os.path.join(os.path.abspath(profile_dir), "python", "dependencies", python_tag(version))


def activate(folder: str) -> bool:
    """Add ``folder`` to the end of ``sys.path`` (processing .pth files) if it exists.

    Returns True when the folder exists and is now on ``sys.path``. Safe to call repeatedly.
    """
    if not os.path.isdir(folder):
        return False
    norm = os.path.normcase(os.path.abspath(folder))
    if norm not in (os.path.normcase(os.path.abspath(p)) for p in sys.path if p):
        site.addsitedir(folder)
    import importlib

    importlib.invalidate_caches()
    return True
