"""VGG-style discriminator of SRGAN/ESRGAN as the DEM super-resolution paper describes it.

Eight 3x3 convolutions whose channels grow from ``num_feat`` to ``8 * num_feat`` (64 -> 512 in
the paper), stride 2 on every second one, LeakyReLU 0.2 and no max-pooling, then two dense
layers. ``forward`` returns the logit; the sigmoid of the paper is applied inside the loss
(``binary_cross_entropy_with_logits``), which is the same function computed more stably.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_arch


@register_arch(
    bounds={
        "num_in_ch": (1, 16),
        "num_feat": (1, 128),
        "input_size": (16, 1024),
        "dense_features": (1, 4096),
    }
)
class VGGStyleDiscriminator(nn.Module):
    """Binary real/fake classifier of fixed-size patches.

    Args:
        num_in_ch: input channels. Default 1.
        num_feat: channels of the first convolution; doubled every two convs. Default 64.
        input_size: side of the square input patch, a multiple of 16. Default 96 (SRGAN).
        dense_features: width of the first dense layer. Default 1024 (SRGAN).
    """

    def __init__(
        self,
        num_in_ch: int = 1,
        num_feat: int = 64,
        input_size: int = 96,
        dense_features: int = 1024,
    ) -> None:
        super().__init__()
        if input_size % 16:
            raise ValueError(f"input_size must be a multiple of 16, got {input_size}")
        self.input_size = input_size
        layers: list[nn.Module] = []
        cin = num_in_ch
        for i in range(8):
            cout = num_feat * 2 ** (i // 2)
            layers.append(nn.Conv2d(cin, cout, 3, 1 + i % 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = cout
        self.features = nn.Sequential(*layers)
        side = input_size // 16
        self.dense1 = nn.Linear(cin * side * side, dense_features)
        self.dense2 = nn.Linear(dense_features, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each LeakyReLU, used for the feature-matching loss."""
        maps = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                maps.append(x)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            raise ValueError(
                f"expected {self.input_size}x{self.input_size} patches, got {tuple(x.shape[-2:])}"
            )
        feat = self.features(x).flatten(1)
        return self.dense2(self.lrelu(self.dense1(feat)))
