"""What a run will cost, said before it starts: time (from a rate measured just now) and memory.

The time estimate times the algorithm's own kernel on a small sample on the chosen device, on
this machine, right before the run (a fraction of a second), and scales it by the amount of work.
It leaves out what the sample cannot show (a busy disk, other programs), so it is an estimate to
the nearest factor of about two, stated with how it was measured.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Callable

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from .output_files import format_bytes


def measure_seconds(run: Callable[[], object], repeats: int = 2) -> float:
    """Shortest wall time of ``repeats`` calls of ``run`` after one warm-up call."""
    run()
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def format_duration(seconds: float) -> str:
    """``"about 40 s"``, ``"about 12 min"``, ``"about 3.5 h"``, ``"about 6 days"``."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 86400:.0f} days"


def announce_time(reporter: Reporter, seconds: float, how: str) -> None:
    """Log the estimated compute time and how the rate behind it was measured."""
    reporter.info(f"Estimated compute time: {format_duration(seconds)} ({how}).")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation without swapping; None if unknown."""
    try:
        if sys.platform.startswith("linux"):
            with open("/proc/meminfo", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        if sys.platform == "win32":

            class MemoryStatus(ctypes.Structure):
                _fields_ = [
                    ("length", ctypes.c_ulong),
                    ("load", ctypes.c_ulong),
                    ("total_phys", ctypes.c_ulonglong),
                    ("avail_phys", ctypes.c_ulonglong),
                    ("total_page", ctypes.c_ulonglong),
                    ("avail_page", ctypes.c_ulonglong),
                    ("total_virtual", ctypes.c_ulonglong),
                    ("avail_virtual", ctypes.c_ulonglong),
                    ("avail_ext", ctypes.c_ulonglong),
                ]

            status = MemoryStatus()
            status.length = ctypes.sizeof(MemoryStatus)
            if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
                return int(status.avail_phys)
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return int(pages * size)  # macOS and others: physical memory (an upper bound)
    except (OSError, ValueError, AttributeError):
        return None


def check_memory(needed: int, what: str, advice: str, reporter: Reporter | None = None) -> None:
    """Refuse, before any compute, a run whose working memory exceeds what is available.

    Args:
        needed: bytes the run will hold at its peak (an estimate from the sizes involved).
        what: what takes the memory, e.g. "the offset grids of 3 window sizes".
        advice: what the user can change, in the algorithm's own parameters.
    """
    rep = reporter or Reporter()
    avail = available_memory()
    rep.info(
        f"Working memory: about {format_bytes(needed)} for {what}"
        + (f" ({format_bytes(avail)} available)." if avail is not None else ".")
    )
    if avail is not None and needed > avail:
        raise GeohazardError(
            f"This run needs about {format_bytes(needed)} of memory for {what}, but only "
            f"{format_bytes(avail)} is available; {advice} Nothing was computed."
        )
