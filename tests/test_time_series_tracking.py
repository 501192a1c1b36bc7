"""The stack tracker (engine/timeseries): each image transformed once per band, the same
offsets as the classical tracker on each pair, bands that do not change the result, cancel."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest
import torch
from geohazard.engine.core.errors import Cancelled
from geohazard.engine.core.progress import Reporter
from geohazard.engine.io.raster_io import inspect_raster
from geohazard.engine.offsets.strip_preparation import ArrayReader
from geohazard.engine.offsets.strips import correlate
from geohazard.engine.simulate.displacement import smooth_random_field
from geohazard.engine.simulate.offset_cases import real_texture
from geohazard.engine.simulate.speckle_stack import simulate_stack
from geohazard.engine.timeseries import stack_tasks
from geohazard.engine.timeseries.pools import LocalPool
from geohazard.engine.timeseries.run import TimeSeriesConfig, displacement_time_series
from geohazard.engine.timeseries.stack_plan import StackSpec, plan_bands
from geohazard.engine.timeseries.stack_tracking import track_pixels
from time_series_stack import write_tif

SIZES, STEP, SEARCH = (16, 32), 8, 8
DATES = [dt.date(2024, 3, 1) + dt.timedelta(days=12 * k) for k in range(4)]


@pytest.fixture(scope="module")
def images(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("small_stack")
    shape = (128, 128)
    dy, dx = smooth_random_field(shape, 1.5, 60.0, seed=3)
    share = np.linspace(0, 1, len(DATES))[:, None, None]
    stack = simulate_stack(real_texture(shape, 4), DATES, share * dy, share * dx)
    paths = []
    for date, image in zip(DATES, stack):
        paths.append(str(folder / f"img_{date.strftime('%Y%m%d')}.tif"))
        write_tif(paths[-1], image)
    return paths


def spec_for(paths: list[str], pairs: tuple[tuple[int, int], ...]) -> StackSpec:
    return StackSpec(
        tuple(paths),
        1,
        inspect_raster(paths[0]).grid,
        pairs,
        SIZES,
        STEP,
        SEARCH,
        "none",
        1,
        128,
        "cpu",
    )


def test_each_image_read_and_transformed_once_per_band(images, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pairs = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    spec = spec_for(images, pairs)
    band = plan_bands(spec)[0]
    opened: list[str] = []
    real_open = stack_tasks.open_band
    monkeypatch.setattr(
        stack_tasks,
        "open_band",
        lambda info, *a, **k: opened.append(info.path) or real_open(info, *a, **k),
    )
    ffts = [0]
    real_fft = torch.fft.rfft2

    def counting_fft(*args, **kwargs):  # type: ignore[no-untyped-def]
        ffts[0] += 1
        return real_fft(*args, **kwargs)

    monkeypatch.setattr(torch.fft, "rfft2", counting_fft)
    stack_tasks.first_pass_band(spec, band)
    assert sorted(opened) == sorted(images)  # 4 reads for 6 pairs, not 12
    with_cache = ffts[0]
    ffts[0] = 0
    uncached = stack_tasks.strip_blocks
    monkeypatch.setattr(stack_tasks, "strip_blocks", lambda *a: uncached(*a[:-1], None))
    stack_tasks.first_pass_band(spec, band)
    # each image's blocks are transformed once as a reference (images 0-2) and once as a
    # secondary (images 1-3): 6 transforms against 2 per pair, 12
    assert with_cache * 12 == ffts[0] * 6


def test_pair_offsets_equal_the_classical_tracker(images) -> None:  # type: ignore[no-untyped-def]
    spec = spec_for(images, ((0, 2), (1, 2)))
    pixels, _ = track_pixels(spec, LocalPool(), Reporter())
    import rasterio

    with rasterio.open(images[0]) as a, rasterio.open(images[2]) as b:
        ref, sec = a.read(1), b.read(1)
    single = correlate(
        ArrayReader(ref),
        ArrayReader(sec),
        spec.image,
        SIZES,
        STEP,
        SEARCH,
        torch.device("cpu"),
        128,
        Reporter(),
    )
    for size in SIZES:
        for name in ("dy", "dx", "quality"):
            got, want = getattr(pixels[0], name)[size], getattr(single, name)[size]
            assert np.array_equal(np.isnan(got), np.isnan(want))
            assert np.nanmax(np.abs(got - want)) < 1e-4, (size, name)


def test_bands_do_not_change_the_offsets(images) -> None:  # type: ignore[no-untyped-def]
    spec = spec_for(images, ((0, 1), (1, 3)))
    assert len(plan_bands(spec, 10_000)) >= 3
    whole, _ = track_pixels(spec, LocalPool(), Reporter())
    cut, _ = track_pixels(spec, LocalPool(), Reporter(), band_pixels=10_000)
    for p in range(2):
        for size in SIZES:
            a, b = whole[p].dy[size], cut[p].dy[size]
            assert np.array_equal(np.isnan(a), np.isnan(b))
            assert np.nanmax(np.abs(a - b)) < 1e-3


def test_cancel_leaves_no_output(images, tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls = [0]

    def cancel_later() -> bool:
        calls[0] += 1
        return calls[0] > 20

    out = tmp_path / "series.tif"
    with pytest.raises(Cancelled):
        displacement_time_series(
            images,
            str(out),
            TimeSeriesConfig(),
            Reporter(is_canceled=cancel_later),
            str(tmp_path / "vel.tif"),
            str(tmp_path / "report.html"),
        )
    assert os.listdir(tmp_path) == []
