"""Offsets in pixels per window size, as correlation leaves them before sizes are combined."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .window_grid import CentreGrid


@dataclass
class PixelOffsets:
    """Offsets in pixels on the centre grid, per window size, before combination."""

    grid: CentreGrid
    sizes: tuple[int, ...]
    dy: dict[int, np.ndarray] = field(default_factory=dict)
    dx: dict[int, np.ndarray] = field(default_factory=dict)
    quality: dict[int, np.ndarray] = field(default_factory=dict)
    sigma_y: dict[int, np.ndarray] = field(default_factory=dict)  # raw 1-sigma of dy, pixels
    sigma_x: dict[int, np.ndarray] = field(default_factory=dict)  # raw 1-sigma of dx, pixels
    valid_pixels: dict[str, int] = field(default_factory=lambda: {"reference": 0, "secondary": 0})
