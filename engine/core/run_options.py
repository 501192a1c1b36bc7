"""Options that travel with one run (inference or training), never kept in module globals.

A training run in a background task and an inference run started meanwhile each carry their own
:class:`RunOptions`, so neither changes the other's device, precision or thread count. This module
does not import torch (the settings page and the algorithms' help build options without it).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import GeohazardError
from .memory_cap import MemoryCap

DEVICE_CHOICES = ("auto", "cpu", "cuda")
"""What a DEVICE parameter offers, in this order (auto first, the default)."""


@dataclass(frozen=True)
class RunOptions:
    """How one run uses the machine.

    Args:
        device: ``auto`` (a CUDA GPU when torch sees one, else Apple MPS, else the CPU), ``cpu``,
            ``cuda``, ``cuda:N`` or ``mps``.
        mixed_precision: run networks under bfloat16/float16 autocast on CUDA and MPS (the CPU
            always runs float32).
        memory_cap: the most GPU memory this run may take; None for no cap.
        threads: CPU threads for this run's torch work; 0 keeps torch's default. Applied to the
            thread that runs the work only (torch's OpenMP thread count is per thread), so two
            runs on two threads keep their own counts.
    """

    device: str = "auto"
    mixed_precision: bool = False
    memory_cap: MemoryCap | None = None
    threads: int = 0

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise GeohazardError(
                f"The thread count must be 0 (automatic) or more, not {self.threads}."
            )
