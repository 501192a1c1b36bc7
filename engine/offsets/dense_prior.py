"""The classical tracker's multi-window offsets resampled to every pixel: the deep tracker's prior.

CC-ResSiamNet takes, beside the two amplitude images, the offsets of classical offset tracking at
several window sizes ("multi-kernel"). Here they come from this plugin's own NCC tracker
(tracking.correlate) on a grid of window centres ``step`` pixels apart, for each window size, plus
the sizes combined as the classical algorithm does (smallest trustworthy window, 2-sigma outlier
removal). Grid points without a valid match are filled from the nearest valid point (their
quality stays 0, so the network can tell), then every channel is resampled bilinearly to the
pixel grid; pixels beyond the outermost window centres take the nearest centre's value.

Channels, in order (:func:`channel_names`): combined dx, combined dy, then per window size dx,
dy and quality (peak NCC, 0 where no valid match). Offsets in pixels, dx right, dy down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from ..core.progress import Reporter
from ..io.raster_io import Grid
from .combine import combine_sizes
from .extras import prior_pixels
from .outliers import apply_filter
from .pixel_offsets import PixelOffsets
from .strip_preparation import ArrayReader, StripReader
from .tracking import correlate
from .window_grid import CentreGrid


@dataclass(frozen=True)
class PriorConfig:
    """How the prior is measured (recorded in the model card; inference must use the same).

    Args:
        window_sizes: NCC window sizes, pixels (even, ascending).
        step: distance between window centres, pixels.
        search: largest offset searched each way, pixels.
        min_quality: peak NCC below which a match is discarded.
    """

    window_sizes: tuple[int, ...] = (32, 64)
    step: int = 8
    search: int = 16
    min_quality: float = 0.1

    @property
    def margin(self) -> int:
        """Pixels from the image edge to the first window centre."""
        return self.window_sizes[0] // 2 + self.search


def channel_names(cfg: PriorConfig) -> list[str]:
    """Names of the prior channels in order."""
    names = ["combined dx (px)", "combined dy (px)"]
    for w in cfg.window_sizes:
        names += [f"dx {w} px window (px)", f"dy {w} px window (px)", f"quality {w} px window"]
    return names


def vector_channel_pairs(cfg: PriorConfig) -> list[tuple[int, int]]:
    """(dx index, dy index) of every offset pair among the prior channels."""
    pairs = [(0, 1)]
    for i in range(len(cfg.window_sizes)):
        pairs.append((2 + 3 * i, 3 + 3 * i))
    return pairs


@dataclass
class GridPrior:
    """Prior channels on the grid of window centres, before resampling to pixels.

    Attributes:
        grid: the centre grid.
        channels: (C, grid rows, grid cols) float32, NaN-free, in :func:`channel_names` order.
        valid_pixels: pixels with data read from each image (``reference``, ``secondary``).
    """

    grid: CentreGrid
    channels: np.ndarray
    valid_pixels: dict[str, int] | None = None

    def to_pixels(self, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
        """Bilinear resampling of the channels to pixel rows [r0, r1) and columns [c0, c1)."""
        g = self.grid
        # a centre at pixel-corner coordinate c sits at pixel-index coordinate c - 0.5
        rr = (np.arange(rows[0], rows[1], dtype=np.float64) + 0.5 - g.first_row) / g.step
        cc = (np.arange(cols[0], cols[1], dtype=np.float64) + 0.5 - g.first_col) / g.step
        rr = np.clip(rr, 0, g.rows - 1)
        cc = np.clip(cc, 0, g.cols - 1)
        r_idx, c_idx = np.meshgrid(rr, cc, indexing="ij")
        out = np.empty((self.channels.shape[0], len(rr), len(cc)), np.float32)
        for i, ch in enumerate(self.channels):
            out[i] = ndimage.map_coordinates(ch, [r_idx, c_idx], order=1, mode="nearest")
        return out


def _fill_nearest(a: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(a)
    if not bad.any():
        return a
    if bad.all():
        return np.zeros_like(a)
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return a[tuple(idx)]


def combined_offsets(
    pixel: PixelOffsets, min_quality: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classical tracker's result on its grid: (dy, dx, quality), NaN where no reliable match.

    Matches below ``min_quality`` are dropped (in ``pixel`` too), the window sizes combined and
    2-sigma outliers removed, as tracking.track_offsets does by default.
    """
    for w in pixel.sizes:
        low = ~(pixel.quality[w] >= min_quality)
        for arr in (pixel.dy[w], pixel.dx[w], pixel.quality[w]):
            arr[low] = np.nan
    dy, dx, quality = combine_sizes(pixel)
    apply_filter(dy, dx, quality, "2-sigma")
    return dy, dx, quality


