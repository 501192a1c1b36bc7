"""Choice of the torch build from nvidia-smi's report, the platform and the user's override,
and the search for QGIS's own Python interpreter."""

from __future__ import annotations

import sys

import pytest
from geohazard.dependencies.python_finder import (
    InterpreterInfo,
    candidates,
    find_qgis_python,
)
from geohazard.dependencies.torch_build import choose_build, parse_nvidia_smi

NVIDIA_SMI_HEADER = """
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.86.15              Driver Version: 570.86.15      CUDA Version: 12.8     |
|-----------------------------------------+------------------------+----------------------+
"""


def test_parse_nvidia_smi_header():
    report = parse_nvidia_smi(NVIDIA_SMI_HEADER, "NVIDIA GeForce RTX 3060, 12288 MiB\n")
    assert report.cuda == (12, 8)
    assert report.driver == "570.86.15"
    assert report.gpus == ("NVIDIA GeForce RTX 3060, 12288 MiB",)


@pytest.mark.parametrize(
    "cuda, tag",
    [
        ((13, 1), "cu130"),
        ((12, 9), "cu128"),
        ((12, 8), "cu128"),
        ((12, 6), "cu126"),
        ((12, 4), "cpu"),
    ],
)
def test_cuda_build_matches_driver(cuda, tag):
    header = NVIDIA_SMI_HEADER.replace("12.8", f"{cuda[0]}.{cuda[1]}")
    build = choose_build(parse_nvidia_smi(header, "NVIDIA RTX A4000, 16376 MiB"), platform="linux")
    assert build.tag == tag
    if tag == "cpu":
        assert "update the NVIDIA driver" in build.reason
        assert build.index_url == "https://download.pytorch.org/whl/cpu"
    else:
        assert build.index_url == f"https://download.pytorch.org/whl/{tag}"
        assert "NVIDIA RTX A4000" in build.reason


def test_no_nvidia_driver_gives_cpu_build():
    build = choose_build(None, platform="win32")
    assert build.tag == "cpu" and "No NVIDIA driver" in build.reason


def test_macos_uses_standard_wheel_with_mps():
    build = choose_build(None, platform="darwin", machine="arm64")
    assert build.tag == "default" and build.index_url is None and "MPS" in build.reason


def test_override_wins_and_unknown_is_refused():
    gpu = parse_nvidia_smi(NVIDIA_SMI_HEADER)
    assert choose_build(gpu, platform="linux", override="cpu").tag == "cpu"
    assert choose_build(None, platform="linux", override="cu126").index_url.endswith("/cu126")
    assert choose_build(gpu, platform="linux", override="default").index_url is None
    with pytest.raises(ValueError, match="Unknown torch build"):
        choose_build(gpu, override="cu999")


def test_windows_candidates_come_from_exec_prefix():
    paths = candidates(
        "win32", r"C:\OSGeo4W\apps\Python312", r"C:\OSGeo4W\bin\qgis-bin.exe", (3, 12)
    )
    assert paths[0].endswith("python.exe") and paths[0].startswith(r"C:\OSGeo4W\apps\Python312")
    assert not any(p.endswith("qgis-bin.exe") for p in paths)


def test_macos_candidates_include_bundle_python():
    exe = "/Applications/QGIS.app/Contents/MacOS/QGIS"
    paths = candidates("darwin", "/Applications/QGIS.app/Contents/Frameworks", exe, (3, 11))
    assert "/Applications/QGIS.app/Contents/MacOS/bin/python3" in paths
    assert exe not in paths


def test_finder_rejects_another_python_on_path(tmp_path):
    # As seen on Debian: sys.executable inside QGIS was a pyenv shim for another Python.
    shim, real = tmp_path / "shim-python3", tmp_path / "python3.11"
    for f in (shim, real):
        f.write_text("")
    answers = {
        str(shim): InterpreterInfo((3, 11), "/root/.pyenv/versions/3.11.7"),
        str(real): InterpreterInfo((3, 11), "/usr"),
    }
    found = find_qgis_python(
        [str(shim), str(real)], InterpreterInfo((3, 11), "/usr"), ask=answers.__getitem__
    )
    assert found.executable == str(real)
    assert "belongs to /root/.pyenv/versions/3.11.7" in found.rejected[0][1]
    none = find_qgis_python([str(shim)], InterpreterInfo((3, 11), "/usr"), ask=answers.__getitem__)
    assert none.executable is None and "Could not find the Python interpreter" in none.explain()


def test_finder_finds_the_running_interpreter():
    found = find_qgis_python()
    assert found.executable is not None, found.explain()
    assert found.executable.startswith(sys.exec_prefix)
