"""A simulated stack for the time series tests: a landslide that starts, accelerates and
stops, seasonal brightness change, and one bad pair.

12 dates, 30 days apart (a year); 10 m pixels (EPSG:32633). The slide (an elliptical body,
displacement.landslide_field's shape) moves south-east with velocity v(t) = v_peak
sin^2(pi (t - ONSET) / DURATION) between ONSET and ONSET + DURATION days after the first date,
zero before and after. The bad pair: a bright stationary pattern (radio-frequency interference
seen on two acquisitions, fixed in image coordinates, not on the ground) over the slide on
dates BAD[0] and BAD[1], three apart: that pair correlates on the pattern and sees no motion
there, contradicting the other pairs, while each date's other pairs see the pattern only once.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine
from geohazard.engine.simulate.displacement import landslide_field
from geohazard.engine.simulate.offset_cases import real_texture
from geohazard.engine.simulate.speckle_stack import StackConfig, simulate_stack
from scipy import ndimage

PIXEL = 10.0
START = dt.date(2024, 1, 10)
INTERVAL = 30
DATES = [START + dt.timedelta(days=INTERVAL * k) for k in range(12)]
ONSET, DURATION, TOTAL_PX = 100.0, 180.0, 3.0
BAD = (5, 8)
STRENGTH = (1.0, 1.0)  # log contrast and mean brightness of the pattern against the ground
CRS = "EPSG:32633"
TRANSFORM = Affine(PIXEL, 0, 600000, 0, -PIXEL, 5100000)


@dataclass
class Stack:
    paths: list[str]
    dates: list[dt.date]
    east: np.ndarray  # (dates, rows, cols) true cumulative east displacement, m
    north: np.ndarray
    body: np.ndarray  # (rows, cols) the slide's core (full motion)


def progress(days: np.ndarray | float) -> np.ndarray:
    """Share of the total motion done after ``days`` (0 before the onset, 1 after the stop)."""
    tau = np.clip(np.asarray(days, float) - ONSET, 0.0, DURATION)
    return (tau - DURATION / (2 * np.pi) * np.sin(2 * np.pi * tau / DURATION)) / DURATION


def write_tif(path: str, array: np.ndarray, tags: dict[str, str] | None = None) -> None:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype="float32",
        crs=CRS,
        transform=TRANSFORM,
    ) as dst:
        dst.write(array.astype(np.float32), 1)
        if tags:
            dst.update_tags(**tags)


def landslide_stack(folder: str, size: int = 192, seed: int = 5, bad: bool = True) -> Stack:
    """Write the stack's GeoTIFFs (names with YYYYMMDD dates) into ``folder``."""
    rng = np.random.default_rng(seed)
    shape = (size, size)
    dy1, dx1 = landslide_field(
        shape, (size * 0.5, size * 0.5), (size * 0.3, size * 0.22), 135.0, 1.0
    )
    share = progress(np.array([(d - DATES[0]).days for d in DATES], float))
    dy = TOTAL_PX * share[:, None, None] * dy1[None]
    dx = TOTAL_PX * share[:, None, None] * dx1[None]
    images = simulate_stack(
        real_texture(shape, seed),
        DATES,
        dy.astype(np.float32),
        dx.astype(np.float32),
        StackConfig(looks=4, coherence=0.97, seasonal=0.3),
        rng,
    )
    moving = np.hypot(dy1, dx1)
    if bad:
        pattern = ndimage.gaussian_filter(rng.standard_normal(shape), 1.2)
        pattern = np.exp(STRENGTH[0] * pattern / pattern.std()) * (moving > 0.05)
        for k in BAD:
            images[k] = np.sqrt(images[k] ** 2 + pattern * np.mean(images[k] ** 2) * STRENGTH[1])
    paths = []
    for date, image in zip(DATES, images):
        path = os.path.join(folder, f"S1_sim_{date.strftime('%Y%m%d')}.tif")
        write_tif(path, image)
        paths.append(path)
    return Stack(paths, DATES, dx * PIXEL, -dy * PIXEL, moving > 0.99)


def centre_samples(array: np.ndarray, first: int, step: int, rows: int, cols: int) -> np.ndarray:
    """Values of per-pixel arrays (..., rows, cols) at the window centres of an output grid."""
    r = first + step * np.arange(rows)
    c = first + step * np.arange(cols)
    return array[..., r[:, None], c[None, :]]
