"""The back-projected cubic spline of :mod:`..spline_upsample` as a torch module.

Used as the skip path of :class:`.rrdbnet_arch.RRDBNet` (``spline_skip``) and, on its own, as
the ``spline`` method of DEM super-resolution (run through the tiled runner like a model). The
kernels are fixed (a buffer that is not saved with the weights). Borders are half-sample
symmetric, as in the numpy version; a last nearest-neighbour correction makes every
``scale x scale`` block average exactly to its input pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...dem.spline_upsample import spline_kernels


def _symmetric_index(n: int, pad: int) -> torch.Tensor:
    """Indices of a half-sample symmetric extension by ``pad`` on both sides (any ``pad``)."""
    idx = torch.arange(-pad, n + pad) % (2 * n)
    return torch.where(idx >= n, 2 * n - 1 - idx, idx)


class SplineBackProjection(nn.Module):
    """``(B, C, H, W) -> (B, C, H*scale, W*scale)``: back-projected cubic spline upsampling."""

    kernels: torch.Tensor

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        k = torch.from_numpy(spline_kernels(scale)).flip(-1)  # conv2d correlates: flip
        self.radius = (k.shape[-1] - 1) // 2
        self.register_buffer("kernels", k.float()[:, None, None, :], persistent=False)

    def _along_width(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        idx = _symmetric_index(w, self.radius).to(x.device)
        padded = x.reshape(b * c, 1, h, w).index_select(-1, idx)
        phases = F.conv2d(padded, self.kernels.to(x.dtype))  # (b*c, scale, h, w)
        return phases.permute(0, 2, 3, 1).reshape(b, c, h, w * self.scale)

    def smooth(self, x: torch.Tensor) -> torch.Tensor:
        """The separable spline alone (block means exact up to the kernels' tiny tail)."""
        wide = self._along_width(x)
        return self._along_width(wide.transpose(-1, -2)).transpose(-1, -2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.smooth(x)
        error = x - F.avg_pool2d(out, self.scale)
        return out + F.interpolate(error, scale_factor=self.scale, mode="nearest")
