"""The SSIM term of the SAR-to-optical training loss: the evaluation's SSIM, differentiable and
masked, mixed into the paper's masked MAE by the recipe's SSIM_WEIGHT."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.families.sar_to_optical.finetune import SarOpticalRecipe
from geohazard.engine.families.sar_to_optical.metrics import ssim_map as evaluation_ssim_map
from geohazard.engine.families.sar_to_optical.ssim_loss import RADIUS, masked_ssim
from geohazard.engine.families.sar_to_optical.training import (
    SardinetHooks,
    SardinetTrainConfig,
    masked_mae,
)
from geohazard.engine.models.archs.registry import build_network
from sardinet_models import TINY
from scipy import ndimage


def _images(seed: int = 0, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = ndimage.gaussian_filter(rng.uniform(0, 1, (3, size, size)), (0, 1, 1))
    # a prediction with the right mean colour but the texture smoothed away, plus a bias
    pred = np.clip(ndimage.gaussian_filter(target, (0, 3, 3)) + 0.05, 0, 1)
    return pred.astype(np.float32), target.astype(np.float32)


def test_masked_ssim_is_the_evaluation_ssim_inside_the_window_margin() -> None:
    pred, target = _images()
    r = RADIUS
    expected = evaluation_ssim_map(pred, target)[r:-r, r:-r].mean()
    valid = torch.ones(1, *pred.shape[1:], dtype=torch.bool)
    got = masked_ssim(torch.from_numpy(pred)[None], torch.from_numpy(target)[None], valid)
    assert got.item() == pytest.approx(float(expected), abs=1e-4)
    assert got.item() < 0.9  # the smoothed prediction is far from the texture
    same = masked_ssim(torch.from_numpy(target)[None], torch.from_numpy(target)[None], valid)
    assert same.item() == pytest.approx(1.0, abs=1e-5)


def test_masked_ssim_ignores_invalid_centres_and_has_a_gradient() -> None:
    pred, target = _images(seed=1)
    p = torch.from_numpy(pred)[None].requires_grad_(True)
    t = torch.from_numpy(target)[None]
    valid = torch.zeros(1, *pred.shape[1:], dtype=torch.bool)
    valid[:, :, :20] = True  # left half only
    left = masked_ssim(p, t, valid)
    smap = evaluation_ssim_map(pred, target)
    r = RADIUS
    assert left.item() == pytest.approx(float(smap[r:-r, r:20].mean()), abs=1e-4)
    left.backward()
    grad = p.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # pixels farther than the window's radius from every valid centre get no gradient
    assert grad[..., 20 + r :].abs().max().item() == 0.0


def test_the_loss_mixes_mae_and_ssim_by_the_weight() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = {
        "inputs": rng.uniform(0, 1, (4, 3, 32, 32)).astype(np.float16),
        "targets": (rng.uniform(0, 1, (4, 3, 32, 32)) * 255).astype(np.uint8),
        "valid": np.ones((4, 32, 32), bool),
        "classes": np.zeros((4, 32, 32), np.uint8),
    }
    arch = {"type": "SARDINet", "fusion": "late", **TINY}
    for weight in (0.0, 0.6):
        cfg = SardinetTrainConfig(arch, steps=1, batch_size=2, crop=32, ssim_weight=weight)
        hooks = SardinetHooks(cfg, data, data)
        torch.manual_seed(0)
        net = build_network(arch)
        opt = torch.optim.SGD(net.parameters(), lr=0.0)
        hooks.start_stage("translate", 0, 0)
        x, y, m = hooks.batch("translate", 0)
        with torch.no_grad():
            pred = net(x)
            mae, ssim = masked_mae(pred, y, m).item(), masked_ssim(pred, y, m).item()
        parts = hooks.train_step("translate", (x, y, m), {"model": net}, {"model": opt})
        if weight == 0.0:
            assert set(parts) == {"loss"} and parts["loss"] == pytest.approx(mae, rel=1e-5)
        else:
            assert parts["mae"] == pytest.approx(mae, rel=1e-5)
            assert parts["ssim"] == pytest.approx(ssim, rel=1e-5)
            expected = (1 - weight) * mae + weight * (1 - ssim)
            assert parts["loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("weight", [-0.1, 1.0, float("nan")])
def test_recipe_refuses_a_weight_outside_0_to_0_99(weight: float) -> None:
    with pytest.raises(GeohazardError, match="SSIM_WEIGHT must be between 0 and 0.99"):
        SarOpticalRecipe(ssim_weight=weight).validate()
    SarOpticalRecipe(ssim_weight=0.84).validate()
