"""RRDB generator of ESRGAN (Wang et al. 2018) for one-band rasters such as DEMs.

Residual-in-residual dense blocks of 3x3 convolutions, x2 or x4 by sub-pixel convolution
(PixelShuffle) stages as the DEM super-resolution paper describes. Two options beyond the paper,
both off by default so the paper-size network is the plain ESRGAN generator:

- ``cubic_skip``: the network predicts a residual added to bicubic upsampling of its input.
- ``affine_equivariant``: no biases and zero-mean first-layer kernels, so that
  ``G(a*x + b) == a*G(x) + b`` for every ``a > 0`` and ``b``. A DEM's offset and relief then do
  not change the prediction, per-tile normalisation is exact, and overlapping tiles agree.
- ``back_projection``: the output is corrected so that each ``scale x scale`` block averages
  exactly to its low-resolution pixel.
- ``spline_skip``: the network predicts a residual added to the back-projected cubic spline
  (:mod:`.spline_bp`) instead of bicubic; with ``back_projection`` the correction of the block
  means is itself a back-projected spline (smooth), not a nearest-neighbour step, so neither the
  skip nor the correction adds texture with the period of the scale. The last convolution starts
  at zero, so an untrained network is exactly the spline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import register_arch
from .spline_bp import SplineBackProjection


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with residual scaling.

    Args:
        num_feat: channels in and out. Default 64.
        num_grow_ch: channels added by each inner convolution. Default 32.
        bias: whether the convolutions have biases. Default True.
        res_scale: residual scaling factor. Default 0.2.
    """

    def __init__(
        self, num_feat: int = 64, num_grow_ch: int = 32, bias: bool = True, res_scale: float = 0.2
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(
                num_feat + i * num_grow_ch, num_grow_ch if i < 4 else num_feat, 3, 1, 1, bias=bias
            )
            for i in range(5)
        )
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(self.lrelu(out))
        return x + out * self.res_scale


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks inside a scaled residual."""

    def __init__(
        self, num_feat: int, num_grow_ch: int, bias: bool = True, res_scale: float = 0.2
    ) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch, bias, res_scale)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch, bias, res_scale)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch, bias, res_scale)
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.rdb3(self.rdb2(self.rdb1(x))) * self.res_scale


@register_arch(
    bounds={
        "num_in_ch": (1, 16),
        "num_out_ch": (1, 16),
        "num_feat": (1, 256),
        "num_block": (1, 64),
        "num_grow_ch": (1, 128),
        "res_scale": (0.0, 1.0),
    },
    choices={"scale": (2, 4)},
)
class RRDBNet(nn.Module):
    """ESRGAN generator with sub-pixel upsampling.

    Args:
        num_in_ch: input channels. Default 1 (a DEM).
        num_out_ch: output channels. Default 1.
        scale: upsampling factor, 2 or 4 (one or two PixelShuffle x2 stages). Default 4.
        num_feat: feature channels. Default 64 (paper).
        num_block: number of RRDB blocks. Default 23 (paper).
        num_grow_ch: growth channels of the dense blocks. Default 32 (paper).
        res_scale: residual scaling. Default 0.2 (paper).
        cubic_skip: add bicubic upsampling of the input to the output. Default False.
        affine_equivariant: bias-free, zero-mean first kernels (see module doc). Default False.
        back_projection: make each output block average to its input pixel. Default False.
        spline_skip: add the back-projected cubic spline instead of bicubic (excludes
            ``cubic_skip``). Default False.
    """

    def __init__(
        self,
        num_in_ch: int = 1,
        num_out_ch: int = 1,
        scale: int = 4,
        num_feat: int = 64,
        num_block: int = 23,
        num_grow_ch: int = 32,
        res_scale: float = 0.2,
        cubic_skip: bool = False,
        affine_equivariant: bool = False,
        back_projection: bool = False,
        spline_skip: bool = False,
    ) -> None:
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, got {scale}")
        if (cubic_skip or back_projection or spline_skip) and num_in_ch != num_out_ch:
            raise ValueError(
                "cubic_skip, spline_skip and back_projection need num_in_ch == num_out_ch"
            )
        if cubic_skip and spline_skip:
            raise ValueError("choose one of cubic_skip and spline_skip")
        bias = not affine_equivariant
        self.scale = scale
        self.cubic_skip = cubic_skip
        self.affine_equivariant = affine_equivariant
        self.back_projection = back_projection
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1, bias=bias)
        self.body = nn.Sequential(
            *(RRDB(num_feat, num_grow_ch, bias, res_scale) for _ in range(num_block))
        )
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=bias)
        self.upconvs = nn.ModuleList(
            nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1, bias=bias) for _ in range(scale // 2)
        )
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=bias)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1, bias=bias)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)
        self.spline_skip = spline_skip
        self.spline = SplineBackProjection(scale) if spline_skip else None
        if spline_skip:
            nn.init.zeros_(self.conv_last.weight)
            if self.conv_last.bias is not None:
                nn.init.zeros_(self.conv_last.bias)

    def _first(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.conv_first.weight
        if self.affine_equivariant:
            weight = weight - weight.mean(dim=(1, 2, 3), keepdim=True)
            # Replicate padding keeps a constant offset constant at the border, so the
            # zero-mean kernels cancel it there too.
            return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, None)
        return F.conv2d(x, weight, self.conv_first.bias, padding=1)

    # Rows of low-resolution features sent through the upsampling tail at once in inference
    # (not a constructor argument: it changes memory, not results). The tail's receptive field
    # is under 2 input pixels, so chunks with a 2-pixel halo give exactly the unchunked result.
    tail_chunk_rows: int = 64
    TAIL_HALO = 2

    def _tail(self, feat: torch.Tensor) -> torch.Tensor:
        for upconv in self.upconvs:
            feat = self.lrelu(self.pixel_shuffle(upconv(feat)))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self._first(x)
        feat = feat + self.conv_body(self.body(feat))
        rows, chunk, halo, s = feat.shape[-2], self.tail_chunk_rows, self.TAIL_HALO, self.scale
        if self.training or torch.is_grad_enabled() or rows <= chunk:
            out = self._tail(feat)
        else:
            pieces = []
            for r0 in range(0, rows, chunk):
                a, b = max(r0 - halo, 0), min(r0 + chunk + halo, rows)
                piece = self._tail(feat[..., a:b, :])
                pieces.append(piece[..., (r0 - a) * s : (r0 - a + min(chunk, rows - r0)) * s, :])
            out = torch.cat(pieces, dim=-2)
        if self.cubic_skip:
            out = out + F.interpolate(
                x, scale_factor=self.scale, mode="bicubic", align_corners=False
            )
        if self.spline is not None:
            out = out + self.spline(x)
            if self.back_projection:
                return out + self.spline(x - F.avg_pool2d(out, self.scale))
            return out
        if self.back_projection:
            error = x - F.avg_pool2d(out, self.scale)
            out = out + F.interpolate(error, scale_factor=self.scale, mode="nearest")
        return out


def rrdbnet_parameter_count(
    num_in_ch: int = 1,
    num_out_ch: int = 1,
    scale: int = 4,
    num_feat: int = 64,
    num_block: int = 23,
    num_grow_ch: int = 32,
    bias: bool = True,
) -> int:
    """Analytic number of parameters of :class:`RRDBNet`, counted layer by layer."""

    def conv(cin: int, cout: int) -> int:
        return 9 * cin * cout + (cout if bias else 0)

    rdb = sum(
        conv(num_feat + i * num_grow_ch, num_grow_ch if i < 4 else num_feat) for i in range(5)
    )
    total = conv(num_in_ch, num_feat) + num_block * 3 * rdb + conv(num_feat, num_feat)
    total += (scale // 2) * conv(num_feat, 4 * num_feat)
    total += conv(num_feat, num_feat) + conv(num_feat, num_out_ch)
    return total
