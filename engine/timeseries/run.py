"""geohazard:displacementtimeseries in the engine: dates, pair network, every pair tracked on
one grid (locally or on a Dask cluster), the network inverted per point, the outputs written."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.device import run_scope
from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..core.run_options import RunOptions
from ..io.output_files import check_free_space, check_text_output_path, write_bytes_staged
from ..io.raster_io import check_band, check_output_path, inspect_raster, open_band, planned_raster
from ..offsets.run_checks import usable_sizes
from ..offsets.tracking_config import parse_window_sizes, validate_config
from ..offsets.window_grid import CentreGrid
from .config import TimeSeriesConfig
from .dates import stack_dates
from .inversion import fit_trend, invert_network
from .network import network_gaps, pair_network
from .outputs import VELOCITY_EXTRA, pair_tags, series_bands, write_time_series
from .pools import make_pool
from .stack_plan import StackSpec
from .stack_tracking import pair_offsets, track_pixels
from .summary import report_text, velocity_bands

__all__ = ["TimeSeriesConfig", "TimeSeriesResult", "displacement_time_series"]


@dataclass
class TimeSeriesResult:
    """What the run wrote and found."""

    output: str
    velocity_output: str | None
    report: str | None
    dates: list[dt.date]
    pairs: list[tuple[int, int]]
    rejected: list[float]
    measured: list[float]
    ran_on: str


def displacement_time_series(
    inputs: Sequence[str],
    output: str,
    config: TimeSeriesConfig | None = None,
    reporter: Reporter | None = None,
    velocity_output: str | None = None,
    report: str | None = None,
    options: RunOptions | None = None,
) -> TimeSeriesResult:
    """Cumulative displacement at every date of a stack of co-registered images (outputs.py
    gives the band layouts)."""
    cfg = config or TimeSeriesConfig()
    rep = reporter or Reporter()
    tcfg = cfg.tracking
    validate_config(tcfg)
    paths = [str(p) for p in inputs]
    if len(paths) < 3:
        raise GeohazardError(f"A time series needs at least 3 images; INPUT has {len(paths)}.")
    for path in [output, velocity_output]:
        if path:
            check_output_path(path)
            if os.path.abspath(path) in {os.path.abspath(p) for p in paths}:
                raise GeohazardError(
                    "An output would overwrite an input image; choose another file name."
                )
    if report:
        check_text_output_path(report, (".html", ".htm"), "report")
    dates = stack_dates(paths, cfg.dates)
    pairs = pair_network(dates, cfg.pairs_per_image, cfg.max_span_days)
    for k in network_gaps(len(dates), pairs):
        rep.warning(
            f"No pair spans {dates[k].isoformat()} to {dates[k + 1].isoformat()}: the network "
            "is split there and the minimum-velocity constraint bridges the gap (no motion is "
            "measured over it); raise MAX_SPAN_DAYS or PAIRS_PER_IMAGE to close it."
        )
    infos = [inspect_raster(p) for p in paths]
    for info in infos:
        check_band(info, tcfg.band)
    image = infos[0].grid
    for info in infos[1:]:
        open_band(info, tcfg.band, image, rep, role="image", grid_role="first image").close()
    sizes = usable_sizes(parse_window_sizes(tcfg.window_sizes), tcfg.search, image, rep)
    out_grid = CentreGrid.for_image(
        image.height, image.width, sizes[0], tcfg.step, tcfg.search
    ).output_grid(image)
    planned = [planned_raster(output, out_grid, 5 * len(dates))]
    if velocity_output:
        planned.append(planned_raster(velocity_output, out_grid, 6 + len(VELOCITY_EXTRA)))
    check_free_space(planned, rep)
    rep.info(
        f"{len(dates)} dates from {dates[0].isoformat()} to {dates[-1].isoformat()}; "
        f"{len(pairs)} pairs (each image with its next {cfg.pairs_per_image}"
        + (f", at most {cfg.max_span_days:g} days apart" if cfg.max_span_days > 0 else "")
        + ")."
    )
    with run_scope(options or RunOptions(device=tcfg.device), rep) as device:
        spec = StackSpec(
            tuple(paths),
            tcfg.band,
            image,
            tuple(pairs),
            sizes,
            tcfg.step,
            tcfg.search,
            tcfg.prefilter,
            tcfg.deform_passes,
            tcfg.chunk_size,
            str(device),
        )
        pool = make_pool(cfg.scheduler)
        rep.info(f"Tracking the pairs on {pool.description}.")
        try:
            pixels, valid = track_pixels(spec, pool, rep.step(0.0, 0.9), cfg.band_pixels)
        finally:
            pool.close()
    for path, n in zip(paths, valid):
        if n == 0:
            raise GeohazardError(
                f"The image '{os.path.basename(path)}' is all nodata in band {tcfg.band}."
            )
    rep.check_cancel()
    per_pair = [
        pair_offsets(
            px, image, out_grid, tcfg.min_quality, tcfg.outlier_filter, tcfg.stable_areas, rep
        )
        for px in pixels
    ]
    shape = (out_grid.height, out_grid.width)
    stacked = {
        name: np.stack([getattr(p, name).reshape(-1) for p in per_pair])
        for name in ("east", "north", "quality", "sigma_east", "sigma_north")
    }
    inv = invert_network(
        dates,
        pairs,
        stacked["east"],
        stacked["north"],
        stacked["sigma_east"],
        stacked["sigma_north"],
    )
    rep.report(0.95)
    measured_mask = np.isfinite(stacked["east"])
    measured = [float(m.mean()) for m in measured_mask]
    rejected = [float(r[m].mean()) if m.any() else 0.0 for r, m in zip(inv.rejected, measured_mask)]
    for (i, j), share in zip(pairs, rejected):
        if share > 0.05:
            rep.info(
                f"Pair {dates[i].isoformat()} - {dates[j].isoformat()}: rejected at "
                f"{100 * share:.0f}% of its points (it contradicts the other pairs there)."
            )
    trend_e = fit_trend(dates, inv.east, inv.sigma_east)
    trend_n = fit_trend(dates, inv.north, inv.sigma_north)
    kept = measured_mask & ~inv.rejected
    velocity = velocity_bands(trend_e, trend_n, stacked["quality"], kept, inv, shape)
    series = series_bands(
        *(
            a.reshape(len(dates), *shape)
            for a in (inv.east, inv.north, inv.sigma_east, inv.sigma_north)
        )
    )
    pairs_json = pair_tags(dates, pairs, rejected, measured)
    tags = {
        "ALGORITHM": "geohazard:displacementtimeseries",
        "INPUTS": ";".join(os.path.basename(p) for p in paths),
        "WINDOW_SIZES": ",".join(str(s) for s in sizes),
        "STEP": str(tcfg.step),
        "SEARCH": str(tcfg.search),
        "PREFILTER": tcfg.prefilter,
        "PAIRS_PER_IMAGE": str(cfg.pairs_per_image),
        "PAIRS": pairs_json,
    }
    rep.check_cancel()
    extra = []
    if report:
        text = report_text(dates, series, velocity, out_grid, cfg, pairs_json, pool.description)
        extra.append(write_bytes_staged(report, text.encode("utf-8")))
    write_time_series(output, velocity_output, out_grid, series, velocity, dates, tags, extra)
    rep.report(1.0)
    rep.info(
        f"Cumulative displacement at {len(dates)} dates on a {out_grid.width} x "
        f"{out_grid.height} grid written."
    )
    return TimeSeriesResult(
        output, velocity_output, report, dates, pairs, rejected, measured, pool.description
    )
