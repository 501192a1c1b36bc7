"""CC-ResSiamNet architecture: shapes, shared encoder weights, prior handling, registry bounds."""

from __future__ import annotations

import pytest
import torch
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.models.archs.ccressiamnet_arch import CCResSiamNet, local_correlation
from geohazard.engine.models.archs.registry import build_network, check_arch_config


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: on the shared 2-core machine, OpenMP barriers of 2 threads made these
    tiny networks 20x slower (engine/core/parallel.py explains)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TINY = {"num_prior_ch": 8, "base_ch": 4, "levels": 3, "corr_radius": 1, "corr_radius_full": 1}


def inputs(
    n: int = 2, size: int = 32, prior_ch: int = 8, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    ref = torch.randn(n, 1, size, size, generator=g)
    sec = torch.randn(n, 1, size, size, generator=g)
    prior = torch.randn(n, prior_ch, size, size, generator=g)
    return ref, sec, prior


@pytest.mark.parametrize("levels", [2, 3, 4])
@pytest.mark.parametrize("uncertainty", [False, True])
def test_tiny_configurations_give_dense_offsets(levels: int, uncertainty: bool) -> None:
    net = CCResSiamNet(**{**TINY, "levels": levels, "predict_uncertainty": uncertainty})
    ref, sec, prior = inputs()
    out = net(ref, sec, prior)
    assert out.shape == (2, 4 if uncertainty else 2, 32, 32)
    assert torch.isfinite(out).all()


def test_untrained_head_returns_the_prior_and_a_fixed_sigma() -> None:
    """The head starts at zero: the first prediction is the classical tracker's offsets."""
    net = CCResSiamNet(**TINY, predict_uncertainty=True)
    ref, sec, prior = inputs()
    out = net(ref, sec, prior)
    assert torch.equal(out[:, :2], prior[:, :2])
    torch.testing.assert_close(
        out[:, 2:].exp(), torch.full_like(out[:, 2:], 4.0 * 0.1353), atol=1e-3, rtol=0
    )


def test_the_two_encoders_are_one_module_with_shared_weights() -> None:
    net = CCResSiamNet(**TINY).eval()
    ref, sec, _ = inputs(seed=1)
    # the same image in both branches gives the same features at every level
    for a, b in net.encode(ref, ref):
        assert torch.equal(a, b)
    # swapping the images swaps the branches exactly (shared weights, symmetric cross-connections)
    for (a, b), (b2, a2) in zip(net.encode(ref, sec), net.encode(sec, ref)):
        torch.testing.assert_close(a, a2)
        torch.testing.assert_close(b, b2)
    # a loss on the secondary branch alone trains the encoder the reference branch uses
    _, b = net.encode(ref, sec)[-1]
    b.square().mean().backward()
    first = net.encoder[0][0]
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0
    names = [n for n, _ in net.named_parameters() if n.startswith("encoder.")]
    assert all(n.startswith("encoder.") for n in names) and not any("secondary" in n for n in names)


def test_the_cross_connections_let_each_branch_see_the_other() -> None:
    net = CCResSiamNet(**TINY).eval()
    ref, sec, _ = inputs(seed=2)
    a1, _ = net.encode(ref, sec)[0]
    a2, _ = net.encode(ref, sec.flip(-1))[0]
    assert not torch.allclose(a1, a2)  # the reference features depend on the secondary


def test_local_correlation_finds_a_known_shift() -> None:
    a = torch.randn(1, 8, 16, 16)
    b = torch.roll(a, shifts=(1, -1), dims=(2, 3))  # b(p + (1, -1)) = a(p)
    corr = local_correlation(a, b, 1)
    assert corr.shape == (1, 9, 16, 16)
    # shift index (i, j) = (dy + 1, dx + 1) -> channel 3 * 2 + 0
    assert int(corr[0, :, 4:12, 4:12].mean(dim=(1, 2)).argmax()) == 6


def test_wrong_inputs_are_refused() -> None:
    net = CCResSiamNet(**TINY)
    ref, sec, prior = inputs(size=30)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(ref, sec, prior)
    ref, sec, prior = inputs(prior_ch=5)
    with pytest.raises(ValueError, match="8 prior channels"):
        net(ref, sec, prior)
    with pytest.raises(ValueError, match="residual_over_prior"):
        CCResSiamNet(num_prior_ch=0, base_ch=4)
    plain = CCResSiamNet(num_prior_ch=0, base_ch=4, levels=2, residual_over_prior=False)
    assert plain(ref, sec).shape == (2, 2, 32, 32)


def test_registry_builds_from_a_card_and_refuses_hostile_sizes() -> None:
    net = build_network({"type": "CCResSiamNet", **TINY})
    assert isinstance(net, CCResSiamNet)
    with pytest.raises(GeohazardError, match="base_ch"):
        check_arch_config({"type": "CCResSiamNet", "base_ch": 4096})
    with pytest.raises(GeohazardError, match="levels"):
        check_arch_config({"type": "CCResSiamNet", "levels": 12})
    with pytest.raises(GeohazardError, match="whole number"):
        check_arch_config({"type": "CCResSiamNet", "corr_radius": 2.5})
    with pytest.raises(GeohazardError, match="true or false"):
        check_arch_config({"type": "CCResSiamNet", "attention": "yes"})


def test_default_is_a_small_cpu_network_and_sizes_are_configurable() -> None:
    def count(net: torch.nn.Module) -> int:
        return sum(p.numel() for p in net.parameters())

    small = count(CCResSiamNet())
    large = count(CCResSiamNet(base_ch=32, levels=5, blocks=2))
    assert 200_000 < small < 1_500_000
    assert large > 3 * small


def test_a_few_steps_learn_a_uniform_shift() -> None:
    """Sanity of the gradient path: fitting one sample lowers the loss a lot."""
    torch.manual_seed(0)
    net = CCResSiamNet(num_prior_ch=2, base_ch=4, levels=2, corr_radius=2, corr_radius_full=2)
    ref = torch.randn(1, 1, 32, 32)
    sec = torch.roll(ref, shifts=(0, 1), dims=(2, 3))
    prior = torch.zeros(1, 2, 32, 32)
    target = torch.zeros(1, 2, 32, 32)
    target[:, 0] = 1.0
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.smooth_l1_loss(net(ref, sec, prior), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_residual_scale_sets_the_step_of_the_correction_and_is_not_a_weight() -> None:
    a = CCResSiamNet(**TINY).eval()
    b = CCResSiamNet(**TINY, residual_scale=0.5).eval()
    b.load_state_dict(a.state_dict())  # same weights, same tensor names
    with torch.no_grad():
        a.head.weight.normal_(0, 0.1)
        b.head.weight.copy_(a.head.weight)
        ref, sec, prior = inputs(seed=3)
        da = a(ref, sec, prior) - prior[:, :2]
        db = b(ref, sec, prior) - prior[:, :2]
    torch.testing.assert_close(db, da / 8.0)  # 0.5 px against disp_scale 4 px per unit
    assert "out_scale" not in a.state_dict()
