"""The velocity raster's bands and the report's contents, from the inverted series."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import numpy as np
from rasterio.features import rasterize
from scipy import ndimage

from ..io.raster_io import Grid
from .config import TimeSeriesConfig
from .inversion import Inversion, Trend
from .report import Area, Point, magnitude_sigma, report_html, time_series_plot

MIN_AREA_POINTS = 4
MOVING_SIGMAS = 3.0
MOVING_SHARE = 0.25  # of the largest motion (98th percentile at the last date)


def velocity_bands(
    east: Trend,
    north: Trend,
    quality: np.ndarray,
    kept: np.ndarray,
    inv: Inversion,
    shape: tuple[int, int],
) -> np.ndarray:
    """(12, rows, cols) VELOCITY_OUTPUT bands (outputs.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # points without a kept pair
        q = np.nanmedian(np.where(kept, quality, np.nan), axis=0)
    bands = [
        east.velocity,
        north.velocity,
        np.hypot(east.velocity, north.velocity),
        q,
        east.velocity_sigma,
        north.velocity_sigma,
        east.acceleration,
        north.acceleration,
        east.acceleration_sigma,
        north.acceleration_sigma,
        inv.residual,
        inv.used.astype(float),
    ]
    out = np.stack([b.reshape(shape) for b in bands]).astype(np.float32)
    out[:11, ~np.isfinite(out[0])] = np.nan
    return out


def moving_areas(series: np.ndarray, n: int) -> list[Area]:
    """Connected groups of at least MIN_AREA_POINTS grid points whose displacement at the last
    date exceeds MOVING_SIGMAS times its 1-sigma and MOVING_SHARE of the largest motion (the
    report's areas when none are given)."""
    mag, sig = magnitude_sigma(
        series[2 * n - 2], series[2 * n - 1], series[5 * n - 2], series[5 * n - 1]
    )
    if not np.isfinite(mag).any():
        return []
    floor = MOVING_SHARE * float(np.nanpercentile(mag, 98))
    with np.errstate(invalid="ignore"):
        moving = np.isfinite(mag) & (mag > np.maximum(MOVING_SIGMAS * sig, floor))
    labels, count = ndimage.label(moving)
    areas: list[Area] = []
    for k in range(1, count + 1):
        mask = labels == k
        if mask.sum() >= MIN_AREA_POINTS:
            areas.append(Area(f"moving area {len(areas) + 1}", mask))
    return areas


def given_areas(areas: Sequence[tuple[str, dict]], grid: Grid) -> list[Area]:
    """The user's polygons burnt onto the output grid (those that cover no point dropped)."""
    out = []
    for name, geometry in areas:
        mask = rasterize(
            [(geometry, 1)],
            out_shape=(grid.height, grid.width),
            transform=grid.transform,
            fill=0,
            dtype="uint8",
        ).astype(bool)
        if mask.any():
            out.append(Area(name, mask))
    return out


def given_points(points: Sequence[tuple[str, float, float]], grid: Grid) -> list[Point]:
    """The user's points that fall on the output grid, as (row, column)."""
    out = []
    inverse = ~grid.transform
    for name, x, y in points:
        col, row = inverse * (x, y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if 0 <= r < grid.height and 0 <= c < grid.width:
            out.append(Point(name, r, c))
    return out


def report_text(
    dates: Sequence[dt.date],
    series: np.ndarray,
    velocity: np.ndarray,
    grid: Grid,
    cfg: TimeSeriesConfig,
    pairs_json: str,
    ran_on: str,
) -> str:
    """The HTML report (report.py) of a finished run."""
    import json

    n = len(dates)
    areas = given_areas(cfg.areas, grid) if cfg.areas else moving_areas(series, n)
    points = given_points(cfg.points or [], grid)
    east, north = series[0 : 2 * n : 2], series[1 : 2 * n : 2]
    sig_e, sig_n = series[3 * n :: 2], series[3 * n + 1 :: 2]
    png = time_series_plot(dates, east, north, sig_e, sig_n, areas, points)
    rows = []
    for area in areas:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            last = float(np.nanmean(series[2 * n + n - 1][area.mask]))
            speed = float(np.nanmean(velocity[2][area.mask]))
        rows.append((area.name, int(area.mask.sum()), last, speed))
    t = cfg.tracking
    summary = [
        ("window sizes (px)", ",".join(str(s) for s in t.window_sizes)),
        ("step / search (px)", f"{t.step} / {t.search}"),
        ("pre-filter", t.prefilter),
        ("pairs per image", str(cfg.pairs_per_image)),
        ("largest time span (days)", f"{cfg.max_span_days:g}" if cfg.max_span_days else "none"),
        ("ran on", ran_on),
        (
            "areas",
            "given" if cfg.areas else "found in the result (3-sigma motion at the last date)",
        ),
    ]
    return report_html(
        "Displacement time series", dates, png, summary, json.loads(pairs_json), rows
    )
