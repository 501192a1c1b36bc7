"""CC-ResSiamNet: cross-connected Siamese ResNet for dense SAR offset tracking.

After the paper's description (Remote Sensing of Environment 318, 114577, 2025): two
weight-sharing ResNet encoders (reference, secondary) with cross-connections between the branches,
a U-Net decoder with skip connections, residual and attention blocks, and a 2-channel (dx, dy)
output per pixel; inputs include classical offset tracking at several window sizes. Where the
paper is silent (see docs/DECISIONS.md):

- weight sharing is by construction: one encoder module runs on both images (stacked on the batch
  axis), and each level's cross-connection is one module applied symmetrically
  (``a += W[a, b]``, ``b += W[b, a]``), so swapping the images swaps the branches exactly;
- each level's skip fuses both branches with a local correlation (cost volume) between them and
  the NCC prior pooled to that level, followed by a residual and an attention block;
- the prior channels enter there, divided by ``disp_scale``; with ``residual_over_prior`` the
  head predicts a correction added to the prior's first two channels (combined dx, dy in px);
- ``predict_uncertainty`` adds two channels: log of the 1-sigma error of dx and dy, in px.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import register_arch


def _act() -> nn.Module:
    return nn.LeakyReLU(0.1, inplace=True)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut (no normalisation)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), _act(), nn.Conv2d(ch, ch, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.body(x), 0.1)


class Attention(nn.Module):
    """Channel then spatial attention (CBAM-style gates)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        hidden = max(ch // 4, 4)
        self.channel = nn.Sequential(nn.Conv2d(ch, hidden, 1), _act(), nn.Conv2d(hidden, ch, 1))
        self.spatial = nn.Conv2d(2, 1, 7, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * torch.sigmoid(self.channel(x.mean(dim=(2, 3), keepdim=True)))
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.spatial(pooled))


def local_correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """Cost volume: mean over channels of a(p) * b(p + s) for every shift s within ``radius``."""
    if radius == 0:
        return a.new_zeros(a.shape[0], 0, *a.shape[2:])
    h, w = a.shape[2:]
    padded = F.pad(b, (radius, radius, radius, radius))
    out = [
        (a * padded[:, :, i : i + h, j : j + w]).mean(1, keepdim=True)
        for i in range(2 * radius + 1)
        for j in range(2 * radius + 1)
    ]
    return torch.cat(out, 1)


class Fusion(nn.Module):
    """Skip features of one level: both branches, their correlation and the pooled prior."""

    def __init__(self, ch: int, corr_ch: int, prior_ch: int, attention: bool) -> None:
        super().__init__()
        self.mix = nn.Sequential(nn.Conv2d(2 * ch + corr_ch + prior_ch, ch, 1), _act())
        self.res = ResBlock(ch)
        self.att = Attention(ch) if attention else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.att(self.res(self.mix(x)))


@register_arch(
    bounds={
        "num_prior_ch": (0, 32),
        "base_ch": (4, 128),
        "levels": (2, 6),
        "blocks": (1, 8),
        "corr_radius": (0, 6),
        "corr_radius_full": (0, 4),
        "disp_scale": (0.1, 100.0),
        "residual_scale": (0.01, 100.0),
    }
)
class CCResSiamNet(nn.Module):
    """Cross-connected Siamese ResNet U-Net predicting dense (dx, dy) offsets in pixels.

    Args:
        num_prior_ch: prior channels (offset_prior.channel_names order). Default 8 (two sizes).
        base_ch: features at full resolution; level l has base_ch * min(2^l, 4). Default 16.
        levels: encoder levels (full resolution, then halved each level). Default 4.
        blocks: residual blocks per encoder level. Default 1.
        corr_radius: correlation radius at the coarser levels, pixels of that level. Default 3.
        corr_radius_full: correlation radius at full resolution. Default 1.
        attention: attention blocks in the fusions and the decoder. Default True.
        residual_over_prior: add the prior's combined (dx, dy) to the output. Default True.
        disp_scale: pixels per unit of the network's internal offsets. Default 4.
        predict_uncertainty: two more output channels, log 1-sigma of dx and dy. Default False.
        residual_scale: pixels per unit of the head's correction with ``residual_over_prior``;
            None uses ``disp_scale``. A smaller scale lets the first steps of training move the
            prior's offsets by hundredths of a pixel rather than tenths. Default None.
    """

    def __init__(
        self,
        num_prior_ch: int = 8,
        base_ch: int = 16,
        levels: int = 4,
        blocks: int = 1,
        corr_radius: int = 3,
        corr_radius_full: int = 1,
        attention: bool = True,
        residual_over_prior: bool = True,
        disp_scale: float = 4.0,
        predict_uncertainty: bool = False,
        residual_scale: float | None = None,
    ) -> None:
        super().__init__()
        if residual_over_prior and num_prior_ch < 2:
            raise ValueError("residual_over_prior needs the prior's dx, dy channels")
        chs = [base_ch * min(2**lvl, 4) for lvl in range(levels)]
        self.levels, self.num_prior_ch = levels, num_prior_ch
        self.radii = [corr_radius_full] + [corr_radius] * (levels - 1)
        self.residual_over_prior = residual_over_prior
        self.disp_scale: torch.Tensor
        self.out_scale: torch.Tensor
        self.register_buffer("disp_scale", torch.tensor(float(disp_scale)))
        out_scale = residual_scale if residual_over_prior and residual_scale else disp_scale
        self.register_buffer("out_scale", torch.tensor(float(out_scale)), persistent=False)
        self.encoder = nn.ModuleList()
        for lvl, ch in enumerate(chs):
            first = nn.Conv2d(1 if lvl == 0 else chs[lvl - 1], ch, 3, 1 if lvl == 0 else 2, 1)
            self.encoder.append(
                nn.Sequential(first, _act(), *(ResBlock(ch) for _ in range(blocks)))
            )
        self.cross = nn.ModuleList(nn.Conv2d(2 * ch, ch, 1) for ch in chs)
        self.fusion = nn.ModuleList(
            Fusion(ch, (2 * r + 1) ** 2 if r else 0, num_prior_ch, attention)
            for ch, r in zip(chs, self.radii)
        )
        self.decoder = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(chs[lvl + 1] + chs[lvl], chs[lvl], 3, 1, 1),
                _act(),
                ResBlock(chs[lvl]),
                Attention(chs[lvl]) if attention else nn.Identity(),
            )
            for lvl in range(levels - 1)
        )
        self.head = nn.Conv2d(chs[0], 4 if predict_uncertainty else 2, 3, 1, 1)
        nn.init.zeros_(self.head.weight)
        if self.head.bias is not None:
            nn.init.zeros_(self.head.bias)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this."""
        return 2 ** (self.levels - 1)

    def encode(
        self, reference: torch.Tensor, secondary: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(reference, secondary) features after each level's cross-connection."""
        n = reference.shape[0]
        x = torch.cat([reference, secondary], 0)  # one encoder for both images
        feats = []
        for enc, cross in zip(self.encoder, self.cross):
            x = enc(x)
            a, b = x[:n], x[n:]
            ab = cross(torch.cat([torch.cat([a, b], 1), torch.cat([b, a], 1)], 0))
            x = x + ab
            feats.append((x[:n], x[n:]))
        return feats

    def forward(
        self, reference: torch.Tensor, secondary: torch.Tensor, prior: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Offsets (N, 2 or 4, H, W): dx, dy in pixels (then log sigma of each when enabled).

        Args:
            reference: (N, 1, H, W) normalised amplitude of the first date.
            secondary: (N, 1, H, W) normalised amplitude of the second date.
            prior: (N, num_prior_ch, H, W) prior channels in pixels (None when 0 channels).
        """
        h, w = reference.shape[2:]
        if h % self.multiple or w % self.multiple:
            raise ValueError(f"input sides must be multiples of {self.multiple}, got {h} x {w}")
        if self.num_prior_ch:
            if prior is None or prior.shape[1] != self.num_prior_ch:
                raise ValueError(f"expected {self.num_prior_ch} prior channels")
            scaled = prior / self.disp_scale
        skips = []
        for lvl, ((a, b), fusion) in enumerate(zip(self.encode(reference, secondary), self.fusion)):
            parts = [a, b, local_correlation(a, b, self.radii[lvl])]
            if self.num_prior_ch:
                parts.append(F.avg_pool2d(scaled, 2**lvl) if lvl else scaled)
            skips.append(fusion(torch.cat(parts, 1)))
        d = skips[-1]
        for lvl in range(self.levels - 2, -1, -1):
            d = F.interpolate(d, size=skips[lvl].shape[2:], mode="bilinear", align_corners=False)
            d = self.decoder[lvl](torch.cat([d, skips[lvl]], 1))
        out = self.head(d)
        offsets = out[:, :2] * self.out_scale
        if self.residual_over_prior and prior is not None:
            offsets = offsets + prior[:, :2]
        if out.shape[1] == 4:
            return torch.cat([offsets, out[:, 2:] + torch.log(self.disp_scale) - 2.0], 1)
        return offsets
