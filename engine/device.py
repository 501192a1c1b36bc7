"""Choice of the torch device, with a visible note saying which one runs and why.

Also the run options every algorithm shares (set from the plugin's device settings page, or by a
command-line caller): mixed precision and a cap on the GPU memory this process may take. The cap
is per process in torch (``set_per_process_memory_fraction``), so these options are process-wide.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch

from .errors import GeohazardError
from .memory_cap import GIB, MemoryCap, parse_memory_cap
from .progress import Reporter

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

__all__ = [
    "DEVICE_CHOICES",
    "MemoryCap",
    "RunOptions",
    "autocast",
    "parse_memory_cap",
    "resolve_device",
    "run_options",
    "set_run_options",
]


@dataclass(frozen=True)
class RunOptions:
    """Options shared by every algorithm's run.

    Args:
        mixed_precision: run networks under float16/bfloat16 autocast on CUDA and MPS.
        memory_cap: the most GPU memory this process may use; None for no cap.
    """

    mixed_precision: bool = False
    memory_cap: MemoryCap | None = None


_options = RunOptions()
_capped: dict[int, float] = {}


def set_run_options(options: RunOptions) -> None:
    """Set the process-wide run options (the plugin does this before each algorithm runs)."""
    global _options
    _options = options


def run_options() -> RunOptions:
    return _options


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        if shutil.which("nvidia-smi"):
            return (
                "torch is the CPU build although an NVIDIA driver is installed; install the "
                "CUDA build with Plugins > Geohazard > Install dependencies to use the GPU"
            )
        return "torch is a CPU-only build"
    return "no CUDA GPU is visible (driver missing or CUDA_VISIBLE_DEVICES empty)"


def resolve_device(requested: str = "auto", reporter: Reporter | None = None) -> torch.device:
    """Turn a user's device choice into a torch device and log which one runs and why.

    Args:
        requested: ``auto`` (CUDA, else Apple MPS, else CPU), ``cpu``, ``cuda``, ``cuda:N``
            or ``mps``.
        reporter: receives the note saying which device was chosen and why.

    Returns:
        The device to run on. A GPU asked for on a machine without it falls back to the CPU
        with a warning saying why, rather than failing; a CUDA index that does not exist is
        an error. The GPU memory cap of :func:`set_run_options` is applied to a CUDA device.
    """
    rep = reporter or Reporter()
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            dev = torch.device("cuda")
            rep.info(f"Device: auto chose CUDA ({torch.cuda.get_device_name(dev)}).")
            _apply_memory_cap(dev, rep)
            return dev
        if _mps_available():
            rep.info("Device: auto chose Apple MPS (the Mac's GPU).")
            return torch.device("mps")
        rep.info(f"Device: auto chose the CPU ({_why_no_cuda()}).")
        return torch.device("cpu")
    if name == "cpu":
        rep.info("Device: CPU, as requested.")
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            rep.warning(
                "Apple MPS was requested but is not available here (MPS needs macOS on "
                "Apple Silicon and a torch build with MPS); running on the CPU instead."
            )
            return torch.device("cpu")
        rep.info("Device: Apple MPS, as requested.")
        return torch.device("mps")
    if re.fullmatch(r"cuda(:\d+)?", name):
        if not torch.cuda.is_available():
            rep.warning(f"CUDA was requested but {_why_no_cuda()}; running on the CPU instead.")
            return torch.device("cpu")
        dev = torch.device(name)
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        count = torch.cuda.device_count()
        if index >= count:
            raise GeohazardError(
                f"{name} was requested but only {count} CUDA device(s) exist "
                f"(cuda:0 to cuda:{count - 1}); choose another in the device settings."
            )
        rep.info(f"Device: cuda:{index} ({torch.cuda.get_device_name(index)}), as requested.")
        _apply_memory_cap(dev, rep)
        return dev
    raise GeohazardError(
        f"Unknown device '{requested}'; use one of auto, cpu, cuda, cuda:N or mps."
    )


def _apply_memory_cap(device: torch.device, rep: Reporter) -> None:
    cap = _options.memory_cap
    index = device.index if device.index is not None else torch.cuda.current_device()
    if cap is None:
        if index in _capped:
            torch.cuda.set_per_process_memory_fraction(1.0, index)
            del _capped[index]
        return
    total = int(torch.cuda.get_device_properties(index).total_memory)
    fraction = cap.as_fraction(total)
    if _capped.get(index) != fraction:
        torch.cuda.set_per_process_memory_fraction(fraction, index)
        _capped[index] = fraction
    rep.info(f"GPU memory capped at {cap} ({fraction * total / GIB:.1f} of {total / GIB:.1f} GiB).")


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """Mixed-precision autocast for ``device`` when the run options ask for it, else a no-op.

    CUDA uses bfloat16 where the card supports it (no overflow risk), else float16; MPS float16;
    the CPU always runs in float32 (autocast there is slower on most CPUs).
    """
    if not _options.mixed_precision:
        return contextlib.nullcontext()
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if device.type == "mps":
        return torch.autocast("mps", dtype=torch.float16)
    return contextlib.nullcontext()
