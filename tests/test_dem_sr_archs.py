"""RRDB generator and VGG-style discriminator: shapes, parameter counts, equivariance, registry."""

from __future__ import annotations

import pytest
import torch
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.models.archs.discriminator_arch import VGGStyleDiscriminator
from geohazard.engine.models.archs.registry import build_network
from geohazard.engine.models.archs.rrdbnet_arch import RRDBNet, rrdbnet_parameter_count

TINY = dict(num_feat=8, num_block=1, num_grow_ch=4)


@pytest.mark.parametrize("scale", [2, 4])
def test_tiny_generator_output_shape(scale: int) -> None:
    net = RRDBNet(scale=scale, **TINY)
    out = net(torch.randn(2, 1, 12, 20))
    assert out.shape == (2, 1, 12 * scale, 20 * scale)


def test_scale_three_is_refused() -> None:
    with pytest.raises(ValueError, match="scale must be 2 or 4"):
        RRDBNet(scale=3, **TINY)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("scale", [2, 4])
def test_tiny_parameter_count_matches_analytic(scale: int, bias: bool) -> None:
    net = RRDBNet(scale=scale, affine_equivariant=not bias, **TINY)
    assert sum(p.numel() for p in net.parameters()) == rrdbnet_parameter_count(
        scale=scale, bias=bias, **TINY
    )


def test_paper_size_x4_parameter_count() -> None:
    net = RRDBNet(num_in_ch=1, num_out_ch=1, scale=4)  # 64 features, 23 blocks, growth 32
    counted = sum(p.numel() for p in net.parameters())
    analytic = rrdbnet_parameter_count(scale=4)
    # By hand: a dense block has four 3x3 convs (64+32i -> 32) and one (192 -> 64), with biases;
    # then conv_first, 23 x 3 dense blocks, conv_body, two x2 sub-pixel convs, conv_hr, conv_last.
    rdb = sum(9 * (64 + 32 * i) * 32 + 32 for i in range(4)) + 9 * (64 + 128) * 64 + 64
    by_hand = (
        (9 * 1 * 64 + 64)
        + 23 * 3 * rdb
        + (9 * 64 * 64 + 64)
        + 2 * (9 * 64 * 256 + 256)
        + (9 * 64 * 64 + 64)
        + (9 * 64 * 1 + 1)
    )
    print(f"paper-size RRDBNet x4 (1 band): {counted:,} parameters")
    assert counted == analytic == by_hand == 16_917_249


def test_bundled_size_generator_is_small() -> None:
    from geohazard.engine.families.dem_sr.training import small_generator

    net = build_network(small_generator(4))
    assert sum(p.numel() for p in net.parameters()) < 1_000_000


def test_affine_equivariance_makes_normalisation_irrelevant() -> None:
    torch.manual_seed(0)
    net = RRDBNet(
        scale=2, cubic_skip=True, affine_equivariant=True, back_projection=True, **TINY
    ).double()
    x = torch.randn(1, 1, 10, 14, dtype=torch.float64)
    y = net(x)
    assert torch.allclose(net(37.5 * x + 812.0), 37.5 * y + 812.0, atol=1e-9)


def test_back_projection_restores_block_means() -> None:
    torch.manual_seed(0)
    net = RRDBNet(scale=4, cubic_skip=True, back_projection=True, **TINY).double()
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    y = net(x)
    assert torch.allclose(torch.nn.functional.avg_pool2d(y, 4), x, atol=1e-12)


def test_discriminator_outputs_one_logit_per_patch() -> None:
    disc = VGGStyleDiscriminator(num_feat=4, input_size=32, dense_features=8)
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 8 and convs[-1].out_channels == 4 * 8
    assert disc(torch.randn(3, 1, 32, 32)).shape == (3, 1)
    with pytest.raises(ValueError, match="expected 32x32"):
        disc(torch.randn(1, 1, 48, 48))


def test_paper_discriminator_channels_64_to_512() -> None:
    disc = VGGStyleDiscriminator()
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]


def test_registry_builds_from_card_config_and_names_errors() -> None:
    net = build_network({"type": "RRDBNet", "scale": 2, **TINY})
    assert isinstance(net, RRDBNet)
    with pytest.raises(GeohazardError, match="Unknown architecture 'Nope'"):
        build_network({"type": "Nope"})
    with pytest.raises(GeohazardError, match="RRDBNet has no argument.*num_blocks"):
        build_network({"type": "RRDBNet", "num_blocks": 3})


@pytest.mark.parametrize("scale", [2, 4])
def test_chunked_upsampling_tail_equals_one_pass(scale: int) -> None:
    torch.manual_seed(0)
    net = RRDBNet(scale=scale, cubic_skip=True, back_projection=True, **TINY).eval()
    x = torch.randn(1, 1, 37, 29)
    with torch.no_grad():
        net.tail_chunk_rows = 8
        chunked = net(x)
        net.tail_chunk_rows = 1000
        whole = net(x)
    assert torch.allclose(chunked, whole, atol=1e-5)
