"""The time series rasters, written all or none (temporary names, renamed when complete).

OUTPUT, for N dates in date order (every description starts with its date, YYYY-MM-DD):
bands 1 .. 2N east and north cumulative displacement (m) of each date in turn (date k: bands
2k + 1, 2k + 2); then N magnitude bands (m); then N pairs of east and north 1-sigma (m). The first
date is the reference: 0 with 1-sigma 0.

VELOCITY_OUTPUT: bands 1-6 in the offset trackers' velocity layout (DESIGN.md: east, north,
speed in m/yr, quality, east and north 1-sigma in m/yr), so geohazard:landslideareas reads it
as it reads a pair's velocities; appended: 7-8 east and north acceleration (m/yr2), 9-10 their
1-sigma (m/yr2), 11 the network residual (m), 12 the number of pairs kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import numpy as np

from ..io.output_files import StagedOutput, commit_all, discard_all
from ..io.raster_io import Grid, RasterWriter
from ..offsets.bands import VELOCITY_BANDS

VELOCITY_EXTRA = (
    "east acceleration (m/yr2)",
    "north acceleration (m/yr2)",
    "east acceleration 1-sigma (m/yr2)",
    "north acceleration 1-sigma (m/yr2)",
    "network residual (m)",
    "pairs kept",
)


def series_descriptions(dates: Sequence[dt.date]) -> list[str]:
    """Band descriptions of OUTPUT (see module doc)."""
    iso = [d.isoformat() for d in dates]
    names = []
    for d in iso:
        names += [f"{d} east displacement (m)", f"{d} north displacement (m)"]
    names += [f"{d} magnitude (m)" for d in iso]
    for d in iso:
        names += [f"{d} east 1-sigma (m)", f"{d} north 1-sigma (m)"]
    return names


def series_bands(
    east: np.ndarray, north: np.ndarray, sigma_east: np.ndarray, sigma_north: np.ndarray
) -> np.ndarray:
    """(5N, rows, cols) in OUTPUT's order from (N, rows, cols) arrays."""
    n = east.shape[0]
    out = np.empty((5 * n, *east.shape[1:]), np.float32)
    out[0 : 2 * n : 2], out[1 : 2 * n : 2] = east, north
    out[2 * n : 3 * n] = np.hypot(east, north)
    out[3 * n :: 2], out[3 * n + 1 :: 2] = sigma_east, sigma_north
    return out


def write_time_series(
    output: str,
    velocity_output: str | None,
    grid: Grid,
    series: np.ndarray,
    velocity: np.ndarray,
    dates: Sequence[dt.date],
    tags: dict[str, str],
    extra: Sequence[StagedOutput] = (),
) -> None:
    """Write OUTPUT (and VELOCITY_OUTPUT) staged, then rename them with ``extra`` (the report)
    all at once; on any failure nothing is left at the destinations."""
    staged: list[StagedOutput] = list(extra)
    try:
        all_tags = {**tags, "UNITS": "m", "DATES": ",".join(d.isoformat() for d in dates)}
        with RasterWriter(
            output, grid, series_descriptions(dates), tags=all_tags, defer_commit=True
        ) as writer:
            writer.write(series)
        staged.append(writer.verified_output())
        if velocity_output:
            with RasterWriter(
                velocity_output,
                grid,
                list(VELOCITY_BANDS) + list(VELOCITY_EXTRA),
                tags={**tags, "UNITS": "m/yr"},
                defer_commit=True,
            ) as writer:
                writer.write(velocity)
            staged.append(writer.verified_output())
    except BaseException:
        discard_all(staged)
        raise
    commit_all(staged)


def pair_tags(
    dates: Sequence[dt.date],
    pairs: Sequence[tuple[int, int]],
    rejected: Sequence[float],
    valid: Sequence[float],
) -> str:
    """JSON list of the pairs: dates, share of grid points measured and share rejected."""
    return json.dumps(
        [
            {
                "reference": dates[i].isoformat(),
                "secondary": dates[j].isoformat(),
                "measured": round(float(v), 4),
                "rejected": round(float(r), 4),
            }
            for (i, j), r, v in zip(pairs, rejected, valid)
        ]
    )
