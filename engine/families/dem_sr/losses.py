"""Loss terms of DEM super-resolution training.

No VGG weights can be downloaded, so the paper's perceptual term is replaced by terms that
matter for terrain and need no pretrained network: an L1 loss on the slope components
(finite differences, i.e. the gradient field) and discriminator feature matching (L1 between
the discriminator's activations on real and generated patches). A user-supplied feature
network can be passed instead (``feature_net``), in which case its activations are compared.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gradient_l1(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """L1 between the x and y finite differences (the slope field) of two DEM batches."""
    dx = (sr[..., :, 1:] - sr[..., :, :-1]) - (hr[..., :, 1:] - hr[..., :, :-1])
    dy = (sr[..., 1:, :] - sr[..., :-1, :]) - (hr[..., 1:, :] - hr[..., :-1, :])
    return 0.5 * (dx.abs().mean() + dy.abs().mean())


def feature_matching(maps_fake: list[torch.Tensor], maps_real: list[torch.Tensor]) -> torch.Tensor:
    """Mean L1 between corresponding activations (real ones detached)."""
    terms = [F.l1_loss(f, r.detach()) for f, r in zip(maps_fake, maps_real)]
    return torch.stack(terms).mean()


def user_feature_loss(feature_net: nn.Module, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """L1 between a user-supplied feature network's outputs (the paper's perceptual loss)."""
    with torch.no_grad():
        target = feature_net(hr)
    return F.l1_loss(feature_net(sr), target)


def adversarial_g(logits_fake: torch.Tensor) -> torch.Tensor:
    """Generator's non-saturating GAN loss: -log D(G(x))."""
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def adversarial_d(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator's loss: -log D(y) - log(1 - D(G(x)))."""
    real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return 0.5 * (real + fake)
