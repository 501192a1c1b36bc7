"""Test set-up: the checkout is importable as the plugin package ``geohazard``.

QGIS finds the plugin as a folder named ``geohazard``; tests import it the same way through a
symlink in .venv/qgis-plugins (made by scripts/env.sh, and here if missing). pytest-qgis starts
a real QgsApplication for the session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / ".venv" / "qgis-plugins"
PLUGINS.mkdir(parents=True, exist_ok=True)
_link = PLUGINS / "geohazard"
if not _link.exists():
    _link.symlink_to(ROOT, target_is_directory=True)
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # shared helpers such as sar_pairs.py


@pytest.fixture(scope="session")
def plugin(qgis_app, qgis_iface, qgis_processing):  # type: ignore[no-untyped-def]
    """The Geohazard plugin loaded through classFactory and initProcessing, as QGIS does."""
    import geohazard

    plug = geohazard.classFactory(qgis_iface)
    plug.initProcessing()
    yield plug
    plug.unload()


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    """``small_disk("64k")`` mounts a tmpfs of that size (a disk about to be full) and returns
    its folder; skipped with the reason when not root. Unmounted after the test."""
    from run_checks import SmallDisks

    disks = SmallDisks(tmp_path)
    yield disks
    disks.unmount_all()
