"""Choice of the torch device, with a visible note when the requested one is absent."""

from __future__ import annotations

import torch

from .errors import GeohazardError
from .progress import Reporter

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(requested: str = "auto", reporter: Reporter | None = None) -> torch.device:
    """Turn a user's device choice into a torch device and log which one runs and why.

    Args:
        requested: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        reporter: receives the note saying which device was chosen.

    Returns:
        The device to run on. ``cuda`` asked for on a machine without a usable CUDA GPU falls
        back to the CPU with a warning rather than failing.
    """
    rep = reporter or Reporter()
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            dev = torch.device("cuda")
            rep.info(f"Device: auto chose CUDA ({torch.cuda.get_device_name(dev)}).")
            return dev
        rep.info("Device: auto chose the CPU (no CUDA GPU visible to torch).")
        return torch.device("cpu")
    if name == "cpu":
        rep.info("Device: CPU, as requested.")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            why = (
                "torch is a CPU-only build"
                if torch.version.cuda is None
                else "no CUDA GPU is visible (driver missing or CUDA_VISIBLE_DEVICES empty)"
            )
            rep.warning(f"CUDA was requested but {why}; running on the CPU instead.")
            return torch.device("cpu")
        dev = torch.device(name)
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            raise GeohazardError(
                f"{name} was requested but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
        rep.info(f"Device: {name} ({torch.cuda.get_device_name(index)}).")
        return dev
    raise GeohazardError(f"Unknown device '{requested}'; use one of auto, cpu, cuda or cuda:N.")
