"""geohazard:offsettracking in a real QGIS: processing.run, qgis_process, styling, bad input.

Every bad-input test checks three things a user depends on: a clear QgsProcessingException,
inputs unchanged (byte for byte), and no output or partial file left in the output folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsRasterLayer
from rasterio.crs import CRS
from sar_pairs import utm_grid, write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:offsettracking"


class RecordingFeedback(QgsProcessingFeedback):
    """Feedback that keeps every message, and can cancel once progress passes a threshold."""

    def __init__(self, cancel_at: float | None = None) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.cancel_at = cancel_at
        self.progressChanged.connect(self._on_progress)

    def _on_progress(self, value: float) -> None:
        if self.cancel_at is not None and value >= self.cancel_at:
            self.cancel()

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.messages.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802
        self.messages.append(warning)
        super().pushWarning(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802,N803
        self.messages.append(error)
        super().reportError(error, fatalError)


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def pair(tmp_path):
    shape = (256, 256)
    dy, dx = displacement.uniform_field(shape, 0.5, -1.5)
    inputs = tmp_path / "in"
    inputs.mkdir()
    return write_pair(inputs, dy, dx)


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(ALG, params, feedback=feedback or RecordingFeedback())


def _expect_failure(
    params: dict, match: str, inputs: tuple[str, ...], out_dir: Path, feedback=None
) -> None:
    before = _digest(*inputs)
    with pytest.raises(QgsProcessingException, match=match):
        _run(params, feedback)
    assert _digest(*inputs) == before, "an input was modified"
    leftovers = [p.name for p in out_dir.iterdir()] if out_dir.exists() else []
    assert leftovers == [], f"left behind: {leftovers}"


def test_processing_run_end_to_end(plugin, pair, tmp_path) -> None:
    ref, sec = pair
    out = tmp_path / "out" / "offsets.tif"
    out.parent.mkdir()
    before = _digest(ref, sec)
    fb = RecordingFeedback()
    res = _run(
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "WINDOW_SIZES": "32,64",
            "SEARCH": 8,
            "OUTPUT": str(out),
        },
        fb,
    )
    assert res["OUTPUT"] == str(out)
    assert _digest(ref, sec) == before
    with rasterio.open(out) as src:
        assert src.count == 6
        assert src.descriptions[0] == "east offset (m)"
        assert src.descriptions[4] == "east 1-sigma uncertainty (m)"
        east, north = src.read(1), src.read(2)
        sig_e, sig_n = src.read(5), src.read(6)
    # NaN in the same places in every band, sigmas positive and small on this clean pair
    assert np.array_equal(np.isfinite(sig_e), np.isfinite(east))
    assert np.array_equal(np.isfinite(sig_n), np.isfinite(north))
    assert 0 < np.nanmedian(sig_e) < 2.0 and 0 < np.nanmedian(sig_n) < 2.0
    assert np.nanmedian(east) == pytest.approx(-15.0, abs=0.5)
    assert np.nanmedian(north) == pytest.approx(-5.0, abs=0.5)
    assert any("Device" in m for m in fb.messages)
    assert sorted(p.name for p in out.parent.iterdir()) == ["offsets.qml", "offsets.tif"]


def test_output_loads_with_magnitude_style(plugin, pair, tmp_path) -> None:
    import processing
    from qgis.core import QgsSingleBandPseudoColorRenderer

    ref, sec = pair
    out = str(tmp_path / "styled.tif")
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(
        ALG, {"REFERENCE": ref, "SECONDARY": sec, "WINDOW_SIZES": "32", "SEARCH": 8, "OUTPUT": out}
    )
    layers = [
        lyr for lyr in QgsProject.instance().mapLayers().values() if isinstance(lyr, QgsRasterLayer)
    ]
    assert len(layers) == 1
    renderer = layers[0].renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    assert renderer.band() == 3
    assert layers[0].name() == "styled"  # the file name the user gave
    QgsProject.instance().removeAllMapLayers()


def test_qgis_process_runs_end_to_end(pair, tmp_path) -> None:
    ref, sec = pair
    out = tmp_path / "qp.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            ALG,
            "--",
            f"REFERENCE={ref}",
            f"SECONDARY={sec}",
            "WINDOW_SIZES=32,64",
            "SEARCH=8",
            f"OUTPUT={out}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as src:
        assert src.count == 6
        assert np.nanmedian(src.read(1)) == pytest.approx(-15.0, abs=0.5)


def test_secondary_on_other_crs_is_resampled_with_message(plugin, tmp_path) -> None:
    shape = (256, 256)
    dy, dx = displacement.uniform_field(shape, 0.0, 0.0)
    ref, sec = write_pair(tmp_path, dy, dx)
    sec3857 = str(tmp_path / "sec_3857.tif")
    with rasterio.open(sec) as src:
        from rasterio.warp import calculate_default_transform, reproject

        t, w, h = calculate_default_transform(
            src.crs, "EPSG:3857", src.width, src.height, *src.bounds
        )
        arr = np.zeros((1, h, w), np.float32)
        reproject(
            src.read(),
            arr,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=t,
            dst_crs="EPSG:3857",
        )
        write_raster(sec3857, arr, Grid(CRS.from_epsg(3857), t, w, h), ["amplitude"])
    out = tmp_path / "o.tif"
    fb = RecordingFeedback()
    _run(
        {
            "REFERENCE": ref,
            "SECONDARY": sec3857,
            "WINDOW_SIZES": "64",
            "SEARCH": 6,
            "OUTPUT": str(out),
        },
        fb,
    )
    assert any("resampled onto the reference grid" in m for m in fb.messages)
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 32633


def test_secondary_on_other_grid_same_crs_is_resampled(plugin, tmp_path) -> None:
    shape = (256, 256)
    dy, dx = displacement.uniform_field(shape, 0.0, 0.0)
    ref, _ = write_pair(tmp_path, dy, dx)
    other = str(tmp_path / "shifted_grid.tif")
    write_raster(
        other,
        np.random.default_rng(0).random((1, 200, 200), dtype=np.float32),
        utm_grid((200, 200), pixel=12.0, x0=500100.0),
        ["a"],
    )
    fb = RecordingFeedback()
    _run(
        {
            "REFERENCE": ref,
            "SECONDARY": other,
            "WINDOW_SIZES": "32",
            "SEARCH": 4,
            "MIN_QUALITY": -1.0,
            "OUTPUT": str(tmp_path / "o.tif"),
        },
        fb,
    )
    assert any("different grid" in m and "covers" in m for m in fb.messages)


def test_no_overlap_is_an_error(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    far = str(tmp_path / "far.tif")
    write_raster(far, np.ones((1, 256, 256), np.float32), utm_grid((256, 256), x0=900000.0), ["a"])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect_failure(
        {"REFERENCE": ref, "SECONDARY": far, "OUTPUT": str(out_dir / "o.tif")},
        "does not overlap",
        (ref, far),
        out_dir,
    )


def test_missing_band_is_an_error(plugin, pair, tmp_path) -> None:
    ref, sec = pair
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect_failure(
        {"REFERENCE": ref, "SECONDARY": sec, "BAND": 3, "OUTPUT": str(out_dir / "o.tif")},
        "BAND 3 does not exist: 'reference' has 1 band",
        (ref, sec),
        out_dir,
    )


def test_all_nodata_input_is_an_error(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    empty = str(tmp_path / "empty.tif")
    write_raster(
        empty,
        np.full((1, 256, 256), -9999, np.float32),
        utm_grid((256, 256)),
        ["a"],
        nodata=-9999.0,
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect_failure(
        {"REFERENCE": ref, "SECONDARY": empty, "OUTPUT": str(out_dir / "o.tif")},
        "all nodata",
        (ref, empty),
        out_dir,
    )


def test_raster_smaller_than_window_is_an_error(plugin, tmp_path) -> None:
    small_dy, small_dx = displacement.uniform_field((40, 40), 0.0, 0.0)
    ref, sec = write_pair(tmp_path, small_dy, small_dx)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect_failure(
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "WINDOW_SIZES": "32,64",
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "smaller than the smallest window",
        (ref, sec),
        out_dir,
    )


def test_corrupt_file_is_an_error(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    bad = tmp_path / "corrupt.tif"
    bad.write_bytes(b"II*\x00" + os.urandom(2000))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect_failure(
        {"REFERENCE": ref, "SECONDARY": str(bad), "OUTPUT": str(out_dir / "o.tif")},
        "'corrupt.tif' is damaged",
        (ref, str(bad)),
        out_dir,
    )


def test_unwritable_output_is_an_error(plugin, pair, tmp_path) -> None:
    ref, sec = pair
    blocker = tmp_path / "out"
    blocker.mkdir()
    not_a_folder = blocker / "a_file"
    not_a_folder.write_text("x")
    before = _digest(ref, sec)
    with pytest.raises(
        QgsProcessingException, match="output folder|not a folder|Cannot write|could not"
    ):
        _run({"REFERENCE": ref, "SECONDARY": sec, "OUTPUT": str(not_a_folder / "o.tif")})
    assert _digest(ref, sec) == before
    assert [p.name for p in blocker.iterdir()] == ["a_file"]


def test_cancel_mid_run_leaves_nothing(plugin, tmp_path) -> None:
    shape = (640, 640)
    dy, dx = displacement.uniform_field(shape, 0.5, 0.5)
    inputs = tmp_path / "in"
    inputs.mkdir()
    ref, sec = write_pair(inputs, dy, dx)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    fb = RecordingFeedback(cancel_at=20.0)
    _expect_failure(
        {"REFERENCE": ref, "SECONDARY": sec, "STEP": 8, "OUTPUT": str(out_dir / "o.tif")},
        "Cancel",
        (ref, sec),
        out_dir,
        feedback=fb,
    )


def test_output_over_an_input_is_refused_for_every_algorithm(plugin, pair, tmp_path) -> None:
    """No algorithm may write its output over one of its inputs (or two outputs onto one file)."""
    import processing

    ref, sec = pair
    before = _digest(ref, sec)
    cases = [
        ("geohazard:offsettracking", {"REFERENCE": ref, "SECONDARY": sec, "OUTPUT": sec}),
        (
            "geohazard:offsettracking",
            {
                "REFERENCE": ref,
                "SECONDARY": sec,
                "OUTPUT": str(tmp_path / "a.tif"),
                "PER_SIZE_OUTPUT": str(tmp_path / "a.tif"),
            },
        ),
        ("geohazard:evaluatedem", {"INPUT": ref, "REFERENCE": sec, "OUTPUT": ref}),
        ("geohazard:topographicphase", {"INPUT": ref, "OUTPUT": ref}),
        ("geohazard:demsuperresolution", {"INPUT": ref, "OUTPUT": ref}),
    ]
    for alg, params in cases:
        with pytest.raises(
            QgsProcessingException, match="would overwrite the input|are the same file"
        ):
            processing.run(alg, params, feedback=RecordingFeedback())
    assert _digest(ref, sec) == before
    assert not (tmp_path / "a.tif").exists()


def test_unrelated_images_give_a_warning(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    other = tmp_path / "other"
    other.mkdir()
    dy, dx = displacement.uniform_field((256, 256), 0.0, 0.0)
    _, unrelated = write_pair(other, dy, dx, seed=99)  # another scene and other speckle
    fb = RecordingFeedback()
    _run(
        {
            "REFERENCE": ref,
            "SECONDARY": unrelated,
            "SEARCH": 8,
            "WINDOW_SIZES": "32,64",
            "OUTPUT": str(tmp_path / "o.tif"),
        },
        fb,
    )
    assert any("look unreliable" in m for m in fb.messages), fb.messages


def test_related_images_give_no_reliability_warning(plugin, pair, tmp_path) -> None:
    ref, sec = pair
    fb = RecordingFeedback()
    _run(
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "SEARCH": 8,
            "WINDOW_SIZES": "32,64",
            "OUTPUT": str(tmp_path / "o.tif"),
        },
        fb,
    )
    assert not any("look unreliable" in m for m in fb.messages), fb.messages
