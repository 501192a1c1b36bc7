"""Checks around a tracking run: usable window sizes, memory and time estimates, and the
warning when the result looks like noise."""

from __future__ import annotations

import numpy as np
import torch

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.raster_io import Grid
from ..io.run_estimate import announce_time, measure_seconds
from .window_grid import CentreGrid

# GDAL's block cache while the strips are read: two rows of 256 px blocks of both images (the
# rows two strips share are read from it), 64 to 256 MB, instead of GDAL's default of 5% of the
# machine's memory (1.2 GB on a 24 GB machine, most of a frame's peak memory).
READ_CACHE_BYTES = 256 * 1024**2


def read_cache_bytes(width: int) -> int:
    """GDAL block cache for strips of ``width`` pixels (see READ_CACHE_BYTES)."""
    return int(min(READ_CACHE_BYTES, max(64 * 1024**2, 2 * 2 * 256 * width * 4)))


# Strips of both images in flight (the one being correlated and the one read meanwhile), with
# their nodata masks and the local energies of each window size, at the default strip size.
STRIP_BYTES = 512 * 1024**2


def warn_if_unreliable(
    dy: np.ndarray,
    dx: np.ndarray,
    quality: np.ndarray,
    matched: int,
    removed: int,
    search: int,
    rep: Reporter,
) -> None:
    """Warn when the result looks like noise: weak peaks, offsets piling up at the search limit
    (motion larger than SEARCH, or images that do not show the same ground) or many outliers."""
    ok = np.isfinite(dy) & np.isfinite(dx)
    if matched == 0 or not ok.any():
        return
    median_q = float(np.nanmedian(quality[ok]))
    near_limit = float((np.maximum(np.abs(dy[ok]), np.abs(dx[ok])) > 0.75 * search).mean())
    problems = []
    if median_q < 0.2:
        problems.append(f"the median peak NCC is only {median_q:.2f}")
    if near_limit > 0.25:
        problems.append(
            f"{100 * near_limit:.0f}% of offsets lie near the search limit of {search} px"
        )
    if removed > 0.25 * matched:
        problems.append(f"{100 * removed / matched:.0f}% of matches were outliers")
    if problems:
        rep.warning(
            "The offsets look unreliable: "
            + "; ".join(problems)
            + ". Check that both images show the same ground in the same band, that the motion "
            "is smaller than SEARCH, or try larger windows."
        )


def usable_sizes(
    sizes: tuple[int, ...], search: int, image: Grid, rep: Reporter
) -> tuple[int, ...]:
    """The window sizes whose window plus search fits the raster (a warning names the others)."""
    short = min(image.width, image.height)
    usable = tuple(w for w in sizes if w + 2 * search <= short)
    if not usable:
        raise GeohazardError(
            f"The raster is {image.width} x {image.height} px, smaller than the smallest window "
            f"({sizes[0]} px) plus twice the search distance ({search} px): it needs at least "
            f"{sizes[0] + 2 * search} px on each side. Use smaller windows or a smaller search."
        )
    dropped = [w for w in sizes if w not in usable]
    if dropped:
        rep.warning(
            f"Window sizes {dropped} do not fit in the {image.width} x {image.height} px raster "
            "and were skipped."
        )
    return usable


def working_memory(centres: CentreGrid, sizes: tuple[int, ...], width: int) -> int:
    """Peak bytes of a run: float32 offset grids (5 per size, combined grids, the outlier
    filter's 3 x 3 neighbourhoods, output bands), the strips in flight and GDAL's block cache."""
    cells = centres.rows * centres.cols
    return cells * 4 * (5 * len(sizes) + 36) + STRIP_BYTES + read_cache_bytes(width)


def estimate_time(
    centres: CentreGrid,
    sizes: tuple[int, ...],
    image: Grid,
    device: torch.device,
    rep: Reporter,
    prefilter: str = "none",
    passes: int = 1,
    chunk: int = 128,
) -> None:
    """Log the expected time, from the whole pipeline (block correlations, deformation passes)
    timed just now on a small seeded sample, scaled by the number of windows."""
    from .strip_preparation import ArrayReader
    from .strips import correlate

    s, step = centres.search, centres.step
    rows = min(image.height, sizes[-1] + 2 * s + 12 * step)
    cols = min(image.width, sizes[-1] + 2 * s + 160 * step)
    sample = CentreGrid.for_image(rows, cols, sizes[0], step, s)
    gen = np.random.default_rng(0)
    ref = gen.gamma(4.0, 1.0, (rows, cols + 1)).astype(np.float32)
    sec = ref[:, 1:].copy()  # a one-pixel shift: the correlation finds real peaks
    area = Grid(image.crs, image.transform, cols, rows)

    def run() -> None:
        correlate(
            ArrayReader(ref[:, :cols]),
            ArrayReader(sec),
            area,
            sizes,
            step,
            s,
            device,
            chunk,
            Reporter(),
            prefilter=prefilter,
            passes=passes,
        )

    def windows(grid: CentreGrid, height: int, width: int) -> int:
        total = 0
        for size in sizes:
            (ra, rb) = grid.valid_range(grid.rows, grid.first_row, size, height)
            (ca, cb) = grid.valid_range(grid.cols, grid.first_col, size, width)
            total += (rb - ra) * (cb - ca)
        return total

    done = windows(sample, rows, cols)
    if not done:
        return
    seconds = measure_seconds(run, repeats=1) / done * windows(centres, image.height, image.width)
    announce_time(
        rep,
        seconds,
        f"the whole tracker's rate measured just now on {done} windows on {device}; reading and "
        "writing come on top",
    )
