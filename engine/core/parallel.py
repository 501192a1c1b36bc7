"""Coarse-grained CPU parallelism for batched torch work.

On a CPU, torch parallelises each operation over OpenMP threads whose barriers spin; when the
machine is shared (QGIS rendering, another process) this degrades badly: on the 2-core project
machine one offset-tracking run took from 0.2 s to 10 s depending on the neighbours' load. Here
each worker thread runs whole batches with torch limited to one intra-op thread, which gives the
same speed on an idle machine and degrades gracefully on a busy one (torch releases the GIL).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from functools import partial
from typing import Callable

import torch

from .progress import Reporter


@contextmanager
def batch_workers(device: torch.device) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of as many workers as torch had threads, with torch set to one thread meanwhile.

    Yields None on a GPU (batches are queued on the device anyway) or with a single thread.
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < 2:
        yield None
        return
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="geohazard") as pool:
            yield pool
    finally:
        torch.set_num_threads(threads)


def bands(fn: Callable[[int, int], int], total: int, per: int) -> list[Callable[[], int]]:
    """Jobs calling ``fn(a, b)`` on consecutive ranges [a, b) of at most ``per`` of ``total``
    (rows of a strip, usually)."""
    per = max(1, per)
    return [partial(fn, a, min(total, a + per)) for a in range(0, total, per)]


def run_batches(
    jobs: Sequence[Callable[[], int]],
    pool: ThreadPoolExecutor | None,
    reporter: Reporter,
    on_done: Callable[[int], None],
) -> None:
    """Run jobs (each returns the work units it did) in ``pool`` or in order; progress and
    cancellation are handled in the calling thread. On cancel or error, queued jobs are
    dropped and running ones are waited for before the exception propagates."""
    if pool is None:
        for job in jobs:
            reporter.check_cancel()
            on_done(job())
        return
    futures: list[Future[int]] = [pool.submit(job) for job in jobs]
    try:
        for fut in as_completed(futures):
            on_done(fut.result())
            reporter.check_cancel()
    except BaseException:
        for fut in futures:
            fut.cancel()
        wait(futures)
        raise
