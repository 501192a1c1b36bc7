"""Multi-window NCC of two rasters streamed in strips of rows, with reading and correlation
overlapped: while the worker threads correlate one strip, a reader thread reads and prepares
the next (GDAL decompression and the float64 energy tables release the GIL)."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from ..core.parallel import bands, batch_workers, run_batches
from ..core.progress import Reporter
from ..io.raster_io import Grid
from .block_ncc import WINDOW_BATCH, block_range, block_size, strip_blocks
from .deform import PASSES as DEFORM_PASSES
from .deform import PREFILTER_RADIUS, deform_halo, refine_strip, spline_coefficients
from .pixel_offsets import PixelOffsets
from .strip_jobs import strip_jobs
from .strip_preparation import PreparedStrip, StripReader, prepare_strip
from .window_grid import CentreGrid


def correlate(
    ref_reader: StripReader,
    sec_reader: StripReader,
    image: Grid,
    sizes: tuple[int, ...],
    step: int,
    search: int,
    device: torch.device,
    chunk: int,
    reporter: Reporter,
    strip_pixels: int = 8_000_000,
    prefilter: str = "none",
    prior: tuple[np.ndarray, np.ndarray] | None = None,
    passes: int = DEFORM_PASSES,
) -> PixelOffsets:
    """Pixel offsets for every window size on one centre grid, reading strips of rows.

    Each strip holds about ``strip_pixels`` pixels of each image (plus the windows' reach above
    and below); two strips are in memory at a time (about 0.5 GB at the default, whatever the
    raster's size). ``chunk`` bounds the windows of one correlation job. ``prefilter`` is
    applied to both strips; ``prior`` gives whole-pixel (rows, columns) shifts on the centre
    grid around which each window searches. ``passes``: window-deformation passes after the
    first correlation (deform.py; 0 keeps the first pass's 3-point fits).
    """
    grid = CentreGrid.for_image(image.height, image.width, sizes[0], step, search)
    out = PixelOffsets(grid, sizes)
    for size in sizes:
        for arr in (out.dy, out.dx, out.quality, out.sigma_y, out.sigma_x):
            arr[size] = np.full((grid.rows, grid.cols), np.nan, np.float32)
    ranges = {
        size: (
            grid.valid_range(grid.rows, grid.first_row, size, image.height),
            grid.valid_range(grid.cols, grid.first_col, size, image.width),
        )
        for size in sizes
    }
    # every window is visited by the correlation and each deformation pass
    total = (1 + passes) * sum((r[1] - r[0]) * (c[1] - c[0]) for r, c in ranges.values())
    done = [0]
    reach = sizes[-1] // 2 + search
    if prior is not None:
        reach += int(np.abs(prior[0]).max(initial=0))
    # strips of about strip_pixels pixels, so memory is bounded whatever the raster's width
    centres_per_strip = max(1, (strip_pixels // max(image.width, 1) - 2 * reach) // step)
    strips = []
    for i0 in range(0, grid.rows, centres_per_strip):
        i1 = min(grid.rows, i0 + centres_per_strip)
        top = max(0, grid.first_row + i0 * step - reach)
        bottom = min(image.height, grid.first_row + (i1 - 1) * step + reach)
        rows = {s: (max(i0, ranges[s][0][0]), min(i1, ranges[s][0][1])) for s in sizes}
        strips.append((top, bottom, rows))

    # windows made of shared blocks (block_ncc.py), unless a prior moves each search area
    b = block_size(sizes, step, search) if prior is None else 0

    def prepare(k: int, energies: bool = True) -> PreparedStrip:
        top, bottom, rows = strips[k]
        wanted = tuple(s for s in sizes if rows[s][1] > rows[s][0]) if energies else ()
        return prepare_strip(
            ref_reader,
            sec_reader,
            top,
            bottom,
            image.width,
            wanted,
            prefilter,
            device,
            b,
        )

    def on_done(units: int) -> None:
        done[0] += units
        reporter.report(done[0] / max(total, 1))

    halo = max(deform_halo(size, step) for size in sizes)
    # the last strip whose first pass each strip's deformation waits for
    needs = [
        (min(grid.rows, (k + 1) * centres_per_strip + halo) - 1) // centres_per_strip
        for k in range(len(strips))
    ]

    def first_pass(k: int, strip: PreparedStrip) -> None:
        """The first correlation of every window size over strip k."""
        blocks = None
        if b and strip.block_sums is not None:
            spans = {size: (strips[k][2][size], ranges[size][1]) for size in sizes}
            rng = block_range(grid, b, sizes, spans)
            blocks, fill = strip_blocks(
                strip.ref, strip.sec, strip.block_sums, grid, strip.top, b, sizes, rng
            )
            run_batches(fill, pool, reporter, on_done)
        jobs = []
        for size in sizes:
            jobs += strip_jobs(
                strip,
                strips[k][2][size],
                grid,
                size,
                ranges[size][1],
                chunk if blocks is None else max(chunk, WINDOW_BATCH),
                out,
                prior,
                blocks,
            )
        run_batches(jobs, pool, reporter, on_done)

    def deform(
        k: int, strip: PreparedStrip, before: dict[int, tuple[np.ndarray, np.ndarray]]
    ) -> None:
        """One window-deformation pass over strip k, deformed by the field in ``before``."""
        reporter.check_cancel()
        coeffs = torch.empty_like(strip.sec)  # B-spline coefficients, in bands of rows

        def spline_band(a: int, z: int) -> int:
            lo, hi = max(0, a - PREFILTER_RADIUS), min(len(coeffs), z + PREFILTER_RADIUS)
            coeffs[a:z] = spline_coefficients(strip.sec[lo:hi])[a - lo : z - lo]
            return 0

        per = max(4 * PREFILTER_RADIUS, len(coeffs) // 4)
        run_batches(bands(spline_band, len(coeffs), per), pool, reporter, on_done)
        for size in sizes:
            refine_strip(
                strip.ref,
                coeffs,
                strip.top,
                strips[k][2][size],
                ranges[size][1],
                grid,
                size,
                chunk,
                out,
                before[size],
                ranges[size][0],
                pool,
                reporter,
                on_done,
            )

    with (
        batch_workers(device) as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="geohazard-read") as reader,
    ):
        pending: Future[PreparedStrip] | None = reader.submit(prepare, 0) if strips else None
        # window deformation (deform.py): the first deformation pass of strip j runs as soon as
        # the first pass has reached the rows its deforming field needs below it (the strip is
        # still in memory: no second read); its field comes from `before`, the first pass's
        # offsets, so strips do not change results. Later passes read the strips again.
        before = {s: (out.dy[s].copy(), out.dx[s].copy()) for s in sizes} if passes else {}
        waiting: deque[tuple[int, PreparedStrip]] = deque()
        try:
            for k in range(len(strips)):
                reporter.check_cancel()  # before waiting for a strip, which can take seconds
                if pending is None:  # cannot happen: strip k was submitted before
                    raise RuntimeError(f"strip {k} was never read")
                strip = pending.result()
                pending = reader.submit(prepare, k + 1) if k + 1 < len(strips) else None
                out.valid_pixels["reference"] += strip.valid_ref
                out.valid_pixels["secondary"] += strip.valid_sec
                first_pass(k, strip)
                strip.energy, strip.block_sums = {}, None  # the deformation needs neither
                if passes:
                    for size in sizes:
                        i0, i1 = strips[k][2][size]
                        before[size][0][i0:i1] = out.dy[size][i0:i1]
                        before[size][1][i0:i1] = out.dx[size][i0:i1]
                    waiting.append((k, strip))
                    while waiting and (k + 1 == len(strips) or needs[waiting[0][0]] <= k):
                        j, ready = waiting.popleft()
                        deform(j, ready, before)
                del strip
        finally:
            if pending is not None:
                pending.cancel()
        for _ in range(passes - 1):
            before = {size: (out.dy[size].copy(), out.dx[size].copy()) for size in sizes}
            for k in range(len(strips)):
                reporter.check_cancel()
                deform(k, prepare(k, energies=False), before)
    return out
