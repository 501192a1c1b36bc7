"""The toy network: one 1x1 convolution, registered like the plugin's own architectures."""

from __future__ import annotations

import torch
from geohazard.engine.models.archs.registry import register_arch
from torch import nn


@register_arch(bounds={"bands": (1, 1)})
class ToyGain(nn.Module):
    """``y = w * x + b`` per pixel.

    Args:
        bands: input and output bands (1).
    """

    def __init__(self, bands: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(bands, bands, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)
