"""Huge inputs never run blind, through the real QGIS.

Huge rasters are VRTs without pixels of their own (a small GeoTIFF stretched over 10^6 x 10^6
or 200000 x 200000 pixels), so the tests need no disk space; they run processing.run in a fresh
QGIS process, because QGIS's own statistics of a huge layer take hundreds of MB. Every
algorithm says the size of its outputs and the time it expects (from a rate measured just now)
before it computes; outputs that cannot fit on the disk and runs that cannot fit in memory are
refused before any compute; evaluatedem streams its inputs (its peak memory does not grow with
the rasters); out-of-memory advice names the algorithm's own parameters.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from dem_rasters import utm_dem
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.simulate import displacement
from qgis.core import QgsApplication, QgsProcessingException
from rasterio.crs import CRS
from run_checks import ALGORITHMS, ROOT, RecordingFeedback, huge_vrt, run, run_in_fresh_qgis
from sar_pairs import write_pair

HUGE = 1_000_000


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("sources")
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    ref, sec = write_pair(folder, dy, dx)
    return {
        "reference": ref,
        "secondary": sec,
        "dem": utm_dem(folder / "dem.tif", shape=(40, 48)),
        "dem2": utm_dem(folder / "dem2.tif", shape=(40, 48), seed=9),
    }


def _huge_params(alg: str, src: dict[str, str], folder: Path) -> dict:
    out = str(folder / "out.tif")
    if alg == "geohazard:offsettracking":
        return {
            "REFERENCE": huge_vrt(folder / "ref.vrt", src["reference"], HUGE),
            "SECONDARY": huge_vrt(folder / "sec.vrt", src["secondary"], HUGE),
            "STEP": 16,
            "OUTPUT": out,
        }
    dem = huge_vrt(folder / "dem.vrt", src["dem"], HUGE)
    if alg == "geohazard:evaluatedem":
        dem2 = huge_vrt(folder / "dem2.vrt", src["dem2"], HUGE)
        return {"INPUT": dem2, "REFERENCE": dem, "OUTPUT": out, "REPORT": str(folder / "r.html")}
    if alg == "geohazard:demsuperresolution":
        return {"INPUT": dem, "SCALE": 2, "OUTPUT": out}
    return {"INPUT": dem, "OUTPUT": out}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_huge_inputs_are_sized_and_refused_before_compute(sources, tmp_path, alg) -> None:
    t0 = time.monotonic()
    expected = (  # 62497 x 62497 offsets fit on a large disk but in no memory
        "needs about .* of memory .* use a larger STEP|Not enough free disk space"
        if alg == "geohazard:offsettracking"
        else "Not enough free disk space: .* need up to .* TiB"
    )
    feedback, error = run_in_fresh_qgis(alg, _huge_params(alg, sources, tmp_path))
    assert error is not None and re.search(expected, error), error
    assert time.monotonic() - t0 < 120, "refusing took too long: something read the pixels"
    assert feedback.max_progress == 0, "it computed before refusing"
    assert re.search(
        r"Output 'out.tif' \(\d+ x \d+ px, \d bands? float32\): up to", feedback.text()
    )
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".vrt")] == []


def test_huge_tracking_run_says_size_and_time_before_it_computes(sources, tmp_path) -> None:
    """200000 x 200000 px whose output fits: size, memory and time are logged before the
    compute starts, and a cancel right then ends the run at once with nothing written."""
    params = {
        "REFERENCE": huge_vrt(tmp_path / "ref.vrt", sources["reference"], 200_000),
        "SECONDARY": huge_vrt(tmp_path / "sec.vrt", sources["secondary"], 200_000),
        "STEP": 64,
        "OUTPUT": str(tmp_path / "out.tif"),
    }
    t0 = time.monotonic()
    feedback, error = run_in_fresh_qgis(
        "geohazard:offsettracking", params, cancel_on="Estimated compute time"
    )
    assert error is not None and "Cancel" in error, error
    assert time.monotonic() - t0 < 120
    size = feedback.index("Output 'out.tif' (3125 x 3125 px, 6 bands float32): up to")
    memory = feedback.index("Working memory: about")
    eta = feedback.index("Estimated compute time: about")
    assert -1 < size < memory < eta < feedback.first_progress(), feedback.text()
    assert re.search(
        r"about [0-9.]+ (min|h|days) \(the whole tracker\'s rate measured just now", feedback.text()
    )
    assert not (tmp_path / "out.tif").exists()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_algorithm_says_size_and_time_before_computing(
    plugin, sources, tmp_path, alg
) -> None:
    out = str(tmp_path / "o.tif")
    params = {
        "geohazard:offsettracking": {
            "REFERENCE": sources["reference"],
            "SECONDARY": sources["secondary"],
            "SEARCH": 4,
        },
        "geohazard:demsuperresolution": {"INPUT": sources["dem"], "SCALE": 2},
        "geohazard:evaluatedem": {"INPUT": sources["dem2"], "REFERENCE": sources["dem"]},
        "geohazard:topographicphase": {"INPUT": sources["dem"]},
    }[alg]
    feedback = RecordingFeedback()
    run(alg, {**params, "OUTPUT": out}, feedback)
    first = feedback.first_progress()
    assert -1 < feedback.index("Output 'o.tif' (") < first, feedback.text()
    eta = feedback.index("Estimated compute time:")
    assert -1 < eta < first, feedback.text()
    assert "measured just now" in feedback.messages[eta]


def test_out_of_memory_advice_fits_each_algorithm(plugin) -> None:
    registry = QgsApplication.processingRegistry()
    advice = {
        "geohazard:offsettracking": "use a larger STEP",
        "geohazard:demsuperresolution": "use a smaller TILE_SIZE",
        "geohazard:evaluatedem": "clip both DEMs",
        "geohazard:topographicphase": "clip the DEM",
    }

    def fail() -> None:
        raise MemoryError()

    for alg_id, words in advice.items():
        alg = registry.createAlgorithmById(alg_id)
        with pytest.raises(QgsProcessingException) as err:
            alg.run_engine(fail)
        text = str(err.value)
        assert text.startswith("Out of memory; ") and words in text, text
        if alg_id != "geohazard:offsettracking":
            assert "window" not in text and "STEP" not in text, text


def _max_rss_mb(*args: str) -> float:
    """Peak memory of one qgis_process run (measured in a fresh wrapper process)."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "assert p.returncode == 0, p.stdout + p.stderr\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scripts" / "qgis_process"), "run", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def test_evaluate_dem_memory_does_not_grow_with_the_rasters(sources, tmp_path) -> None:
    """2500 x 2500 px DEMs: reading them whole took about 700 MiB more than a tiny run; streamed,
    the extra is bounded by the strip size (about 0.2 GiB)."""
    n = 2500
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    z = 1000 + 200 * np.sin(x / 50) * np.cos(y / 70)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 500000, 0, -10, 4600000), n, n)
    ref = write_raster(str(tmp_path / "ref.tif"), z[None], grid, ["z"])
    noise = np.random.default_rng(0).normal(0, 1, z.shape).astype(np.float32)
    dem = write_raster(str(tmp_path / "dem.tif"), (z + noise)[None], grid, ["z"])
    tiny = _max_rss_mb(
        "geohazard:evaluatedem",
        "--",
        f"INPUT={sources['dem2']}",
        f"REFERENCE={sources['dem']}",
        f"OUTPUT={tmp_path / 'tiny.tif'}",
    )
    big = _max_rss_mb(
        "geohazard:evaluatedem",
        "--",
        f"INPUT={dem}",
        f"REFERENCE={ref}",
        f"OUTPUT={tmp_path / 'big.tif'}",
    )
    assert big - tiny < 450, f"peak memory grew by {big - tiny:.0f} MiB"
    assert os.path.getsize(tmp_path / "big.tif") > 0
