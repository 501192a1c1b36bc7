"""The plugin zip installs into a clean QGIS profile and its algorithm runs from there with the
real qgis_process; with torch hidden, the installed plugin still lists it and says why not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
sys.path.insert(0, str(ROOT / "scripts"))

_IN_GIT = (
    subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True
    ).returncode
    == 0
)
pytestmark = [
    pytest.mark.skipif(not os.path.exists(QGIS_PROCESS), reason="qgis_process.bin not installed"),
    pytest.mark.skipif(not _IN_GIT, reason="the zip is built with git archive from a git checkout"),
]


def _venv_site() -> str:
    import site

    return next(p for p in site.getsitepackages() if p.startswith(sys.prefix))


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    import make_zip

    out = tmp_path_factory.mktemp("dist")
    return Path(make_zip.build("HEAD", str(out), include_uncommitted=True))


@pytest.fixture(scope="module")
def installed_profile(plugin_zip, tmp_path_factory) -> Path:
    """A fresh QGIS config folder with the zip unpacked into its default profile's plugins."""
    config = tmp_path_factory.mktemp("qgis-config")
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(plugins)
    proc = _qgis_process(config, "plugins", "enable", "geohazard")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return config


def _qgis_process(config: Path, *args: str, blocked: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_PLUGINPATH", "PYTHONPATH")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QGIS_CUSTOM_CONFIG_PATH=str(config),
        PYTHONPATH=_venv_site(),
        XDG_RUNTIME_DIR=env.get("XDG_RUNTIME_DIR", "/tmp"),
    )
    if blocked:
        env["GEOHAZARD_BLOCK_MODULES"] = blocked
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "tests" / "import_blocker"), env["PYTHONPATH"]]
        )
    return subprocess.run(
        [QGIS_PROCESS, *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_zip_layout_and_version(plugin_zip):
    import configparser

    meta = configparser.ConfigParser()
    meta.read(ROOT / "metadata.txt")
    assert plugin_zip.name == f"geohazard-{meta['general']['version']}.zip"
    with zipfile.ZipFile(plugin_zip) as zf:
        names = zf.namelist()
    assert all(n.startswith("geohazard/") for n in names)
    for required in (
        "metadata.txt",
        "__init__.py",
        "plugin.py",
        "icons/geohazard.svg",
        "processing_provider/provider.py",
        "engine/device.py",
        "ui/installer_dialog.py",
    ):
        assert f"geohazard/{required}" in names, required
    for dev in (
        "tests/",
        "scripts/",
        "benchmarks/",
        ".ci/",
        ".gitattributes",
        "pyproject.toml",
        "requirements.txt",
        "constraints.txt",
        ".qgis-settings/",
    ):
        assert not any(n.startswith(f"geohazard/{dev}") for n in names), dev
    tracked = subprocess.run(
        ["git", "ls-files", "models", "styles"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    for path in tracked:  # bundled weights, model cards and styles go in
        assert f"geohazard/{path}" in names, path


def test_algorithm_runs_from_installed_zip(installed_profile, tmp_path):
    from sar_pairs import write_pair

    shape = (128, 128)
    ref, sec = write_pair(tmp_path, np.full(shape, 1.5), np.full(shape, -1.0))
    out = tmp_path / "offsets.tif"
    listing = _qgis_process(installed_profile, "plugins")
    assert "* geohazard" in listing.stdout
    proc = _qgis_process(
        installed_profile,
        "--json",
        "run",
        "geohazard:offsettracking",
        "--",
        f"REFERENCE={ref}",
        f"SECONDARY={sec}",
        "WINDOW_SIZES=32",
        "STEP=16",
        "SEARCH=4",
        f"OUTPUT={out}",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert result["results"]["OUTPUT"] == str(out)
    info = result["log"]["info"]
    log = "\n".join(info) if isinstance(info, list) else str(info)
    assert "Device: auto chose the CPU" in log  # which device ran and why, in the log
    with rasterio.open(out) as ds:
        assert ds.count == 4
        east = ds.read(1)
    # The unpacked copy ran (no dev symlink or QGIS_PLUGINPATH involved): Python compiled
    # the algorithm's module there when qgis_process imported it.
    plugin_dir = installed_profile / "profiles" / "default" / "python" / "plugins" / "geohazard"
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        assert list(
            (plugin_dir / "processing_provider" / "__pycache__").glob("offset_tracking*.pyc")
        )
    assert np.nanmedian(east) == pytest.approx(-10.0, abs=1.0)  # -1 px east at 10 m pixels


def test_installed_zip_without_torch_says_what_is_missing(installed_profile, tmp_path):
    listing = _qgis_process(installed_profile, "list", blocked="torch")
    assert "geohazard:offsettracking" in listing.stdout
    from sar_pairs import write_pair

    ref, sec = write_pair(tmp_path, np.zeros((64, 64)), np.zeros((64, 64)))
    proc = _qgis_process(
        installed_profile,
        "run",
        "geohazard:offsettracking",
        "--",
        f"REFERENCE={ref}",
        f"SECONDARY={sec}",
        f"OUTPUT={tmp_path / 'o.tif'}",
        blocked="torch",
    )
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "torch" in text and "not installed" in text
    assert "Traceback" not in text
