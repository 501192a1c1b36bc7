"""The plugin zip installs into a clean QGIS profile and its algorithm runs from there with the
real qgis_process; with torch hidden, the installed plugin still lists it and says why not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
sys.path.insert(0, str(ROOT / "scripts"))
ZIP_LIMIT_BYTES = 25_000_000  # plugins.qgis.org's upload limit (25 MB)
# Demo and training-data code left out of the zip (export-ignore in .gitattributes).
DEMO_ONLY = (
    "engine/dem/sample_data.py",
    "engine/families/dem_sr/recipe.py",
    "engine/families/dem_sr/natural_images.py",
    "engine/families/dem_sr/held_out.py",
    "engine/simulate/real_dem.py",
    "engine/simulate/landslide_scene.py",
)
# The training code itself ships: fine-tuning from QGIS uses it.
TRAINING_CODE = (
    "engine/families/dem_sr/training.py",
    "engine/families/dem_sr/patches.py",
    "engine/families/dem_sr/losses.py",
)

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
        "LICENSE",
        "__init__.py",
        "plugin.py",
        "icons/geohazard.svg",
        "processing_provider/provider.py",
        "engine/core/device.py",
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
    for demo in DEMO_ONLY:
        assert f"geohazard/{demo}" not in names, demo
    for needed in TRAINING_CODE:  # fine-tuning from QGIS needs these
        assert f"geohazard/{needed}" in names, needed


def test_zip_stays_under_the_plugin_repository_limit(plugin_zip):
    """plugins.qgis.org refuses uploads over 25 MB."""
    assert plugin_zip.stat().st_size < ZIP_LIMIT_BYTES, plugin_zip.stat().st_size


def test_gate_lints_exactly_the_zip_contents(plugin_zip):
    """scripts/plugin_files.py (what lint.sh scans) lists what the zip holds, plus untracked
    files that git would add (the zip is built from tracked files only)."""
    import plugin_files

    with zipfile.ZipFile(plugin_zip) as zf:
        zipped = {n[len("geohazard/") :] for n in zf.namelist() if not n.endswith("/")}
    listed = set(plugin_files.plugin_files())
    untracked = set(
        subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split()
    )
    assert zipped <= listed
    assert listed - zipped <= untracked


def test_shipped_modules_import_only_shipped_modules(installed_profile):
    """Read with ast: no module in the zip imports one left out of it (also lazily, inside a
    function), so the demo and training-data code can stay out."""
    from import_graph import import_graph, plugin_modules

    source = plugin_modules(ROOT)
    shipped_dir = installed_profile / "profiles" / "default" / "python" / "plugins" / "geohazard"
    shipped = plugin_modules(
        shipped_dir, [p.relative_to(shipped_dir) for p in shipped_dir.rglob("*.py")]
    )
    assert "engine.dem.sample_data" in source and "engine.dem.sample_data" not in shipped
    graph = import_graph({**source, **shipped})  # imports resolved against the whole tree
    missing = {
        f"{name} -> {target}" for name in shipped for target in graph[name] if target not in shipped
    }
    assert missing == set()


QGIS_PYTHON_PLUGINS = "/usr/share/qgis/python/plugins"


def test_every_shipped_module_imports(installed_profile):
    """Each module of the unpacked zip imports in a Python with QGIS and the venv's packages."""
    plugins = installed_profile / "profiles" / "default" / "python" / "plugins"
    code = textwrap.dedent(
        f"""
        import importlib, pathlib, sys
        root = pathlib.Path({str(plugins / "geohazard")!r})
        sys.path.insert(0, {str(plugins)!r})
        sys.path.append({QGIS_PYTHON_PLUGINS!r})  # QGIS's own Processing, on QGIS's path too
        names = sorted(
            ".".join(("geohazard",) + p.relative_to(root).with_suffix("").parts)
            .removesuffix(".__init__")
            for p in root.rglob("*.py")
        )
        for name in names:
            importlib.import_module(name)
        outside = [
            m for m, mod in sys.modules.items()
            if m.startswith("geohazard") and not str(getattr(mod, "__file__", "")).startswith(
                str(root)
            )
        ]
        print(len(names), "modules imported; from outside the zip:", outside)
        sys.exit(1 if outside else 0)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_PLUGINPATH", "PYTHONPATH")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "modules imported" in proc.stdout


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
        assert ds.count == 6  # east, north, magnitude, quality, east and north 1-sigma
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
