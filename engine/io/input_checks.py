"""Cheap checks of input rasters made before any compute: no valid data, identical inputs.

Both look at a spread sample of blocks first (about 64 blocks, whatever the raster's size), which
settles the usual case at once: a raster with data shows some in the sample, two different
acquisitions differ in the sample. Only when the sample cannot settle it (every sampled pixel is
nodata; every sampled pixel is identical) is the whole raster read, strip by strip in bounded
memory and stopping at the first pixel that settles it, so a valid input is never refused on a
sample's word. Reading is far cheaper than any of the computations these checks protect.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from .dem_values import impossible_mask
from .raster_io import BandReader, Grid, RasterInfo, open_band

SAMPLE_BLOCKS = 8  # per side: up to 64 sampled blocks
SAMPLE_SIDE = 256  # pixels per sampled block side
STRIP_PIXELS = 4_000_000  # pixels per strip in a full pass (16 MB of float32)


def sample_windows(width: int, height: int) -> list[Window]:
    """Up to SAMPLE_BLOCKS x SAMPLE_BLOCKS windows spread evenly over a raster (corners in)."""
    side_w, side_h = min(SAMPLE_SIDE, width), min(SAMPLE_SIDE, height)

    def starts(extent: int, side: int) -> list[int]:
        n = min(SAMPLE_BLOCKS, max(1, extent // side))
        if n == 1:
            return [0]
        return sorted({round(i * (extent - side) / (n - 1)) for i in range(n)})

    return [
        Window(c, r, side_w, side_h) for r in starts(height, side_h) for c in starts(width, side_w)
    ]


def strip_windows(width: int, height: int, strip_pixels: int = STRIP_PIXELS) -> Iterator[Window]:
    """Windows of about ``strip_pixels`` pixels covering the raster row by row (full-width
    strips; pieces of single rows when one row is wider than that)."""
    if width > strip_pixels:
        for r0 in range(height):
            for c0 in range(0, width, strip_pixels):
                yield Window(c0, r0, min(strip_pixels, width - c0), 1)
        return
    rows = max(1, strip_pixels // max(width, 1))
    for r0 in range(0, height, rows):
        yield Window(0, r0, width, min(rows, height - r0))


def dem_valid(values: np.ndarray) -> np.ndarray:
    """Valid DEM pixels: finite and a possible elevation (see :mod:`.dem_values`)."""
    return np.isfinite(values) & ~impossible_mask(values)


def any_valid(values: np.ndarray) -> np.ndarray:
    """Valid pixels of any raster: not nodata."""
    return np.isfinite(values)


def require_valid_data(
    info: RasterInfo,
    band: int = 1,
    role: str = "input",
    reporter: Reporter | None = None,
    valid: Callable[[np.ndarray], np.ndarray] = any_valid,
) -> None:
    """Raise a clear error, before any compute, when band ``band`` holds no valid pixel.

    ``valid`` tells valid pixels (default: not nodata; :func:`dem_valid` for DEMs, which also
    excludes impossible elevations). Cheap for rasters with data (a sample of blocks); a raster
    without data in the sample is read in full, stopping at the first valid pixel.
    """
    rep = reporter or Reporter()
    name = os.path.basename(info.path)
    grid = info.grid
    with open_band(info, band) as reader:
        for win in sample_windows(grid.width, grid.height):
            if valid(reader.read(win)).any():
                return
        rep.info(f"The sample of '{name}' is all nodata; reading it in full to be sure.")
        for win in strip_windows(grid.width, grid.height):
            rep.check_cancel()
            if valid(reader.read(win)).any():
                return
    why = (
        "no valid elevation, only nodata or impossible values"
        if valid is dem_valid
        else "it is all nodata"
    )
    raise GeohazardError(
        f"The {role} raster '{name}' holds no valid pixel in band {band}: {why}. "
        "Nothing was computed."
    )


def same_file(a: str, b: str) -> bool:
    """True when two paths name the same file (links and relative paths resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_identical(
    reference: RasterInfo,
    secondary: RasterInfo,
    band: int = 1,
    reporter: Reporter | None = None,
) -> None:
    """Raise when the two inputs of a tracker are the same file or hold identical pixels.

    Offset tracking of an image against itself measures nothing (every offset is zero), which
    users of other trackers have asked to be told at once. Rasters on different grids are never
    identical here (the secondary would be resampled).
    """
    rep = reporter or Reporter()
    a, b = os.path.basename(reference.path), os.path.basename(secondary.path)
    advice = "choose two acquisitions of the same ground taken at different times."
    if same_file(reference.path, secondary.path):
        raise GeohazardError(
            f"The reference and the secondary are the same file ('{a}'); offset tracking "
            f"compares two different images: {advice}"
        )
    if not reference.grid.same_as(secondary.grid, rel_tol=0.0):
        return
    grid = reference.grid
    with open_band(reference, band) as ra, open_band(secondary, band) as rb:
        for win in sample_windows(grid.width, grid.height):
            if not np.array_equal(ra.read(win), rb.read(win), equal_nan=True):
                return
        rep.info(f"The samples of '{a}' and '{b}' are identical; comparing them in full.")
        for win in strip_windows(grid.width, grid.height):
            rep.check_cancel()
            if not np.array_equal(ra.read(win), rb.read(win), equal_nan=True):
                return
    raise GeohazardError(
        f"The reference '{a}' and the secondary '{b}' hold identical pixels in band {band}: they "
        f"are copies of one image, so every offset would be zero; {advice}"
    )


def require_texture(
    reader: BandReader,
    grid: Grid,
    role: str,
    path: str,
    band: int,
    window: int,
    reporter: Reporter | None = None,
) -> None:
    """Raise, before any matching, when an image cannot be matched: fewer valid pixels (on the
    grid it is read on) than one ``window`` x ``window`` px window holds, or one constant value
    and so no texture.

    A spread sample settles an image with texture at once; otherwise it is read in full, strip
    by strip, stopping as soon as it is settled.
    """
    rep = reporter or Reporter()
    name = os.path.basename(path)
    min_pixels = window * window
    count, low, high = 0, np.inf, -np.inf

    def add(values: np.ndarray) -> bool:
        nonlocal count, low, high
        finite = values[np.isfinite(values)]
        if finite.size:
            count += int(finite.size)
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        return count >= min_pixels and high > low

    if any(add(reader.read(w)) for w in sample_windows(grid.width, grid.height)):
        return
    count, low, high = 0, np.inf, -np.inf
    for win in strip_windows(grid.width, grid.height):
        rep.check_cancel()
        if add(reader.read(win)):
            return
    over = " over the reference area" if role == "secondary" else ""
    if count < min_pixels:
        raise GeohazardError(
            f"The {role} raster '{name}' has only {count} valid pixel(s) in band {band}{over}, "
            f"fewer than one {window} x {window} px window holds: the two images must overlap by "
            "at least a window; check that they cover the same ground. Nothing was computed."
        )
    raise GeohazardError(
        f"The {role} raster '{name}' holds one constant value ({low:g}) in band {band}{over}: "
        "offset tracking matches image texture, and a constant image has none; check the band "
        "and the file. Nothing was computed."
    )


def scan_cost_pixels(info: RasterInfo) -> int:
    """Pixels the sample reads (for logs and tests)."""
    wins = sample_windows(info.grid.width, info.grid.height)
    return int(sum(w.width * w.height for w in wins))


__all__ = [
    "any_valid",
    "dem_valid",
    "refuse_identical",
    "require_texture",
    "require_valid_data",
    "same_file",
    "sample_windows",
    "strip_windows",
    "scan_cost_pixels",
]
