"""Reading and preparing one strip of both images for correlation (nodata, pre-filter, local
energies), done in a background thread while the previous strip is being correlated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from rasterio.windows import Window

from .ncc import local_tables
from .prefilter import apply_prefilter


class StripReader(Protocol):
    """What the strips are read through: raster_io.BandReader, or an array in memory."""

    def read(self, window: Window | None = None) -> np.ndarray: ...


@dataclass
class PreparedStrip:
    """Rows ``top`` .. ``top + rows`` of both images, ready for the correlation jobs.

    ``ref_bad`` / ``sec_bad`` are float masks (1 where nodata), or None when the strip has no
    nodata at all (the common case, which then skips every nodata computation); ``energy``
    holds the secondary's local energy (:func:`local_energy`) for each window size.
    """

    top: int
    ref: torch.Tensor
    sec: torch.Tensor
    ref_bad: torch.Tensor | None
    sec_bad: torch.Tensor | None
    valid_ref: int
    valid_sec: int
    energy: dict[int, torch.Tensor] = field(default_factory=dict)
    block_sums: torch.Tensor | None = None  # the secondary's box sums of the block size


def fill_nan(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """(image with nodata set to the mean of the valid pixels, nodata mask, valid count).

    The mask is None and ``a`` is returned as it is when every pixel is valid.
    """
    if bool(torch.isfinite(a.sum())):  # no NaN, no inf (nor an overflow): nothing to fill
        return a, None, a.numel()
    bad = ~torch.isfinite(a)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return a, None, a.numel()
    if n_bad == a.numel():
        return torch.zeros_like(a), bad.float(), 0
    fill = a[~bad].mean()
    return torch.where(bad, fill, a), bad.float(), a.numel() - n_bad


def prepare_strip(
    ref_reader: StripReader,
    sec_reader: StripReader,
    top: int,
    bottom: int,
    width: int,
    sizes: tuple[int, ...],
    prefilter: str,
    device: torch.device,
    block: int = 0,
) -> PreparedStrip:
    """Read rows [top, bottom) of both images and prepare them once for the window ``sizes``
    that have centres in this strip; ``block`` > 0: also the secondary's box sums of that size
    (block_ncc.py)."""
    win = Window(0, top, width, bottom - top)
    ref_img, ref_bad, valid_ref = fill_nan(torch.from_numpy(ref_reader.read(win)).to(device))
    sec_img, sec_bad, valid_sec = fill_nan(torch.from_numpy(sec_reader.read(win)).to(device))
    ref_img = apply_prefilter(ref_img, prefilter)
    sec_img = apply_prefilter(sec_img, prefilter)
    # CPU: blocks that stay in cache; GPU: one pass (many small blocks would be many launches)
    tile = (256, 1024) if device.type == "cpu" else (1 << 30, 1 << 30)
    energy, sums = local_tables(sec_img, sizes, (block,) if block and sizes else (), tile)
    return PreparedStrip(
        top, ref_img, sec_img, ref_bad, sec_bad, valid_ref, valid_sec, energy, sums.get(block)
    )
