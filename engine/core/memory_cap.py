"""A GPU memory cap as the user types it (a fraction, a percentage or GiB); no torch needed,
so the settings page can check what was typed without importing torch."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import GeohazardError

GIB = 1024**3
_CAP_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(%|gib|gb|g)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class MemoryCap:
    """A GPU memory limit: a fraction of the card's memory, or an amount in GiB."""

    fraction: float | None = None
    gib: float | None = None

    def as_fraction(self, total_bytes: int) -> float:
        if self.fraction is not None:
            return self.fraction
        if self.gib is None:
            raise ValueError("a GPU memory cap needs a fraction or an amount in GiB")
        return min(1.0, self.gib * GIB / max(total_bytes, 1))

    def __str__(self) -> str:
        return f"{self.fraction:.0%}" if self.fraction is not None else f"{self.gib:g} GiB"


def parse_memory_cap(text: str | None) -> MemoryCap | None:
    """``""`` (no cap), ``0.8`` or ``80%`` (fraction of the card), ``6 GiB`` / ``6GB`` / ``6g``."""
    if text is None or not str(text).strip():
        return None
    m = _CAP_RE.match(str(text))
    if not m:
        raise GeohazardError(
            f"GPU memory cap '{text}' not understood; write a fraction (0.8), a percentage (80%) "
            "or an amount (6 GiB), or leave it empty for no cap."
        )
    value, unit = float(m.group(1)), (m.group(2) or "").lower()
    if unit == "%":
        value /= 100.0
        unit = ""
    if unit:
        if value <= 0:
            raise GeohazardError(f"GPU memory cap '{text}' must be more than 0 GiB.")
        return MemoryCap(gib=value)
    if not 0.0 < value <= 1.0:
        raise GeohazardError(
            f"GPU memory cap '{text}' as a fraction must be in (0, 1]; for an amount add GiB."
        )
    return MemoryCap(fraction=value)


__all__ = ["GIB", "MemoryCap", "parse_memory_cap"]
