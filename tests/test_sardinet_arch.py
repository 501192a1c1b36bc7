"""SARDINet and its DEM fusion variants: shapes, the paper's conditioning weight counts, the
balanced separable convolution, registry bounds."""

from __future__ import annotations

import pytest
import torch
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.models.archs.registry import build_network
from geohazard.engine.models.archs.sardinet_arch import (
    FUSIONS,
    BalancedSeparableConv,
    SARDINet,
    conditioning_weights,
)
from torch.nn.functional import conv2d


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    """Tiny networks run fastest on one thread (two threads thrash on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = dict(
    cond_features=8, features=16, enc_mid=12, enc_out=16, dec1=8, dec2=4,
    inter_spatial1=2, inter_spatial2=4,
)  # fmt: skip


@pytest.mark.parametrize("fusion", FUSIONS)
def test_tiny_variants_map_sar_and_dem_to_rgb_on_the_same_grid(fusion: str) -> None:
    torch.manual_seed(0)
    net = SARDINet(fusion, **TINY)
    bands = 2 if fusion == "sar-only" else 3
    for h, w in ((32, 40), (27, 45)):  # multiple of 8, and not (padded and cropped)
        with torch.no_grad():
            out = net(torch.randn(2, bands, h, w))
        assert out.shape == (2, 3, h, w)
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    with pytest.raises(ValueError, match=f"expects {bands} input bands, got {5 - bands}"):
        net(torch.randn(1, 5 - bands, 16, 16))


def test_late_fusion_keeps_sar_and_dem_apart_until_concatenation() -> None:
    torch.manual_seed(1)
    net = SARDINet("late", **TINY).eval()
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[:, 2] += 5.0  # change only the DEM
    a, b = net.condition(x), net.condition(y)
    half = TINY["features"] // 2
    assert torch.equal(a[:, :half], b[:, :half])  # the SAR branch does not see the DEM
    assert not torch.allclose(a[:, half:], b[:, half:])


def test_balanced_separable_convolution_is_the_papers_figure() -> None:
    """K_S depthwise kernels per channel; the same K_C pointwise kernels on each of the K_S
    groups (the k-th spatial map of every channel); K_S x K_C output maps."""
    torch.manual_seed(2)
    cin, ks, kc = 3, 4, 5
    bsc = BalancedSeparableConv(cin, ks, kc)
    x = torch.randn(2, cin, 9, 11)
    out = bsc(x)
    assert out.shape == (2, ks * kc, 9, 11)
    dw = bsc.depthwise.weight  # (cin * ks, 1, 3, 3): channel c, kernel k at index c * ks + k
    pw = bsc.pointwise.weight[:, :, 0, 0]  # (kc, cin)
    for k in range(ks):
        group = torch.cat(
            [
                conv2d(x[:, c : c + 1], dw[c * ks + k : c * ks + k + 1], padding=1)
                for c in range(cin)
            ],
            dim=1,
        )  # fmt: skip
        expected = torch.einsum("oc,bchw->bohw", pw, group)
        assert torch.allclose(out[:, k * kc : (k + 1) * kc], expected, atol=1e-5)
    assert sum(p.numel() for p in bsc.parameters()) == cin * ks * 9 + cin * kc


def test_paper_size_conditioning_weights_match_the_igarss_table() -> None:
    counts = {f: conditioning_weights(SARDINet(f)) for f in FUSIONS}
    totals = {f: sum(p.numel() for p in SARDINet(f).parameters()) for f in FUSIONS}
    for f in FUSIONS:
        print(f"SARDINet {f:>12}: input conditioning {counts[f]:>7,} weights; "
              f"whole network {totals[f]:,} parameters")  # fmt: skip
    # IGARSS 2024: "reducing the number of learning weights from 223.776 to 9.852"
    assert counts["late"] == 223_776  # 2*96*9 + 96*128*9 (SAR) + 1*96*9 + 96*128*9 (DEM)
    assert counts["intermediate"] == 9_852  # 3*8*9 + 3*12 + 96*4*9 + 96*64
    assert counts["early"] == 223_776  # 3*96*9 + 96*256*9: the same count as late
    assert counts["sar-only"] == 222_912  # 2*96*9 + 96*256*9


def test_registry_builds_variants_and_refuses_hostile_cards() -> None:
    net = build_network({"type": "SARDINet", "fusion": "intermediate", **TINY})
    assert isinstance(net, SARDINet) and net.in_channels == 3
    with pytest.raises(GeohazardError, match="fusion"):
        build_network({"type": "SARDINet", "fusion": "mid", **TINY})
    with pytest.raises(GeohazardError, match="outside the range"):
        build_network({"type": "SARDINet", "enc_out": 100_000})
    with pytest.raises(GeohazardError, match="Invalid configuration"):
        build_network(
            {"type": "SARDINet", "fusion": "intermediate", **{**TINY, "inter_spatial1": 3}}
        )


def test_tiny_network_learns_a_colour_mapping() -> None:
    """A few Adam steps with the paper's MAE loss reduce the loss (the network can train)."""
    torch.manual_seed(3)
    net = SARDINet("early", **TINY)
    x = torch.rand(2, 3, 16, 16)
    target = torch.stack([x[:, 0], x[:, 1], x[:, 2] * 0.5], dim=1)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = torch.nn.functional.l1_loss(net(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