def classical_offsets(
    reference: np.ndarray,
    secondary: np.ndarray,
    cfg: PriorConfig,
    device: torch.device | None = None,
) -> tuple[CentreGrid, np.ndarray, np.ndarray]:
    """The classical tracker on an in-memory pair: (centre grid, dy, dx) with NaN where no match."""
    from affine import Affine

    image = Grid(None, Affine.identity(), reference.shape[1], reference.shape[0])
    pixel = correlate(
        ArrayReader(reference),
        ArrayReader(secondary),
        image,
        cfg.window_sizes,
        cfg.step,
        cfg.search,
        device or torch.device("cpu"),
        128,
        Reporter(),
    )
    dy, dx, _ = combined_offsets(pixel, cfg.min_quality)
    return pixel.grid, dy, dx


def grid_channels(pixel: PixelOffsets, cfg: PriorConfig) -> np.ndarray:
    """Prior channels on the centre grid from the per-size offsets of tracking.correlate."""
    dy, dx, _quality = combined_offsets(pixel, cfg.min_quality)
    chans = [_fill_nearest(dx), _fill_nearest(dy)]
    for w in cfg.window_sizes:
        if w in pixel.sizes:
            q = pixel.quality[w]
            chans += [_fill_nearest(pixel.dx[w]), _fill_nearest(pixel.dy[w]), np.nan_to_num(q)]
        else:  # the window does not fit in this image
            zeros = np.zeros_like(dx)
            chans += [zeros, zeros, zeros]
    return np.stack(chans).astype(np.float32)


def measure_prior(
    reference: np.ndarray | StripReader,
    secondary: np.ndarray | StripReader,
    image: Grid | tuple[int, int],
    cfg: PriorConfig,
    device: torch.device | None = None,
    reporter: Reporter | None = None,
    prefilter: str = "none",
    prior_offsets: str | None = None,
) -> GridPrior:
    """Run the classical tracker for every window size and build the prior on its grid.

    Args:
        reference: a 2-D array or a reader with ``read(window)`` (raster_io.BandReader).
        secondary: the same for the secondary image, on the reference grid.
        image: the reference Grid, or (rows, cols) for arrays.
        cfg: the prior's configuration.
        device: torch device for the correlation (CPU by default).
        reporter: progress and cancel.
        prefilter: applied to both images before the correlation (offsets/prefilter.py).
        prior_offsets: a raster of expected east/north offsets (m) around which each window
            searches (offsets/extras.prior_pixels); its offsets are part of the result.
    """
    ref = ArrayReader(reference) if isinstance(reference, np.ndarray) else reference
    sec = ArrayReader(secondary) if isinstance(secondary, np.ndarray) else secondary
    if not isinstance(image, Grid):
        from affine import Affine

        image = Grid(None, Affine.identity(), image[1], image[0])
    sizes = tuple(
        w for w in cfg.window_sizes if w + 2 * cfg.search <= min(image.height, image.width)
    )
    if not sizes:
        raise ValueError(
            f"the image ({image.width} x {image.height} px) is smaller than the smallest window "
            f"plus twice the search ({cfg.window_sizes[0] + 2 * cfg.search} px)"
        )
    prior = None
    if prior_offsets:
        centres = CentreGrid.for_image(image.height, image.width, sizes[0], cfg.step, cfg.search)
        py, px = prior_pixels(prior_offsets, image, centres.output_grid(image))
        prior = np.rint(py).astype(np.int64), np.rint(px).astype(np.int64)
    pixel = correlate(
        ref,
        sec,
        image,
        sizes,
        cfg.step,
        cfg.search,
        device or torch.device("cpu"),
        128,
        reporter or Reporter(),
        prefilter=prefilter,
        prior=prior,
    )
    return GridPrior(pixel.grid, grid_channels(pixel, cfg), dict(pixel.valid_pixels))


def dense_prior(
    reference: np.ndarray,
    secondary: np.ndarray,
    cfg: PriorConfig,
    device: torch.device | None = None,
) -> np.ndarray:
    """Prior channels (C, rows, cols) for a whole in-memory pair (see module doc)."""
    shape = (int(reference.shape[0]), int(reference.shape[1]))
    prior = measure_prior(reference, secondary, shape, cfg, device)
    return prior.to_pixels((0, reference.shape[0]), (0, reference.shape[1]))
