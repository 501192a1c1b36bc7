"""Progress, cancellation and log callbacks passed from the caller (QGIS feedback, CLI, tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .errors import Cancelled


def _ignore(*_args: object) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Reporter:
    """Callbacks for long engine steps.

    Args:
        progress: called with a fraction in [0, 1].
        is_canceled: polled between chunks of work; when it returns True the engine raises
            :class:`Cancelled` after cleaning up.
        info: a plain message for the log.
        warning: a message the user should notice (e.g. a resampled input, a CPU fallback).
    """

    progress: Callable[[float], None] = _ignore
    is_canceled: Callable[[], bool] = _never
    info: Callable[[str], None] = _ignore
    warning: Callable[[str], None] = _ignore
    _start: float = field(default=0.0, repr=False)
    _span: float = field(default=1.0, repr=False)

    def report(self, fraction: float) -> None:
        """Report progress of the current step (0..1), mapped into this reporter's range."""
        fraction = min(max(fraction, 0.0), 1.0)
        self.progress(self._start + self._span * fraction)

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""
        if self.is_canceled():
            raise Cancelled()

    def step(self, start: float, end: float) -> Reporter:
        """A reporter for a sub-step covering [start, end] of this reporter's range."""
        return Reporter(
            progress=self.progress,
            is_canceled=self.is_canceled,
            info=self.info,
            warning=self.warning,
            _start=self._start + self._span * start,
            _span=self._span * (end - start),
        )
