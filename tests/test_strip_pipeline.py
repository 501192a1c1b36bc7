"""The streamed, overlapped strip pipeline of the classical tracker gives the offsets of a direct
per-window correlation of the whole images, whatever the strips and job sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from geohazard.engine.core.progress import Reporter
from geohazard.engine.io.raster_io import inspect_raster, open_band, write_raster
from geohazard.engine.offsets.ncc import local_energy, ncc_offsets
from geohazard.engine.offsets.strip_jobs import MAX_NODATA_FRACTION, job_blocks
from geohazard.engine.offsets.strips import correlate
from geohazard.engine.offsets.window_grid import CentreGrid
from geohazard.engine.simulate import displacement
from sar_pairs import utm_grid, write_pair

SIZES, STEP, SEARCH = (16, 32), 8, 5


def test_local_energy_blocks_match_a_direct_sum() -> None:
    """Block by block (odd block sizes, so the edges are exercised) equals the definition."""
    rng = np.random.default_rng(0)
    img = (100.0 + 20 * rng.standard_normal((41, 57))).astype(np.float32)
    w = 8
    want = np.empty((41 - w + 1, 57 - w + 1))
    for r in range(want.shape[0]):
        for c in range(want.shape[1]):
            win = img[r : r + w, c : c + w].astype(np.float64)
            want[r, c] = np.sqrt(((win - win.mean()) ** 2).sum())
    got = local_energy(torch.from_numpy(img), w, block=(5, 7)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    whole = local_energy(torch.from_numpy(img), w, block=(1000, 1000)).numpy()
    np.testing.assert_allclose(got, whole, rtol=1e-6)


def test_jobs_never_exceed_the_chunk() -> None:
    for ni, nj, chunk in ((7, 996, 128), (30, 20, 128), (3, 129, 128), (5, 10, 1)):
        blocks = job_blocks(ni, nj, chunk)
        assert max((b - a) * (d - c) for a, b, c, d in blocks) <= chunk
        cover = np.zeros((ni, nj), int)
        for a, b, c, d in blocks:
            cover[a:b, c:d] += 1
        assert (cover == 1).all()


@pytest.fixture
def pair_with_holes(tmp_path):
    shape = (230, 200)
    dy, dx = displacement.smooth_random_field(shape, 2.0, 120.0, seed=4)
    a, b = write_pair(tmp_path, dy, dx, seed=7)
    grid = utm_grid(shape)
    arrays = []
    for path, (r, c) in ((a, (40, 30)), (b, (150, 120))):
        info = inspect_raster(path)
        with open_band(info, 1) as reader:
            img = reader.read()
        img[r : r + 12, c : c + 15] = np.nan  # a nodata hole in each image
        write_raster(path, img[None], grid, ["amplitude"])
        arrays.append(img)
    return a, b, arrays[0], arrays[1]


def _direct(ref: np.ndarray, sec: np.ndarray, grid: CentreGrid, size: int):
    """Each window correlated on its own from the whole images (energies computed per window
    inside ncc_surface, not from the strips' tables); windows touching nodata are skipped."""
    h, s = size // 2, grid.search
    (ra, rb) = grid.valid_range(grid.rows, grid.first_row, size, ref.shape[0])
    (ca, cb) = grid.valid_range(grid.cols, grid.first_col, size, ref.shape[1])
    keep, temps, areas = [], [], []
    for i in range(ra, rb):
        for j in range(ca, cb):
            r, c = grid.first_row + i * STEP, grid.first_col + j * STEP
            t = ref[r - h : r + h, c - h : c + h]
            a = sec[r - h - s : r + h + s, c - h - s : c + h + s]
            if np.isfinite(t).all() and np.isfinite(a).all():
                keep.append((i, j))
                temps.append(t)
                areas.append(a)
    res = ncc_offsets(torch.from_numpy(np.stack(temps)), torch.from_numpy(np.stack(areas)))
    return keep, res


def _track_pair(a, b, strip_pixels: int, chunk: int, passes: int):  # type: ignore[no-untyped-def]
    """The pixel offsets of the pair of GeoTIFFs (a, b) through the strip pipeline."""
    ia, ib = inspect_raster(a), inspect_raster(b)
    with open_band(ia, 1) as ra, open_band(ib, 1, ia.grid) as rb:
        return correlate(
            ra,
            rb,
            ia.grid,
            SIZES,
            STEP,
            SEARCH,
            torch.device("cpu"),
            chunk,
            Reporter(),
            strip_pixels=strip_pixels,
            passes=passes,
        )


def test_pipeline_equals_direct_correlation(pair_with_holes) -> None:
    a, b, ref, sec = pair_with_holes
    # one strip and big jobs; many strips (each read while the last is correlated) and jobs
    # of 7 windows, which splits each row of centres into column blocks; the first correlation
    # only (deform.py refines it after)
    results = [
        _track_pair(a, b, strip_pixels, chunk, passes=0)
        for strip_pixels, chunk in ((10_000_000, 512), (200 * 70, 7))
    ]
    grid = results[0].grid
    for size in SIZES:
        keep, res = _direct(ref, sec, grid, size)
        assert len(keep) > 200
        idx = tuple(np.array(keep).T)
        valid = res.valid.numpy()
        for pixel in results:
            # every valid direct window is valid in the pipeline, with the same numbers
            for name, want in (("dy", res.dy), ("dx", res.dx), ("quality", res.peak)):
                got = getattr(pixel, name)[size][idx]
                np.testing.assert_allclose(got[valid], want.numpy()[valid], atol=2e-4)
            assert np.isnan(pixel.dy[size][idx][~valid]).all()
            # windows with more than the allowed nodata are dropped
            h = size // 2
            for i in range(grid.rows):
                r = grid.first_row + i * STEP
                for j in range(grid.cols):
                    c = grid.first_col + j * STEP
                    t = ref[max(0, r - h) : r + h, max(0, c - h) : c + h]
                    if t.size and np.isnan(t).mean() > MAX_NODATA_FRACTION:
                        assert np.isnan(pixel.dy[size][i, j])
        # strips and jobs change only float rounding where no nodata was filled (the fill value
        # is the mean of each strip's valid pixels, so windows with a little nodata may move)
        one, many = results
        np.testing.assert_allclose(one.dy[size][idx], many.dy[size][idx], atol=2e-5)
        np.testing.assert_allclose(one.sigma_x[size][idx], many.sigma_x[size][idx], atol=2e-4)
    # one strip: every pixel counted once, nodata excluded (overlapping strips count more)
    assert results[0].valid_pixels["reference"] == np.isfinite(ref).sum()
    assert results[0].valid_pixels["secondary"] == np.isfinite(sec).sum()


def test_deformation_pass_does_not_depend_on_the_strips(tmp_path) -> None:
    """Each strip is deformed as soon as the first pass has reached the rows below it that its
    field needs (no second read); thin strips and one strip give the same offsets."""
    shape = (420, 160)
    dy, dx = displacement.smooth_random_field(shape, 2.0, 100.0, seed=9)
    a, b = write_pair(tmp_path, dy, dx, seed=3)
    results = [_track_pair(a, b, pixels, 64, passes=1) for pixels in (10_000_000, 160 * 70)]
    one, many = results
    for size in SIZES:
        ok = np.isfinite(one.dy[size])
        assert ok.sum() > 300
        np.testing.assert_array_equal(ok, np.isfinite(many.dy[size]))
        np.testing.assert_allclose(one.dy[size][ok], many.dy[size][ok], atol=1e-4)
        np.testing.assert_allclose(one.dx[size][ok], many.dx[size][ok], atol=1e-4)


def test_residuals_one_window_at_a_time_equal_the_block_products(tmp_path, monkeypatch) -> None:
    """Window sizes and steps that share no block of 4 px fall back to per-window products for
    the deformation's residual NCC; both give the same offsets."""
    from geohazard.engine.offsets import deform

    dy, dx = displacement.smooth_random_field((200, 160), 2.0, 100.0, seed=5)
    a, b = write_pair(tmp_path, dy, dx, seed=2)
    blocks = _track_pair(a, b, 10_000_000, 64, passes=1)
    monkeypatch.setattr(deform, "MIN_RESIDUAL_BLOCK", 10**6)
    per_window = _track_pair(a, b, 10_000_000, 64, passes=1)
    for size in SIZES:
        ok = np.isfinite(blocks.dy[size])
        assert ok.sum() > 100
        np.testing.assert_array_equal(ok, np.isfinite(per_window.dy[size]))
        np.testing.assert_allclose(blocks.dy[size][ok], per_window.dy[size][ok], atol=1e-4)
        np.testing.assert_allclose(blocks.dx[size][ok], per_window.dx[size][ok], atol=1e-4)
