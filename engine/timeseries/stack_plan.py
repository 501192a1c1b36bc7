"""What every task of a stack run needs (picklable, sent to Dask workers) and how the image is
cut into bands of rows: each band is one task that runs every pair of the stack over its rows."""

from __future__ import annotations

from dataclasses import dataclass

from ..io.raster_io import Grid
from ..offsets.deform import deform_halo
from ..offsets.window_grid import CentreGrid

BAND_PIXELS = 4_000_000  # image pixels per band (plus the windows' reach above and below)


@dataclass(frozen=True)
class StackSpec:
    """The stack and the tracker's settings, the same for every task.

    Args:
        paths: the images, in date order, all read on ``image`` (the first image's grid).
        band: the band of every image to correlate (1-based).
        image: the grid every image is read on.
        pairs: (i, j) image indices of every pair.
        sizes, step, search, prefilter, passes, chunk: as OffsetTrackingConfig.
        device: a torch device name already resolved (``cpu``, ``cuda:0``).
    """

    paths: tuple[str, ...]
    band: int
    image: Grid
    pairs: tuple[tuple[int, int], ...]
    sizes: tuple[int, ...]
    step: int
    search: int
    prefilter: str
    passes: int
    chunk: int
    device: str

    def centres(self) -> CentreGrid:
        return CentreGrid.for_image(
            self.image.height, self.image.width, self.sizes[0], self.step, self.search
        )

    def reach(self) -> int:
        """Pixels a band reads above and below its window centres (largest window + search)."""
        return self.sizes[-1] // 2 + self.search

    def halo(self) -> int:
        """Centre rows around a band whose first-pass offsets its deformation pass needs."""
        return max(deform_halo(size, self.step) for size in self.sizes) + 1


@dataclass(frozen=True)
class StackBand:
    """Centre rows [i0, i1) of the grid, read from image rows [top, bottom)."""

    index: int
    i0: int
    i1: int
    top: int
    bottom: int

    def rows(self, valid: tuple[int, int]) -> tuple[int, int]:
        """This band's centre rows for a window size whose valid rows are ``valid``."""
        return max(self.i0, valid[0]), min(self.i1, valid[1])


def valid_ranges(spec: StackSpec) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """Per window size, the (rows, columns) centre index ranges whose windows fit the image."""
    grid, image = spec.centres(), spec.image
    return {
        size: (
            grid.valid_range(grid.rows, grid.first_row, size, image.height),
            grid.valid_range(grid.cols, grid.first_col, size, image.width),
        )
        for size in spec.sizes
    }


def plan_bands(
    spec: StackSpec, band_pixels: int = BAND_PIXELS, at_least: int = 1
) -> list[StackBand]:
    """Bands of at most about ``band_pixels`` image pixels each, at least ``at_least`` of them
    (one task per band: a cluster's workers each get some), of equal height, covering every
    centre row once."""
    grid, image = spec.centres(), spec.image
    reach = spec.reach()
    per = max(1, (band_pixels // max(image.width, 1) - 2 * reach) // spec.step)
    count = max(-(-grid.rows // per), min(at_least, grid.rows))
    per = max(1, -(-grid.rows // max(count, 1)))
    bands = []
    for k, i0 in enumerate(range(0, grid.rows, per)):
        i1 = min(grid.rows, i0 + per)
        top = max(0, grid.first_row + i0 * spec.step - reach)
        bottom = min(image.height, grid.first_row + (i1 - 1) * spec.step + reach)
        bands.append(StackBand(k, i0, i1, top, bottom))
    return bands
