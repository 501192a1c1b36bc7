"""Out-of-memory handling shared by every algorithm: retry with smaller pieces of work."""

from __future__ import annotations

from typing import Callable, TypeVar

import torch

from .errors import GeohazardError
from .progress import Reporter

T = TypeVar("T")


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocator failures that a smaller tile or batch can avoid."""
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate" in text)


def run_with_oom_retry(
    run: Callable[[int], T],
    size: int,
    min_size: int,
    reporter: Reporter | None = None,
    what: str = "tile size",
) -> T:
    """Call ``run(size)``; on out-of-memory, halve ``size`` and try again down to ``min_size``.

    ``run`` must be restartable: it is called from the beginning with the smaller size, so it
    should write nothing final until it returns (the engine writes to temporary outputs).
    """
    rep = reporter or Reporter()
    while True:
        try:
            return run(size)
        except Exception as exc:  # noqa: BLE001 (only out-of-memory errors are retried)
            if not is_out_of_memory(exc):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            smaller = size // 2
            if smaller < min_size:
                raise GeohazardError(
                    f"Out of memory even with {what} {size}; free GPU memory, choose the CPU "
                    "device, or process a smaller area."
                ) from exc
            rep.warning(f"Out of memory with {what} {size}; retrying with {smaller}.")
            size = smaller
