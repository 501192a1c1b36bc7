"""SARDINet (Bralet et al., ICIP 2022) with the DEM fusion variants of Bralet et al. (IGARSS 2024).

Three steps: input conditioning (noise removal, coarse features, stride 2), an encoder of three
parallel branches of separable convolutions (depthwise 3x3 + pointwise 1x1, two max-pools each)
whose outputs are summed, and one decoder branch per output channel (three times nearest x2
upsampling and two 5x5 convolutions). The output is at the input's resolution.

The fusion variant only changes the input conditioning (input channels: VV, VH, then the DEM):

- ``sar-only``: conv3x3 (2 -> 96, stride 2), conv3x3 (96 -> 256): the original SARDINet.
- ``early``: the same on the stacked SAR and DEM (3 -> 96 -> 256).
- ``late``: one branch per source, conv3x3 (n -> 96, stride 2), conv3x3 (96 -> 128),
  concatenated.
- ``intermediate``: two balanced separable convolutions (:class:`BalancedSeparableConv`),
  3 -> 8 x 12 = 96 maps (stride 2) and 96 -> 4 x 64 = 256 maps.

Conditioning convolutions are bias-free and followed by batch normalisation and ReLU, so their
kernel weights are exactly what the IGARSS paper counts (223,776 late, 9,852 intermediate; see
:func:`conditioning_weights`). Choices beyond the papers (the three encoder branches differ by
dilation 1, 2, 3; the last decoder stage is 16 -> 16 -> 1 with a sigmoid) are in
docs/DECISIONS.md.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .registry import register_arch

FUSIONS = ("sar-only", "early", "late", "intermediate")
BRANCH_DILATIONS = (1, 2, 3)
DOWNSAMPLING = 8  # stride-2 conditioning and two max-pools


def _bn_relu(channels: int, norm: bool) -> list[nn.Module]:
    return ([nn.BatchNorm2d(channels)] if norm else []) + [nn.ReLU(inplace=True)]


def _conv(cin: int, cout: int, stride: int, norm: bool) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=not norm), *_bn_relu(cout, norm)]


class BalancedSeparableConv(nn.Module):
    """Depthwise ``spatial`` 3x3 kernels per channel, then the same ``channel`` pointwise kernels
    on each of the ``spatial`` groups of maps: ``spatial x channel`` output maps.

    Args:
        in_channels: input channels.
        spatial: depthwise kernels per input channel (K_S).
        channel: pointwise kernels shared by the groups (K_C).
        stride: stride of the depthwise convolution. Default 1.
    """

    def __init__(self, in_channels: int, spatial: int, channel: int, stride: int = 1) -> None:
        super().__init__()
        self.spatial = spatial
        self.depthwise = nn.Conv2d(
            in_channels, in_channels * spatial, 3, stride, 1, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(in_channels, channel, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.depthwise(x)  # channels ordered (input channel, spatial kernel)
        b, _, h, w = d.shape
        groups = d.view(b, -1, self.spatial, h, w).transpose(1, 2)  # (b, K_S, C_in, h, w)
        out = self.pointwise(groups.reshape(b * self.spatial, -1, h, w))
        return out.view(b, -1, h, w)  # (b, K_S * K_C, h, w), grouped by spatial kernel


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 (dilated) then pointwise 1x1, batch norm and ReLU (Xception style)."""

    def __init__(self, cin: int, cout: int, dilation: int, norm: bool) -> None:
        super().__init__(
            nn.Conv2d(cin, cin, 3, 1, dilation, dilation=dilation, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=not norm),
            *_bn_relu(cout, norm),
        )


class DecoderBranch(nn.Sequential):
    """Three stages of nearest x2 upsampling and two 5x5 convolutions, down to one channel."""

    def __init__(self, cin: int, dec1: int, dec2: int, norm: bool) -> None:
        layers: list[nn.Module] = []
        for a, b in ((cin, dec1), (dec1, dec2)):
            layers += [nn.Upsample(scale_factor=2, mode="nearest")]
            layers += [nn.Conv2d(a, b, 5, 1, 2, bias=not norm), *_bn_relu(b, norm)]
            layers += [nn.Conv2d(b, b, 5, 1, 2, bias=not norm), *_bn_relu(b, norm)]
        layers += [nn.Upsample(scale_factor=2, mode="nearest")]
        layers += [nn.Conv2d(dec2, dec2, 5, 1, 2, bias=not norm), *_bn_relu(dec2, norm)]
        layers += [nn.Conv2d(dec2, 1, 5, 1, 2), nn.Sigmoid()]
        super().__init__(*layers)


