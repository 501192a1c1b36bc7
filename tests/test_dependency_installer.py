"""The installer against the local package index: real pip runs into a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from geohazard.dependencies.install_run import run_plan
from geohazard.dependencies.managed_folder import managed_folder
from geohazard.dependencies.pip_command import (
    PipOutputParser,
    build_plan,
    constraints_text,
    pip_install_command,
)
from geohazard.dependencies.python_finder import find_qgis_python
from geohazard.dependencies.requirements import Requirement

LOCAL_INDEX = "/opt/pypi/simple"
# A tiny pure-Python wheel on the local index that the test environment does not have.
PACKAGE, VERSION = "mergedeep", "1.3.4"

needs_local_index = pytest.mark.skipif(
    not os.path.isdir(os.path.join(LOCAL_INDEX, PACKAGE)),
    reason=f"the local package index {LOCAL_INDEX} with {PACKAGE} is not on this machine",
)


def _python() -> str:
    found = find_qgis_python()
    assert found.executable, found.explain()
    return found.executable


@needs_local_index
def test_install_into_managed_folder_reports_progress_and_imports(tmp_path):
    target = managed_folder(str(tmp_path / "profile"))
    req = Requirement(PACKAGE, f"{PACKAGE}=={VERSION}", "test package")
    steps = build_plan(
        _python(),
        target,
        [req],
        torch=None,
        extra_args=["--index-url", f"file://{LOCAL_INDEX}", "--no-cache-dir"],
    )
    fractions: list[float] = []
    lines: list[str] = []
    result = run_plan(steps, progress=fractions.append, line=lines.append)

    assert result.ok, result.message + "\n" + "\n".join(lines)
    assert target.endswith(
        os.path.join("python", "dependencies", f"py{sys.version_info[0]}.{sys.version_info[1]}")
    )
    assert os.path.isdir(os.path.join(target, PACKAGE))
    # Progress was reported while pip ran, never went backwards, and ended at 100%.
    assert len(fractions) >= 3
    assert fractions == sorted(fractions)
    assert any(0.0 < f < 1.0 for f in fractions) and fractions[-1] == 1.0
    assert any(f"Successfully installed {PACKAGE}-{VERSION}" in line for line in lines)
    # The import check ran in a fresh interpreter with the folder appended as the plugin does.
    assert result.imported[PACKAGE]["file"].startswith(target)
    assert f"{PACKAGE} {VERSION}" in result.message
    # And a separate interpreter imports it from there too.
    code = f"import site; site.addsitedir({target!r}); import {PACKAGE}; print({PACKAGE}.__file__)"
    out = subprocess.run([_python(), "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith(target)


@needs_local_index
def test_failing_install_reports_pips_error(tmp_path):
    target = str(tmp_path / "deps")
    req = Requirement(PACKAGE, f"{PACKAGE}==999.0.0", "a version that does not exist")
    steps = build_plan(
        _python(),
        target,
        [req],
        torch=None,
        extra_args=["--index-url", f"file://{LOCAL_INDEX}", "--no-cache-dir"],
    )
    result = run_plan(steps)
    assert not result.ok
    assert f"Installing {PACKAGE} failed" in result.message
    assert f"No matching distribution found for {PACKAGE}==999.0.0" in result.message
    assert not os.path.isdir(os.path.join(target, PACKAGE))


def test_missing_pip_is_reported(tmp_path):
    # An interpreter without pip: the check step fails with advice instead of a traceback.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'No module named pip' >&2\nexit 1\n")
    fake.chmod(0o755)
    result = run_plan(build_plan(str(fake), str(tmp_path / "t"), [Requirement("x", "x", "")], None))
    assert not result.ok
    assert "pip is not available for QGIS's Python" in result.message


def test_install_command_targets_managed_folder_only():
    cmd = pip_install_command(
        "/qgis/python",
        "/p/deps/py3.11",
        ["torch==2.13.0"],
        "https://download.pytorch.org/whl/cu128",
        "/tmp/c.txt",
    )
    assert cmd[:4] == ["/qgis/python", "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == "/p/deps/py3.11"
    assert cmd[cmd.index("--index-url") + 1] == "https://download.pytorch.org/whl/cu128"
    assert cmd[cmd.index("--constraint") + 1] == "/tmp/c.txt"
    assert "--user" not in cmd and cmd[-1] == "torch==2.13.0"


def test_constraints_pin_qgis_numpy():
    import numpy

    assert f"numpy=={numpy.__version__}" in constraints_text()


def test_parser_progress_and_errors():
    parser = PipOutputParser()
    seen = [
        parser.feed(line)
        for line in [
            "Looking in indexes: https://download.pytorch.org/whl/cu128",
            "Collecting torch==2.13.0",
            "  Downloading torch-2.13.0+cu128-cp311-cp311-manylinux_2_28_x86_64.whl (900 MB)",
            "Progress 450 of 900",
            "Collecting filelock",
            "Installing collected packages: filelock, torch",
            "Successfully installed filelock-3.16.1 torch-2.13.0+cu128",
        ]
    ]
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[1] < seen[3] < 0.75
    assert parser.installed == ["filelock-3.16.1", "torch-2.13.0+cu128"]
    bad = PipOutputParser()
    for line in [
        "ERROR: Could not find a version that satisfies the requirement foo==9 "
        "(from versions: none)",
        "ERROR: No matching distribution found for foo==9",
    ]:
        bad.feed(line)
    assert "No matching distribution found for foo==9" in bad.error_text()


def test_import_check_notes_a_copy_that_shadows_the_installed_one(tmp_path):
    # six is in QGIS's (here: the venv's) own packages, which come first on sys.path.
    from geohazard.dependencies.pip_command import InstallStep, verify_command

    step = InstallStep(
        "Checking the imports",
        verify_command(_python(), str(tmp_path), ["six"]),
        kind="verify",
        target=str(tmp_path),
    )
    result = run_plan([step])
    assert result.ok
    assert "Note: QGIS's Python finds its own copy first" in result.message
    assert "six from " in result.message


def test_raw_progress_bar_only_with_a_pip_that_has_it():
    from geohazard.dependencies.install_run import PlanRun
    from geohazard.dependencies.pip_command import pip_version

    assert pip_version("pip 24.2 from /usr/lib/python3/dist-packages/pip (python 3.12)") == (24, 2)
    for version, expected in (("24.2", True), ("23.0.1", False)):
        steps = build_plan("/qgis/python", "/t", [Requirement("x", "x==1", "")], None)
        run = PlanRun(steps)
        run.start_step()
        run.feed(f"pip {version} from /somewhere (python 3.11)")
        assert run.finish_step(0)
        assert ("--progress-bar=raw" in run.steps[1].command) is expected
        assert run.steps[1].command.index("install") == 3


def test_parser_counts_local_wheels():
    parser = PipOutputParser()
    parser.feed("Processing /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
    parser.feed("Processing /opt/pypi/files/sympy-1.14.0-py3-none-any.whl")
    assert len(parser.collected) == 2 and 0 < parser.fraction < 0.7
    assert parser.status == "Resolving sympy-1.14.0-py3-none-any.whl"


def test_child_environment_and_failure_hints():
    from geohazard.dependencies.install_run import child_environment, failure_hint

    env = child_environment({"PATH": "/bin"}, proxy="http://proxy.example:3128")
    assert env["HTTPS_PROXY"] == "http://proxy.example:3128" and env["PYTHONUNBUFFERED"] == "1"
    kept = child_environment({"https_proxy": "http://mine:1"}, proxy="http://proxy.example:3128")
    assert "HTTPS_PROXY" not in kept  # the user's own proxy variable wins
    assert "Restart QGIS" in failure_hint("OSError: [WinError 5] Access is denied: 'c10.dll'")
    assert "proxy" in failure_hint(
        "Retrying (Retry(total=4)) after connection broken ... timed out"
    )
    assert failure_hint("ERROR: No matching distribution found for x") == ""


def test_qgis_proxy_setting(qgis_app):
    from geohazard.settings import qgis_proxy_url
    from qgis.core import QgsSettings

    s = QgsSettings()
    keys = (
        "proxy/proxyEnabled",
        "proxy/proxyHost",
        "proxy/proxyPort",
        "proxy/proxyUser",
        "proxy/proxyPassword",
    )
    saved = {k: s.value(k) for k in keys}
    try:
        for k, v in zip(keys, ("true", "proxy.example", "3128", "ann", "p@ss")):
            s.setValue(k, v)
        assert qgis_proxy_url() == "http://ann:p%40ss@proxy.example:3128"
        s.setValue("proxy/proxyEnabled", "false")
        assert qgis_proxy_url() is None
    finally:
        for k, v in saved.items():
            if v is None:
                s.remove(k)
            else:
                s.setValue(k, v)


def test_import_failure_is_reported_with_the_error(tmp_path):
    from geohazard.dependencies.pip_command import InstallStep, verify_command

    (tmp_path / "broken_pkg_for_test.py").write_text("import not_a_module_anywhere\n")
    cmd = verify_command(_python(), str(tmp_path), ["broken_pkg_for_test"])
    result = run_plan(
        [InstallStep("Checking the imports", cmd, kind="verify", target=str(tmp_path))]
    )
    assert not result.ok
    assert (
        "broken_pkg_for_test: ModuleNotFoundError: No module named 'not_a_module_anywhere'"
        in result.message
    )
