"""The grid of window centres shared by all window sizes, and window extraction with unfold."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from affine import Affine

from ..io.raster_io import Grid


@dataclass(frozen=True)
class CentreGrid:
    """Window centres at pixel-corner coordinates ``first + k * step`` along rows and columns.

    A window of even size w at centre c covers pixels [c - w/2, c + w/2) and its search area
    [c - w/2 - search, c + w/2 + search).
    """

    first_row: int
    first_col: int
    step: int
    rows: int
    cols: int
    search: int

    @classmethod
    def for_image(
        cls, height: int, width: int, smallest: int, step: int, search: int
    ) -> CentreGrid:
        margin = smallest // 2 + search
        rows = (height - 2 * margin) // step + 1
        cols = (width - 2 * margin) // step + 1
        return cls(margin, margin, step, max(rows, 0), max(cols, 0), search)

    def valid_range(self, n: int, first: int, size: int, extent: int) -> tuple[int, int]:
        """Index range [a, b) of centres along one axis whose window + search fits the image."""
        half = size // 2 + self.search
        a = max(0, -((first - half) // self.step))  # ceil((half - first) / step)
        b = min(n, (extent - half - first) // self.step + 1)
        return a, max(a, b)

    def output_grid(self, image: Grid) -> Grid:
        """The output raster grid: one pixel per window centre, ``step`` image pixels wide."""
        half = self.step / 2.0
        transform = (
            image.transform
            * Affine.translation(self.first_col - half, self.first_row - half)
            * Affine.scale(self.step)
        )
        return Grid(image.crs, transform, self.cols, self.rows)


def windows(
    image: torch.Tensor, top: int, left: int, size: int, step: int, n_rows: int, n_cols: int
) -> torch.Tensor:
    """A (n_rows, n_cols, size, size) view of windows whose top-left corners start at
    (top, left) and advance by ``step``; no copy is made."""
    sub = image[top : top + (n_rows - 1) * step + size, left : left + (n_cols - 1) * step + size]
    return sub.unfold(0, size, step).unfold(1, size, step)
