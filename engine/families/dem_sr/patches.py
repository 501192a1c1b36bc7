"""Training patches: HR/LR pairs sampled from DEMs (stratified by elevation) or grayscale images.

Each patch is normalised with the statistics of its own low-resolution version
(:class:`~.normalise.TileNorm`), exactly as a tile is at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .degrade import block_mean, sensor_degrade
from .tile_norm import TileNorm


@dataclass
class PatchSource:
    """A 2-D array to sample from, with an optional mask of pixels patches may cover.

    Args:
        array: float32 values (metres or grey levels); NaN pixels are never sampled.
        allowed: boolean mask of usable pixels (None: all finite pixels).
        weight: relative probability of drawing from this source.
        name: for logs and model cards.
    """

    array: np.ndarray
    allowed: np.ndarray | None = None
    weight: float = 1.0
    name: str = ""


class PatchSampler:
    """Draws batches of (lr, hr) normalised patch pairs.

    Sources are drawn with probability proportional to their weight. Within a source, candidate
    patch positions on a grid of stride ``hr_size // 4`` are grouped into ``elevation_bins``
    equal-width bins of their mean value; a non-empty bin is drawn uniformly, then a position in
    it, so high (rarer) terrain is drawn as often as the common low terrain (the paper's
    oversampling of high elevations). With ``elevation_bins=1`` sampling is uniform. A share
    ``sensor_share`` of the pairs is degraded like a coarser sensor (Gaussian blur before the
    block means) instead of by block means alone.
    """

    def __init__(
        self,
        sources: list[PatchSource],
        hr_size: int,
        scale: int,
        seed: int,
        elevation_bins: int = 8,
        sensor_share: float = 0.0,
    ) -> None:
        if hr_size % scale:
            raise ValueError("hr_size must be a multiple of scale")
        self.hr_size, self.scale = hr_size, scale
        self.sensor_share = sensor_share
        self.rng = np.random.default_rng(seed)
        self.sources: list[PatchSource] = []
        self.bins: list[list[np.ndarray]] = []
        stride = max(hr_size // 4, 1)
        for src in sources:
            valid = np.isfinite(src.array)
            if src.allowed is not None:
                valid &= src.allowed
            # A patch is usable when all its pixels are valid: integral image of invalid pixels.
            bad = np.pad((~valid).astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
            rows, cols = src.array.shape
            rr, cc = np.meshgrid(
                np.arange(0, rows - hr_size + 1, stride),
                np.arange(0, cols - hr_size + 1, stride),
                indexing="ij",
            )
            rr, cc = rr.ravel(), cc.ravel()
            h = hr_size
            count = bad[rr + h, cc + h] - bad[rr, cc + h] - bad[rr + h, cc] + bad[rr, cc]
            keep = count == 0
            rr, cc = rr[keep], cc[keep]
            if rr.size == 0:
                continue
            means = np.array([np.nanmean(src.array[r : r + h, c : c + h]) for r, c in zip(rr, cc)])
            nb = max(1, min(elevation_bins, rr.size))
            # Equal-width bins of patch mean elevation: a rare high massif gets a bin of its own
            # and is drawn as often as the common lowland (quantile bins would not oversample).
            edges = np.linspace(means.min(), means.max(), nb + 1)[1:-1]
            which = np.searchsorted(edges, means)
            groups = [np.stack([rr[which == b], cc[which == b]], 1) for b in range(nb)]
            self.bins.append([g for g in groups if len(g)])
            self.sources.append(src)
        if not self.sources:
            raise ValueError(f"no source is large enough for {hr_size} px patches")
        w = np.array([s.weight for s in self.sources], dtype=np.float64)
        self.source_p = w / w.sum()

    def draw_position(self) -> tuple[int, int, int]:
        """(source index, row, col) of the next patch's top-left corner."""
        i = int(self.rng.choice(len(self.sources), p=self.source_p))
        bins = self.bins[i]
        group = bins[self.rng.integers(len(bins))]
        r, c = group[self.rng.integers(len(group))]
        return i, int(r), int(c)

    def _one(self) -> tuple[np.ndarray, np.ndarray]:
        i, r, c = self.draw_position()
        hr = self.sources[i].array[r : r + self.hr_size, c : c + self.hr_size]
        k = int(self.rng.integers(8))
        hr = np.rot90(hr, k % 4)
        if k >= 4:
            hr = hr[:, ::-1]
        hr = np.ascontiguousarray(hr, dtype=np.float32)
        if self.sensor_share > 0 and self.rng.random() < self.sensor_share:
            lr = sensor_degrade(hr, self.scale)  # a coarser sensor: blur, then block means
        else:
            lr = block_mean(hr, self.scale)
        norm = TileNorm.of(lr)
        return norm.forward(lr), norm.forward(hr)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(lr, hr) tensors of shape (size, 1, h, w), normalised per patch."""
        pairs = [self._one() for _ in range(size)]
        lr = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None])
        hr = torch.from_numpy(np.stack([p[1] for p in pairs])[:, None])
        return lr, hr
