"""Known displacement fields (in pixels) for testing and demonstrating offset tracking.

Convention everywhere in Geohazard: a feature at reference pixel (row, col) is found at
(row + dy, col + dx) in the secondary image; dx positive to the right (east on a north-up grid),
dy positive down (south on a north-up grid).
"""

from __future__ import annotations

import numpy as np


def landslide_field(
    shape: tuple[int, int],
    centre: tuple[float, float],
    semi_axes: tuple[float, float],
    direction_deg: float,
    max_px: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A lobate landslide body sliding as one mass with a smooth margin.

    Args:
        shape: (rows, cols) of the grid.
        centre: (row, col) of the body's centre.
        semi_axes: (along, across) semi-axes of the elliptical body in pixels; ``along`` lies in
            the direction of motion.
        direction_deg: direction of motion as a map azimuth, degrees clockwise from north (up).
        max_px: displacement in the body's core, pixels.

    Returns:
        (dy, dx) arrays of ``shape`` in pixels: full motion in the core, a cosine taper to zero
        over the outer 40% of the ellipse, zero outside.
    """
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    az = np.deg2rad(direction_deg)
    ux, uy = np.sin(az), -np.cos(az)  # unit motion vector in (col, row) axes
    rel_r, rel_c = rows - centre[0], cols - centre[1]
    along = rel_c * ux + rel_r * uy
    across = -rel_c * uy + rel_r * ux
    rho = np.sqrt((along / semi_axes[0]) ** 2 + (across / semi_axes[1]) ** 2)
    taper = np.where(
        rho <= 0.6, 1.0, np.where(rho >= 1.0, 0.0, 0.5 * (1 + np.cos(np.pi * (rho - 0.6) / 0.4)))
    )
    mag = max_px * taper
    return (mag * uy).astype(np.float32), (mag * ux).astype(np.float32)


def uniform_field(shape: tuple[int, int], dy: float, dx: float) -> tuple[np.ndarray, np.ndarray]:
    """The same shift everywhere."""
    return np.full(shape, dy, np.float32), np.full(shape, dx, np.float32)


def smooth_random_field(
    shape: tuple[int, int], max_px: float, scale_px: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth, spatially varying field: sums of random sinusoids with wavelengths ~scale_px."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    out = []
    for _ in range(2):
        f = np.zeros(shape)
        for _ in range(4):
            k = 2 * np.pi / (scale_px * rng.uniform(0.8, 2.0))
            th = rng.uniform(0, 2 * np.pi)
            f += np.sin(k * (np.cos(th) * cols + np.sin(th) * rows) + rng.uniform(0, 2 * np.pi))
        out.append((max_px * f / np.abs(f).max()).astype(np.float32))
    return out[0], out[1]
