"""A time series on a dask.distributed LocalCluster of two worker processes gives the local
pool's result (issue 23)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
import rasterio
from geohazard.engine.offsets.tracking_config import OffsetTrackingConfig
from geohazard.engine.simulate.displacement import landslide_field
from geohazard.engine.simulate.offset_cases import real_texture
from geohazard.engine.simulate.speckle_stack import simulate_stack
from geohazard.engine.timeseries.run import TimeSeriesConfig, displacement_time_series
from time_series_stack import write_tif

DATES = [dt.date(2024, 3, 1) + dt.timedelta(days=12 * k) for k in range(5)]


@pytest.mark.slow  # about 50 s on the 2-core machine: two worker processes start and import torch
def test_local_cluster_of_two_workers_matches_the_local_pool(tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    shape = (128, 128)
    dy, dx = landslide_field(shape, (64, 64), (40, 30), 160.0, 2.0)
    share = np.linspace(0, 1, len(DATES))[:, None, None]
    paths = []
    for date, image in zip(
        DATES, simulate_stack(real_texture(shape, 2), DATES, share * dy, share * dx)
    ):
        paths.append(str(tmp_path / f"img_{date.strftime('%Y%m%d')}.tif"))
        write_tif(paths[-1], image)
    config = TimeSeriesConfig(
        tracking=OffsetTrackingConfig(window_sizes=(16, 32), step=8, search=8),
        band_pixels=5_000,  # several bands of rows: several tasks for the two workers
    )
    local = displacement_time_series(paths, str(tmp_path / "local.tif"), config)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_cluster = displacement_time_series(
            paths,
            str(tmp_path / "cluster.tif"),
            replace(config, scheduler=cluster.scheduler_address),
            velocity_output=str(tmp_path / "cluster_velocity.tif"),
        )
    assert "this machine" in local.ran_on
    assert "2 workers" in on_cluster.ran_on
    with rasterio.open(local.output) as a, rasterio.open(on_cluster.output) as b:
        x, y = a.read(), b.read()
    assert np.array_equal(np.isnan(x), np.isnan(y))
    assert np.nanmax(np.abs(x - y)) <= 1e-6
    assert np.nanmax(np.abs(x[-2 * len(DATES) - 1])) > 5.0  # the slide moved (m)