@register_arch(
    name="SARDINet",
    bounds={
        "sar_channels": (1, 4),
        "dem_channels": (1, 2),
        "out_channels": (1, 4),
        "cond_features": (4, 256),
        "features": (8, 512),
        "enc_mid": (8, 1024),
        "enc_out": (8, 1024),
        "dec1": (2, 256),
        "dec2": (2, 128),
        "inter_spatial1": (1, 32),
        "inter_spatial2": (1, 32),
    },
    choices={"fusion": FUSIONS},
)
class SARDINet(nn.Module):
    """SARDINet with an optional DEM fused in the input conditioning.

    Input: (batch, sar_channels [+ dem_channels], H, W): VV, VH (log-compressed) and, for the
    fusion variants, the DEM divided by its maximum elevation. Output: (batch, out_channels,
    H, W) in [0, 1] (the linearly stretched optical image / 255). Any H and W work: the input
    is padded by reflection to a multiple of 8 and the output cropped back.

    Args:
        fusion: ``sar-only``, ``early``, ``late`` or ``intermediate``. Default ``late``.
        sar_channels: SAR bands (VV, VH). Default 2.
        dem_channels: DEM bands. Default 1.
        out_channels: optical bands, one decoder branch each (RGB). Default 3.
        cond_features: first conditioning layer's features. Default 96 (paper).
        features: conditioning output = encoder input features. Default 256 (paper).
        enc_mid: encoder features after the first separable convolution. Default 396 (paper).
        enc_out: encoder output features. Default 512 (paper).
        dec1: decoder features after the first stage. Default 64 (paper).
        dec2: decoder features after the second stage. Default 16 (paper).
        inter_spatial1: K_S of the first balanced separable convolution (its K_C is
            cond_features / K_S). Default 8 (8 x 12 = 96).
        inter_spatial2: K_S of the second (K_C = features / K_S). Default 4 (4 x 64 = 256).
        norm: batch normalisation after convolutions (bias-free convolutions). Default True.
    """

    def __init__(
        self,
        fusion: str = "late",
        sar_channels: int = 2,
        dem_channels: int = 1,
        out_channels: int = 3,
        cond_features: int = 96,
        features: int = 256,
        enc_mid: int = 396,
        enc_out: int = 512,
        dec1: int = 64,
        dec2: int = 16,
        inter_spatial1: int = 8,
        inter_spatial2: int = 4,
        norm: bool = True,
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        self.fusion = fusion
        self.sar_channels = sar_channels
        self.in_channels = sar_channels + (0 if fusion == "sar-only" else dem_channels)
        self.conditioning = self._conditioning(
            fusion, sar_channels, dem_channels, cond_features, features,
            inter_spatial1, inter_spatial2, norm,
        )  # fmt: skip
        self.encoder = nn.ModuleList(
            nn.Sequential(
                SeparableConv(features, enc_mid, d, norm),
                nn.MaxPool2d(2),
                SeparableConv(enc_mid, enc_out, d, norm),
                nn.MaxPool2d(2),
            )
            for d in BRANCH_DILATIONS
        )
        self.decoder = nn.ModuleList(
            DecoderBranch(enc_out, dec1, dec2, norm) for _ in range(out_channels)
        )

    @staticmethod
    def _conditioning(
        fusion: str, n_sar: int, n_dem: int, f1: int, f2: int, ks1: int, ks2: int, norm: bool
    ) -> nn.Module:
        if fusion in ("sar-only", "early"):
            n_in = n_sar + (n_dem if fusion == "early" else 0)
            return nn.Sequential(*_conv(n_in, f1, 2, norm), *_conv(f1, f2, 1, norm))
        if fusion == "late":
            if f2 % 2:
                raise ValueError(f"late fusion needs an even number of features, got {f2}")
            return nn.ModuleList(
                nn.Sequential(*_conv(n, f1, 2, norm), *_conv(f1, f2 // 2, 1, norm))
                for n in (n_sar, n_dem)
            )
        if f1 % ks1 or f2 % ks2:
            raise ValueError(
                f"intermediate fusion needs cond_features divisible by inter_spatial1 ({f1} / "
                f"{ks1}) and features divisible by inter_spatial2 ({f2} / {ks2})"
            )
        return nn.Sequential(
            BalancedSeparableConv(n_sar + n_dem, ks1, f1 // ks1, stride=2),
            *_bn_relu(f1, norm),
            BalancedSeparableConv(f1, ks2, f2 // ks2),
            *_bn_relu(f2, norm),
        )

    def condition(self, x: torch.Tensor) -> torch.Tensor:
        """Input conditioning: (batch, in_channels, H, W) -> (batch, features, H/2, W/2)."""
        if self.fusion == "late":
            if not isinstance(self.conditioning, nn.ModuleList):
                raise TypeError("late fusion needs two conditioning branches")
            sar, dem = x[:, : self.sar_channels], x[:, self.sar_channels :]
            return torch.cat([self.conditioning[0](sar), self.conditioning[1](dem)], dim=1)
        return self.conditioning(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"SARDINet ({self.fusion}) expects {self.in_channels} input bands, "
                f"got {x.shape[1]}"
            )
        h, w = x.shape[-2:]
        ph, pw = -h % DOWNSAMPLING, -w % DOWNSAMPLING
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        feat = self.condition(x)
        latent = sum(branch(feat) for branch in self.encoder)
        out = torch.cat([branch(latent) for branch in self.decoder], dim=1)
        return out[..., :h, :w]


def conditioning_weights(net: SARDINet) -> int:
    """Convolution kernel weights of the input conditioning (no biases, no normalisation),
    the quantity the IGARSS 2024 paper compares between fusion variants."""
    return sum(m.weight.numel() for m in net.conditioning.modules() if isinstance(m, nn.Conv2d))
