"""Pixel offsets to east/north metres, for projected and geographic reference grids."""

from __future__ import annotations

import numpy as np

from ..core.progress import Reporter
from ..io.geodesy import metres_per_degree
from ..io.raster_io import Grid


def pixel_offsets_to_metres(
    dy: np.ndarray, dx: np.ndarray, image: Grid, centres: Grid, reporter: Reporter | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Convert offsets in reference pixels (dy down, dx right) into east and north metres.

    Args:
        dy, dx: offsets on the centre grid, in pixels of the reference image.
        image: the reference image grid (its transform maps pixel offsets to map offsets).
        centres: the grid of window centres (gives each point's latitude on geographic grids).
        reporter: told when a geographic grid was converted from degrees.
    """
    t = image.transform
    east = t.a * dx + t.b * dy
    north = t.d * dx + t.e * dy
    crs = image.crs
    if crs is not None and crs.is_geographic:
        rows, cols = np.mgrid[0 : dy.shape[0], 0 : dy.shape[1]]
        _, lat = centres.transform * (cols + 0.5, rows + 0.5)
        per_lon, per_lat = metres_per_degree(np.asarray(lat))
        east, north = east * per_lon, north * per_lat
        if reporter is not None:
            reporter.info(
                "The reference grid is geographic (degrees): offsets converted to metres locally."
            )
    elif crs is not None and crs.linear_units_factor:
        factor = crs.linear_units_factor[1]
        east, north = east * factor, north * factor
    return np.asarray(east, np.float32), np.asarray(north, np.float32)


def pixel_sigmas_to_metres(
    sy: np.ndarray, sx: np.ndarray, image: Grid, centres: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """1-sigma uncertainties in pixels (rows, columns) to east and north 1-sigma in metres.

    The two pixel axes are taken as independent, so each map axis gets the root sum of squares
    of both pixel axes' contributions (exact for north-up grids, where one term is zero).
    """
    zeros = np.zeros_like(sx)
    e1, n1 = pixel_offsets_to_metres(zeros, sx, image, centres)
    e2, n2 = pixel_offsets_to_metres(sy, zeros, image, centres)
    return np.hypot(e1, e2).astype(np.float32), np.hypot(n1, n2).astype(np.float32)
