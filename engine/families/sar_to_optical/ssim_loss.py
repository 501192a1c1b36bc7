"""A differentiable, masked SSIM for the SAR-to-optical training loss.

The same SSIM as the evaluation (metrics.py of this family, after Wang et al. 2004 with
scikit-image's settings): Gaussian window of sigma 1.5 px truncated at 3.5 sigma (11 px),
constants (0.01 L)^2 and (0.03 L)^2 for the data range L = 1, population (co)variances,
computed per band and averaged. Only window centres at least 5 px inside the crop are used
(no padding), each weighted by the validity mask at that centre.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (torch's convention)

SIGMA = 1.5
RADIUS = int(3.5 * SIGMA + 0.5)  # scikit-image's truncate=3.5: an 11 px window
C1, C2 = 0.01**2, 0.03**2


def _window(channels: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    x = torch.arange(-RADIUS, RADIUS + 1, dtype=dtype, device=device)
    g = torch.exp(-(x**2) / (2 * SIGMA**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, -1, -1).contiguous()


def ssim_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SSIM per band at window centres (N, C, H - 10, W - 10) of images in 0..1."""
    c = pred.shape[1]
    w = _window(c, pred.dtype, pred.device)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, w, groups=c)

    mu_p, mu_t = blur(pred), blur(target)
    var_p = blur(pred * pred) - mu_p**2
    var_t = blur(target * target) - mu_t**2
    cov = blur(pred * target) - mu_p * mu_t
    num = (2 * mu_p * mu_t + C1) * (2 * cov + C2)
    den = (mu_p**2 + mu_t**2 + C1) * (var_p + var_t + C2)
    return num / den


def masked_ssim(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean SSIM over bands and valid window centres (``valid``: (N, H, W), bool or 0/1)."""
    smap = ssim_map(pred, target).mean(1)
    r = RADIUS
    weight = valid[:, r:-r, r:-r].to(smap.dtype)
    return (smap * weight).sum() / weight.sum().clamp_min(1.0)
