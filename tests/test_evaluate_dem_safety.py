"""geohazard:evaluatedem checks its outputs first, honours cancel, writes all or none, and says
why a metric is undefined, through processing.run in the real QGIS."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from dem_rasters import read, utm_dem
from geohazard.engine.io.raster_io import inspect_raster, write_raster
from qgis.core import QgsProcessingException
from run_checks import RecordingFeedback, fill_disk, run, snapshot

EVAL = "geohazard:evaluatedem"
PREVIOUS = b"previous output\n"


@pytest.fixture
def dems(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    ref = utm_dem(folder / "ref.tif", shape=(64, 64))
    z, _, _ = read(ref)
    dem = write_raster(
        str(folder / "dem.tif"), (z + 2.0)[None], inspect_raster(ref).grid, ["elevation"]
    )
    return dem, ref


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_report_path_is_checked_before_any_compute(plugin, dems, out_dir, tmp_path) -> None:
    dem, ref = dems
    diff = out_dir / "diff.tif"
    for report, match in (
        (tmp_path / "missing" / "r.html", "report folder .* does not exist"),
        (out_dir, "report .* must be a .html"),
        (out_dir / "r.txt", "REPORT: 'r.txt' is not a file type this output can be written as"),
    ):
        feedback = RecordingFeedback()
        with pytest.raises(QgsProcessingException, match=match):
            run(
                EVAL,
                {"INPUT": dem, "REFERENCE": ref, "OUTPUT": str(diff), "REPORT": str(report)},
                feedback,
            )
        assert feedback.max_progress == 0, "it computed before checking the report path"
        assert list(out_dir.iterdir()) == [], "an output was written although the run failed"


@pytest.mark.parametrize("cancel_at", [30.0, 100.0])
def test_cancel_is_honoured_and_nothing_is_written(plugin, dems, out_dir, cancel_at) -> None:
    dem, ref = dems
    diff, report = out_dir / "diff.tif", out_dir / "r.html"
    diff.write_bytes(PREVIOUS)
    report.write_bytes(PREVIOUS)
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run(
            EVAL,
            {"INPUT": dem, "REFERENCE": ref, "OUTPUT": str(diff), "REPORT": str(report)},
            RecordingFeedback(cancel_at=cancel_at),
        )
    assert diff.read_bytes() == PREVIOUS and report.read_bytes() == PREVIOUS
    assert sorted(p.name for p in out_dir.iterdir()) == ["diff.tif", "r.html"]


def test_both_outputs_or_none_when_the_report_cannot_be_written(
    plugin, dems, out_dir, tmp_path
) -> None:
    """The report's folder disappears during the run: the difference raster is not written."""
    dem, ref = dems
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    diff = out_dir / "diff.tif"
    diff.write_bytes(PREVIOUS)
    feedback = RecordingFeedback(on_progress=lambda: shutil.rmtree(report_dir))
    with pytest.raises(QgsProcessingException, match="Writing 'r.html' failed"):
        run(
            EVAL,
            {
                "INPUT": dem,
                "REFERENCE": ref,
                "OUTPUT": str(diff),
                "REPORT": str(report_dir / "r.html"),
            },
            feedback,
        )
    assert diff.read_bytes() == PREVIOUS
    assert [p.name for p in out_dir.iterdir()] == ["diff.tif"]


def test_both_outputs_or_none_on_a_full_disk(plugin, small_disk, dems, out_dir) -> None:
    dem, ref = dems
    disk = small_disk("2m")
    diff = out_dir / "diff.tif"
    feedback = RecordingFeedback(on_progress=lambda: fill_disk(disk))
    with pytest.raises(QgsProcessingException, match=r"Writing 'r.html' failed \(the disk"):
        run(
            EVAL,
            {"INPUT": dem, "REFERENCE": ref, "OUTPUT": str(diff), "REPORT": str(disk / "r.html")},
            feedback,
        )
    assert list(out_dir.iterdir()) == []
    assert [p.name for p in disk.iterdir()] == ["filler.bin"]


def test_flat_reference_makes_psnr_undefined_and_the_report_says_so(
    plugin, tmp_path, out_dir
) -> None:
    grid = inspect_raster(utm_dem(tmp_path / "g.tif", shape=(32, 32))).grid
    flat = write_raster(str(tmp_path / "flat.tif"), np.full((1, 32, 32), 500.0), grid, ["z"])
    noise = 500.0 + np.random.default_rng(1).normal(0, 0.5, (1, 32, 32))
    dem = write_raster(str(tmp_path / "noisy.tif"), noise, grid, ["z"])
    feedback = RecordingFeedback()
    report = out_dir / "r.html"
    res = run(
        EVAL,
        {"INPUT": dem, "REFERENCE": flat, "OUTPUT": str(out_dir / "d.tif"), "REPORT": str(report)},
        feedback,
    )
    assert math.isnan(res["PSNR"])
    assert res["RMSE"] == pytest.approx(0.5, rel=0.1)
    text = report.read_text()
    assert "PSNR is undefined: the reference is flat" in text and "-53" not in text
    assert "PSNR undefined" in feedback.text()
    assert any("PSNR is undefined" in m for m in feedback.messages)


def test_rasters_too_small_for_the_metrics_are_refused(plugin, tmp_path, out_dir) -> None:
    """A 2 x 2 px DEM leaves SSIM and the slope RMSE undefined: refused before anything runs,
    with the size every metric needs, and nothing written."""
    grid = inspect_raster(utm_dem(tmp_path / "g.tif", shape=(32, 32))).grid
    tiny_grid = type(grid)(grid.crs, grid.transform, 2, 2)
    ref = write_raster(
        str(tmp_path / "r.tif"), np.array([[[1.0, 2.0], [3.0, 5.0]]]), tiny_grid, ["z"]
    )
    dem = write_raster(
        str(tmp_path / "d.tif"), np.array([[[1.5, 2.0], [3.0, 4.0]]]), tiny_grid, ["z"]
    )
    report = out_dir / "r.html"
    with pytest.raises(QgsProcessingException, match="'r.tif' is 2 x 2 px; a DEM here needs at"):
        run(
            EVAL,
            {
                "INPUT": dem,
                "REFERENCE": ref,
                "OUTPUT": str(out_dir / "o.tif"),
                "REPORT": str(report),
            },
        )
    assert list(out_dir.iterdir()) == []


def test_inputs_untouched_by_evaluation(plugin, dems, out_dir) -> None:
    dem, ref = dems
    before = snapshot(Path(dem).parent)
    run(EVAL, {"INPUT": dem, "REFERENCE": ref, "OUTPUT": str(out_dir / "d.tif")})
    assert snapshot(Path(dem).parent) == before
