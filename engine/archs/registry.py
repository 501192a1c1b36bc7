"""Build a network from a config ``{"type": name, **constructor args}`` as model cards store it."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import GeohazardError
from .discriminator_arch import VGGStyleDiscriminator
from .rrdbnet_arch import RRDBNet

ARCHITECTURES: dict[str, type[nn.Module]] = {
    "RRDBNet": RRDBNet,
    "VGGStyleDiscriminator": VGGStyleDiscriminator,
}


def build_network(config: dict[str, Any]) -> nn.Module:
    """Instantiate the architecture named by ``config["type"]`` with the other keys as arguments."""
    args = dict(config)
    name = args.pop("type", None)
    if name not in ARCHITECTURES:
        raise GeohazardError(
            f"Unknown architecture '{name}'; known ones: {', '.join(sorted(ARCHITECTURES))}."
        )
    try:
        return ARCHITECTURES[name](**args)
    except (TypeError, ValueError) as exc:
        raise GeohazardError(f"Invalid configuration for {name}: {exc}") from exc
