"""Per-tile elevation normalisation, the same in training and inference.

A tile (or training patch) is shifted by the mean of its valid low-resolution elevations and
divided by their standard deviation (never less than ``MIN_SCALE_M``), computed in float64 so
that metres are restored exactly to float32 precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SCALE_M = 0.01


@dataclass(frozen=True)
class TileNorm:
    """Offset and scale of one tile, in metres."""

    offset: float
    scale: float

    @classmethod
    def of(cls, values: np.ndarray) -> TileNorm:
        """Statistics of the finite values of ``values`` (raises ValueError when none are)."""
        finite = values[np.isfinite(values)].astype(np.float64)
        if finite.size == 0:
            raise ValueError("no valid elevations in the tile")
        return cls(float(finite.mean()), max(float(finite.std()), MIN_SCALE_M))

    def forward(self, metres: np.ndarray) -> np.ndarray:
        """Metres to normalised float32 values."""
        return ((metres.astype(np.float64) - self.offset) / self.scale).astype(np.float32)

    def inverse(self, normalised: np.ndarray) -> np.ndarray:
        """Normalised values back to float32 metres."""
        return (normalised.astype(np.float64) * self.scale + self.offset).astype(np.float32)
