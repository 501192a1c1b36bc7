"""Tiny deep offset tracking models written through the real store, for tests."""

from __future__ import annotations

from pathlib import Path

import torch
from geohazard.engine.families.deep_offsets.card import deep_offsets_card
from geohazard.engine.models.archs.ccressiamnet_arch import CCResSiamNet
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.offsets.dense_prior import PriorConfig, channel_names

PRIOR = PriorConfig(window_sizes=(16, 32), step=8, search=8)
TINY_ARCH = {
    "type": "CCResSiamNet",
    "num_prior_ch": len(channel_names(PRIOR)),
    "base_ch": 4,
    "levels": 3,
    "blocks": 1,
    "corr_radius": 1,
    "corr_radius_full": 1,
    "attention": True,
    "residual_over_prior": True,
    "disp_scale": 4.0,
    "predict_uncertainty": True,
}
METRICS = {
    "model_dense_rmse_px": 1.0,
    "ncc_prior_dense_rmse_px": 1.0,
    "model_at_centres_rmse_px": 1.0,
    "classical_at_centres_rmse_px": 1.0,
}


def save_tiny_model(
    folder: Path, name: str = "tiny_deep", head: str = "zero", seed: int = 0
) -> str:
    """Write a tiny model; ``head`` ``zero`` returns the NCC prior exactly (untrained head) and a
    fixed sigma, ``random`` perturbs it (a stand-in for a trained network)."""
    torch.manual_seed(seed)
    net = CCResSiamNet(**{k: v for k, v in TINY_ARCH.items() if k != "type"})
    if head == "random":
        with torch.no_grad():
            net.head.weight.normal_(0, 0.3)
    card = deep_offsets_card(
        name=name,
        architecture=TINY_ARCH,
        prior=PRIOR,
        parameters=sum(p.numel() for p in net.parameters()),
        description="tiny test model",
        training={"data": "none (test)"},
        test_data="none (test)",
        groups={"all": dict(METRICS)},
        sigma_scale=1.0,
        trained_max_px=6.0,
        notes="test",
        limitations="test only",
    )
    return ModelStore(str(folder)).save(net, card, str(folder))
