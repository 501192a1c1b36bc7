"""Pre-filters applied to both images before correlation (PREFILTER).

- ``none``: the images as read.
- ``wallis``: local contrast normalisation, (x - local mean) / local standard deviation over a
  ``WALLIS_PX`` square, as autoRIFT applies to Sentinel-1 (Gardner et al. 2018, The Cryosphere).
  It removes brightness and contrast changes between the dates (wet snow, seasonal vegetation,
  a different incidence) that would otherwise bias the NCC peak.
- ``log``: the logarithm of the amplitude or intensity, which turns SAR's multiplicative speckle
  and gain changes into additive ones (NCC is invariant to those) and tames bright scatterers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import GeohazardError

if TYPE_CHECKING:  # torch is imported where used: the algorithm reads PREFILTERS without it
    import torch

PREFILTERS = ("none", "wallis", "log")
WALLIS_PX = 21


def _box_mean(x: torch.Tensor, w: int) -> torch.Tensor:
    """Mean over a w x w square centred on each pixel (edges replicated), same shape as x."""
    import torch

    pad = w // 2
    xp = torch.nn.functional.pad(x[None, None], (pad, pad, pad, pad), mode="replicate")
    return torch.nn.functional.avg_pool2d(xp, w, stride=1)[0, 0]


def apply_prefilter(image: torch.Tensor, name: str) -> torch.Tensor:
    """The filtered image (float32, same shape); ``image`` has its nodata already filled."""
    import torch

    if name == "none":
        return image
    if name == "log":
        positive = image[image > 0]
        floor = float(positive.min()) if positive.numel() else 1.0
        return torch.log(image.clamp_min(floor))
    if name == "wallis":
        x = image - image.mean()
        mean = _box_mean(x, WALLIS_PX)
        var = (_box_mean(x * x, WALLIS_PX) - mean * mean).clamp_min(0)
        return (x - mean) / (var.sqrt() + 1e-6 * float(x.abs().max().clamp_min(1e-30)))
    raise GeohazardError(f"Unknown pre-filter '{name}'; use one of {', '.join(PREFILTERS)}.")
