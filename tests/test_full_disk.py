"""A full disk never loses data or passes silently, for every algorithm.

A small tmpfs stands in for a disk (mounting one needs root; the tests are skipped with that
reason otherwise). Two cases per algorithm, through processing.run in the real QGIS:

- the outputs cannot fit: refused before any compute, with a sentence giving the sizes;
- the disk fills up while the algorithm runs (a filler file is written on the first progress
  report): the write is found to have failed before the rename, the run ends in a clear error,
  the destination keeps the file it held before, and nothing partial is left.

Plus the issue's own reproduction through the real ``qgis_process``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dem_rasters import utm_dem
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException
from run_checks import ROOT, RecordingFeedback, digest, fill_disk, run, snapshot
from sar_pairs import write_pair

PREVIOUS = b"the previous output, which must survive a failed run\n"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    ref, sec = write_pair(folder, dy, dx)
    return {
        "reference": ref,
        "secondary": sec,
        "dem": utm_dem(folder / "dem.tif", shape=(40, 48)),
        "dem2": utm_dem(folder / "dem2.tif", shape=(40, 48), seed=9),
    }


def _params(alg: str, inputs: dict[str, str], folder: Path) -> tuple[dict, list[Path]]:
    """Parameters writing every output of ``alg`` into ``folder``, and those outputs."""
    out = folder / "out.tif"
    if alg == "geohazard:offsettracking":
        params = {"REFERENCE": inputs["reference"], "SECONDARY": inputs["secondary"]}
        params.update(STEP=16, SEARCH=4, WINDOW_SIZES="32")
    elif alg == "geohazard:demsuperresolution":
        params = {"INPUT": inputs["dem"], "SCALE": 2}
    elif alg == "geohazard:evaluatedem":
        report = folder / "report.html"
        params = {"INPUT": inputs["dem2"], "REFERENCE": inputs["dem"], "REPORT": str(report)}
        return {**params, "OUTPUT": str(out)}, [out, report]
    elif alg == "geohazard:sardistortion":
        params = {"DEM": inputs["dem"]}
    else:
        params = {"INPUT": inputs["dem"]}
    return {**params, "OUTPUT": str(out)}, [out]


ALGS = [
    "geohazard:offsettracking",
    "geohazard:demsuperresolution",
    "geohazard:evaluatedem",
    "geohazard:topographicphase",
    "geohazard:sardistortion",  # added after the issue; the same shared writer
]


@pytest.mark.parametrize("alg", ALGS)
def test_outputs_that_cannot_fit_are_refused_before_compute(
    plugin, small_disk, inputs, alg
) -> None:
    disk = small_disk("64k")
    params, outputs = _params(alg, inputs, disk)
    for out in outputs:
        out.write_bytes(PREVIOUS)
    before_inputs = snapshot(Path(inputs["dem"]).parent)
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match="Not enough free disk space: .* need up to"):
        run(alg, params, feedback)
    assert feedback.max_progress == 0, "it computed before refusing"
    assert all(o.read_bytes() == PREVIOUS for o in outputs)
    assert sorted(p.name for p in disk.iterdir()) == sorted(o.name for o in outputs)
    assert snapshot(Path(inputs["dem"]).parent) == before_inputs


@pytest.mark.parametrize("alg", ALGS)
def test_disk_filling_up_during_the_run_is_an_error_and_keeps_the_previous_file(
    plugin, small_disk, inputs, alg
) -> None:
    disk = small_disk("4m")
    params, outputs = _params(alg, inputs, disk)
    for out in outputs:
        out.write_bytes(PREVIOUS)
    feedback = RecordingFeedback(on_progress=lambda: fill_disk(disk))
    with pytest.raises(QgsProcessingException, match=r"Writing '.*' failed \(the disk holding"):
        run(alg, params, feedback)
    assert feedback.hook is None, "the disk was never filled: the test did not test anything"
    assert all(o.read_bytes() == PREVIOUS for o in outputs), "the previous output was damaged"
    leftovers = sorted(p.name for p in disk.iterdir())
    assert leftovers == sorted([o.name for o in outputs] + ["filler.bin"]), leftovers


def test_qgis_process_on_a_full_disk_fails_clearly(small_disk, inputs) -> None:
    """The issue's reproduction: 64 KiB tmpfs, demsuperresolution through qgis_process."""
    disk = small_disk("64k")
    before = digest(inputs["dem"])
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            "geohazard:demsuperresolution",
            "--",
            f"INPUT={inputs['dem']}",
            f"OUTPUT={disk / 'sr.tif'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0, proc.stdout
    assert "Not enough free disk space" in proc.stdout + proc.stderr
    assert list(disk.iterdir()) == []
    assert digest(inputs["dem"]) == before
