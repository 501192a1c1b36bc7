"""Every pair of a stack tracked by the classical tracker on one common grid.

The client plans bands of rows (stack_plan.py), runs the first correlation of every band
(stack_tasks.first_pass_band) on the pool, gathers each pair's offsets, then runs the
window-deformation passes band by band with the gathered offsets around each band, and finally
does what track_offsets does after the correlation, for each pair: minimum quality, the
combination of window sizes, the outlier filter, the calibrated 1-sigma, metres, and the
stable-ground correction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..core.progress import Reporter
from ..io.raster_io import Grid
from ..offsets.combine import combine_sizes
from ..offsets.extras import correct_stable
from ..offsets.outliers import apply_filter
from ..offsets.pixel_offsets import PixelOffsets
from ..offsets.uncertainty import combined_sigma
from ..offsets.units import pixel_offsets_to_metres, pixel_sigmas_to_metres
from .pools import DaskPool, LocalPool
from .stack_plan import BAND_PIXELS, StackBand, StackSpec, plan_bands
from .stack_tasks import deform_band, first_pass_band

EVERY_S = 10.0  # seconds between two estimates of the time left in the log
FIRST_PASS_SHARE = 0.6  # of a pair's time, the first correlation (the deformation pass the rest)


@dataclass
class PairOffsets:
    """One pair's offsets in metres on the output grid (track_offsets' bands 1, 2, 4, 5, 6)."""

    east: np.ndarray
    north: np.ndarray
    quality: np.ndarray
    sigma_east: np.ndarray
    sigma_north: np.ndarray


class Clock:
    """Logs the time left for the whole stack from the share of work done so far."""

    def __init__(self, rep: Reporter) -> None:
        self.rep, self.start, self.last = rep, time.monotonic(), 0.0

    def tell(self, fraction: float, what: str = "Tracking") -> None:
        elapsed = time.monotonic() - self.start
        if fraction <= 0 or elapsed - self.last < EVERY_S and fraction < 1:
            return
        self.last = elapsed
        left = elapsed * (1 - fraction) / fraction
        self.rep.info(
            f"{what}: {100 * fraction:.0f}% of the stack's tracking after {elapsed:.0f} s; "
            f"about {left:.0f} s left."
        )


def track_pixels(
    spec: StackSpec,
    pool: LocalPool | DaskPool,
    rep: Reporter,
    band_pixels: int = BAND_PIXELS,
) -> tuple[list[PixelOffsets], list[int]]:
    """Every pair's pixel offsets per window size on the common centre grid, and each image's
    count of valid pixels."""
    bands = plan_bands(spec, band_pixels, 2 * pool.threads)
    grid = spec.centres()
    pixels = []
    for _ in spec.pairs:
        out = PixelOffsets(grid, spec.sizes)
        for size in spec.sizes:
            for arr in (out.dy, out.dx, out.quality, out.sigma_y, out.sigma_x):
                arr[size] = np.full((grid.rows, grid.cols), np.nan, np.float32)
        pixels.append(out)
    valid = [0] * len(spec.paths)
    weight = FIRST_PASS_SHARE + (1 - FIRST_PASS_SHARE) * spec.passes
    first_end = FIRST_PASS_SHARE / weight
    clock = Clock(rep)
    outer = rep

    def progress(fraction: float) -> None:
        outer.report(fraction)
        clock.tell(fraction)

    rep = Reporter(progress, outer.is_canceled, outer.info, outer.warning)

    def gather_first(k: int, result: tuple[dict, list[int]]) -> None:
        per_pair, counts = result
        band = bands[k]
        for p, by_size in per_pair.items():
            for size, arrays in by_size.items():
                for dest, arr in zip(
                    (
                        pixels[p].dy,
                        pixels[p].dx,
                        pixels[p].quality,
                        pixels[p].sigma_y,
                        pixels[p].sigma_x,
                    ),
                    arrays,
                ):
                    dest[size][band.i0 : band.i1] = arr
        for i, n in enumerate(counts):
            valid[i] += n
        clock.tell(first_end * (k + 1) / len(bands), "First correlation")

    first = rep.step(0.0, first_end)
    pool.run(first_pass_band, [(spec, band) for band in bands], first, gather_first)
    halo = spec.halo()
    for n in range(spec.passes):
        start = first_end + (1 - first_end) * n / max(spec.passes, 1)
        end = first_end + (1 - first_end) * (n + 1) / max(spec.passes, 1)
        calls = []
        for band in bands:
            f0, f1 = max(0, band.i0 - halo), min(grid.rows, band.i1 + halo)
            fields = {
                p: {s: (px.dy[s][f0:f1].copy(), px.dx[s][f0:f1].copy()) for s in spec.sizes}
                for p, px in enumerate(pixels)
            }
            calls.append((spec, band, fields, f0))
        refined: dict[int, dict] = {}

        def gather_pass(
            k: int, result: dict, start: float = start, end: float = end, got: dict = refined
        ) -> None:
            got[k] = result
            clock.tell(start + (end - start) * len(got) / len(bands), "Window deformation")

        pool.run(deform_band, calls, rep.step(start, end), gather_pass)
        for k, band in enumerate(bands):
            _place(pixels, refined[k], band)
    return pixels, valid


def _place(pixels: list[PixelOffsets], refined: dict, band: StackBand) -> None:
    for p, by_size in refined.items():
        for size, (dy, dx) in by_size.items():
            pixels[p].dy[size][band.i0 : band.i1] = dy
            pixels[p].dx[size][band.i0 : band.i1] = dx


def pair_offsets(
    pixel: PixelOffsets,
    image: Grid,
    out_grid: Grid,
    min_quality: float,
    outlier_filter: str,
    stable_areas: list[dict] | None,
    rep: Reporter,
) -> PairOffsets:
    """What track_offsets makes of one pair's pixel offsets, in metres (NaN: no match)."""
    for size in pixel.sizes:
        with np.errstate(invalid="ignore"):
            low = pixel.quality[size] < min_quality
        for arr in (pixel.dy[size], pixel.dx[size], pixel.quality[size]):
            arr[low] = np.nan
    dy, dx, quality = combine_sizes(pixel)
    apply_filter(dy, dx, quality, outlier_filter)
    sig_y, sig_x = combined_sigma(pixel, dy, dx)
    east, north = pixel_offsets_to_metres(dy, dx, image, out_grid)
    sig_e, sig_n = pixel_sigmas_to_metres(sig_y, sig_x, image, out_grid)
    bands = np.stack([east, north, np.hypot(east, north), quality, sig_e, sig_n])
    bands[:, ~(np.isfinite(east) & np.isfinite(north))] = np.nan
    bands = bands.astype(np.float32)
    if stable_areas:
        quiet = Reporter(warning=rep.warning)
        correct_stable(bands, stable_areas, out_grid, quiet)
    return PairOffsets(bands[0], bands[1], bands[3], bands[4], bands[5])
