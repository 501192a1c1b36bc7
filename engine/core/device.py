"""Choice of the torch device, with a visible note saying which one runs and why, and the
per-run scopes that apply a run's options: mixed precision, GPU memory cap and thread count.

Every function takes the run's :class:`~.run_options.RunOptions`; nothing here is a process-wide
setting that one run could change under another. The GPU memory cap is the one exception torch
imposes (``set_per_process_memory_fraction`` is per process): while several runs with caps are
active on a card, the smallest cap applies, and the card returns to its previous limit when the
last of them ends.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import torch

from .errors import GeohazardError
from .memory_cap import GIB, MemoryCap, parse_memory_cap
from .progress import Reporter
from .run_options import DEVICE_CHOICES, RunOptions

__all__ = [
    "DEVICE_CHOICES",
    "MemoryCap",
    "RunOptions",
    "autocast",
    "memory_cap_scope",
    "parse_memory_cap",
    "resolve_device",
    "run_scope",
    "thread_scope",
]

_cap_lock = threading.Lock()
_active_caps: dict[int, list[float]] = {}  # CUDA index -> fractions of the runs active on it


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
        an error.
    """
    rep = reporter or Reporter()
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            dev = torch.device("cuda")
            rep.info(f"Device: auto chose CUDA ({torch.cuda.get_device_name(dev)}).")
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
        return dev
    raise GeohazardError(
        f"Unknown device '{requested}'; use one of auto, cpu, cuda, cuda:N or mps."
    )


@contextmanager
def memory_cap_scope(
    device: torch.device, cap: MemoryCap | None, reporter: Reporter | None = None
) -> Iterator[None]:
    """Cap this run's GPU memory on a CUDA ``device`` while the block runs (no-op elsewhere)."""
    if device.type != "cuda" or cap is None:
        yield
        return
    rep = reporter or Reporter()
    index = device.index if device.index is not None else torch.cuda.current_device()
    total = int(torch.cuda.get_device_properties(index).total_memory)
    fraction = cap.as_fraction(total)
    with _cap_lock:
        active = _active_caps.setdefault(index, [])
        active.append(fraction)
        torch.cuda.set_per_process_memory_fraction(min(active), index)
    rep.info(f"GPU memory capped at {cap} ({fraction * total / GIB:.1f} of {total / GIB:.1f} GiB).")
    try:
        yield
    finally:
        with _cap_lock:
            active.remove(fraction)
            torch.cuda.set_per_process_memory_fraction(min(active) if active else 1.0, index)
            if not active:
                del _active_caps[index]


@contextmanager
def thread_scope(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads in the calling thread (0: unchanged).

    torch's OpenMP thread count is kept per thread, so this changes nothing for other runs.
    """
    if threads <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def run_scope(options: RunOptions, reporter: Reporter | None = None) -> Iterator[torch.device]:
    """Resolve the run's device and apply its memory cap and thread count while the block runs."""
    device = resolve_device(options.device, reporter)
    with thread_scope(options.threads), memory_cap_scope(device, options.memory_cap, reporter):
        yield device


def autocast(device: torch.device, options: RunOptions) -> AbstractContextManager[object]:
    """Mixed-precision autocast for ``device`` when the run's options ask for it, else a no-op.

    CUDA uses bfloat16 where the card supports it (no overflow risk), else float16; MPS float16;
    the CPU always runs in float32 (autocast there is slower on most CPUs).
    """
    if not options.mixed_precision:
        return contextlib.nullcontext()
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if device.type == "mps":
        return torch.autocast("mps", dtype=torch.float16)
    return contextlib.nullcontext()
