"""Where a stack's tasks run: in this process (the local pool), or on a Dask cluster.

Local: tasks run one after another in this process, each spreading its windows over the
tracker's pool of worker threads (engine/parallel.py), one per core, with progress and cancel
at every batch. A process pool is not used: inside QGIS the Python executable is QGIS itself,
so worker processes could not be started without guessing the interpreter, and torch releases
the GIL in the work that counts.

Dask: with a scheduler address, every task is submitted to the cluster through
``dask.distributed`` (its scheduler places them on the workers) and the client only gathers
results; cancel cancels the futures. Dask is imported only here and only for a cluster run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import GeohazardError
from ..core.progress import Reporter

POLL_S = 0.2


class LocalPool:
    """Runs the tasks in this process, passing each a reporter for its share of the progress."""

    description = "this machine (all cores, one task at a time)"
    threads = 1  # tasks at once

    def run(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        rep: Reporter,
        on_result: Callable[[int, Any], None],
    ) -> None:
        for k, args in enumerate(calls):
            rep.check_cancel()
            result = fn(*args, rep.step(k / len(calls), (k + 1) / len(calls)))
            on_result(k, result)
            rep.report((k + 1) / len(calls))

    def close(self) -> None:
        return None


class DaskPool:
    """Runs the tasks on the workers of the Dask scheduler at ``address``."""

    def __init__(self, address: str, timeout_s: float = 20.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise GeohazardError(
                "A Dask scheduler address was given but the 'distributed' package is not "
                "installed; install dask and distributed (pip install 'dask[distributed]') or "
                "leave the scheduler address empty to run on this machine."
            ) from exc
        try:
            self.client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise GeohazardError(
                f"Could not reach the Dask scheduler at '{address}' ({exc}); start it with "
                "'dask scheduler' and its workers with 'dask worker <address>', or leave the "
                "address empty to run on this machine."
            ) from exc
        workers = self.client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        self.threads = max(1, threads)
        self.description = (
            f"the Dask cluster at {address} ({len(workers)} workers, {threads} threads)"
        )

    def run(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        rep: Reporter,
        on_result: Callable[[int, Any], None],
    ) -> None:
        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        pending = dict(enumerate(futures))
        try:
            while pending:
                rep.check_cancel()
                finished = [k for k, f in pending.items() if f.done()]
                if not finished:
                    time.sleep(POLL_S)
                    continue
                for k in finished:
                    on_result(k, pending.pop(k).result())
                rep.report(1 - len(pending) / len(calls))
        except BaseException:
            self.client.cancel(list(pending.values()))
            raise

    def close(self) -> None:
        self.client.close()


def make_pool(address: str | None) -> LocalPool | DaskPool:
    """A Dask pool for a scheduler address (``tcp://host:8786``), the local pool otherwise."""
    if address and address.strip():
        return DaskPool(address.strip())
    return LocalPool()
