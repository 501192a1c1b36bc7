"""How amplitude images and the NCC prior are fed to CC-ResSiamNet, the same in training and use.

- Amplitudes: natural logarithm (speckle becomes additive and brightness changes become offsets),
  then standardised over the tile's finite pixels; nodata becomes 0 (the mean).
- Prior: pixels outside the grid of window centres (NaN when read from the coarse prior raster)
  take the nearest value, as the training prior does (GridPrior.to_pixels clamps).
- Tiles are padded at the bottom and right by reflection to a multiple of the network's
  ``multiple`` and cropped back afterwards.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

AMPLITUDE_KIND = "log-amplitude-standardised-per-tile"
FLOOR = 1e-6


def normalise_amplitude(amplitude: np.ndarray) -> np.ndarray:
    """float32 standardised log amplitude; 0 where nodata (NaN) or where the tile is constant."""
    a = np.asarray(amplitude, dtype=np.float64)
    ok = np.isfinite(a)
    if not ok.any():
        return np.zeros(a.shape, np.float32)
    positive = a[ok & (a > 0)]
    floor = FLOOR * (float(np.median(positive)) if positive.size else 1.0)
    log = np.log(np.maximum(np.where(ok, a, floor), floor))
    mean, std = float(log[ok].mean()), float(log[ok].std())
    out = (log - mean) / max(std, 1e-6)
    out[~ok] = 0.0
    return out.astype(np.float32)


def fill_nearest(channels: np.ndarray) -> np.ndarray:
    """(C, H, W) with NaN replaced by the nearest finite value of the same position (all channels
    share one mask); zeros when nothing is finite."""
    bad = ~np.isfinite(channels).all(axis=0)
    if not bad.any():
        return channels.astype(np.float32, copy=False)
    if bad.all():
        return np.zeros(channels.shape, np.float32)
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return channels[:, idx[0], idx[1]].astype(np.float32)


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the last two axes at the bottom/right up to a multiple of ``multiple``."""
    h, w = image.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return image
    pad = [(0, 0)] * (image.ndim - 2) + [(0, ph), (0, pw)]
    if h > ph and w > pw:
        return np.pad(image, pad, mode="reflect")
    return np.pad(image, pad, mode="edge")
