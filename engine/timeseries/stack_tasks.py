"""The two tasks of a stack run over one band of rows, for every pair at once.

Each image of the band is read, nodata-filled and pre-filtered once; as a secondary its local
energies, block sums and B-spline coefficients are made once, and its blocks' FFTs (as a
reference and as a secondary, block_ncc.strip_blocks' ``spectra``) once, however many pairs use
it. What is left per pair is the classical tracker's own per-pair work: the spectra's products
and inverse FFTs, the windows' sums, the peaks and the window deformation.

1. :func:`first_pass_band`: the first correlation of every window size (strips.correlate's first
   pass), returning the band's rows of every pair's offsets, peaks and raw sigmas.
2. :func:`deform_band`: one window-deformation pass of every pair over the band, deformed by the
   first pass's offsets of the rows around it (sent by the client, who gathered every band).

Tasks run in the client's process (local pool) or on Dask workers; they import no Dask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from rasterio.windows import Window

from ..core.parallel import bands, batch_workers, run_batches
from ..core.progress import Reporter
from ..io.raster_io import inspect_raster, open_band
from ..offsets.block_ncc import WINDOW_BATCH, block_range, block_size, strip_blocks
from ..offsets.deform import PREFILTER_RADIUS, refine_strip, spline_coefficients
from ..offsets.ncc import local_tables
from ..offsets.pixel_offsets import PixelOffsets
from ..offsets.prefilter import apply_prefilter
from ..offsets.strip_jobs import strip_jobs
from ..offsets.strip_preparation import PreparedStrip, fill_nan
from .stack_plan import StackBand, StackSpec, valid_ranges

# per pair and window size: (dy, dx, quality, sigma_y, sigma_x) of the band's centre rows
FirstPass = dict[int, dict[int, tuple[np.ndarray, ...]]]
Fields = dict[int, dict[int, tuple[np.ndarray, np.ndarray]]]


@dataclass
class BandImage:
    """One image's rows of a band, prepared once for every pair it takes part in."""

    image: torch.Tensor
    bad: torch.Tensor | None
    valid: int
    energy: dict[int, torch.Tensor] = field(default_factory=dict)
    block_sums: torch.Tensor | None = None
    coeffs: torch.Tensor | None = None
    ref_spectra: dict[tuple[int, ...], Any] = field(default_factory=dict)
    sec_spectra: dict[tuple[int, ...], Any] = field(default_factory=dict)


class BandImages:
    """The band's images, prepared on first use and dropped after the last pair using them."""

    def __init__(self, spec: StackSpec, band: StackBand, device: torch.device) -> None:
        self.spec, self.band, self.device = spec, band, device
        self.ready: dict[int, BandImage] = {}
        self.uses = [0] * len(spec.paths)
        for i, j in spec.pairs:
            self.uses[i] += 1
            self.uses[j] += 1

    def get(self, k: int) -> BandImage:
        if k not in self.ready:
            spec, band = self.spec, self.band
            win = Window(0, band.top, spec.image.width, band.bottom - band.top)
            with open_band(inspect_raster(spec.paths[k]), spec.band, spec.image) as reader:
                raw = torch.from_numpy(reader.read(win)).to(self.device)
            img, bad, valid = fill_nan(raw)
            self.ready[k] = BandImage(apply_prefilter(img, self.spec.prefilter), bad, valid)
        return self.ready[k]

    def done(self, *used: int) -> None:
        for k in used:
            self.uses[k] -= 1
            if self.uses[k] == 0:
                self.ready.pop(k, None)


def secondary_tables(img: BandImage, sizes: tuple[int, ...], block: int, cpu: bool) -> None:
    """The local energies of ``sizes`` and the box sums of ``block`` (as prepare_strip makes)."""
    wanted = tuple(s for s in sizes if s not in img.energy)
    if not wanted and (img.block_sums is not None or not block):
        return
    tile = (256, 1024) if cpu else (1 << 30, 1 << 30)
    energy, sums = local_tables(img.image, wanted, (block,) if block else (), tile)
    img.energy.update(energy)
    img.block_sums = sums.get(block)


def _empty_offsets(spec: StackSpec) -> PixelOffsets:
    grid = spec.centres()
    out = PixelOffsets(grid, spec.sizes)
    for size in spec.sizes:
        for arr in (out.dy, out.dx, out.quality, out.sigma_y, out.sigma_x):
            arr[size] = np.full((grid.rows, grid.cols), np.nan, np.float32)
    return out


def first_pass_band(
    spec: StackSpec, band: StackBand, reporter: Reporter | None = None
) -> tuple[FirstPass, list[int]]:
    """Every pair's first correlation over the band; also each image's valid pixel count."""
    rep = reporter or Reporter()
    device = torch.device(spec.device)
    grid, ranges = spec.centres(), valid_ranges(spec)
    rows = {s: band.rows(ranges[s][0]) for s in spec.sizes}
    sizes = tuple(s for s in spec.sizes if rows[s][1] > rows[s][0])
    b = block_size(spec.sizes, spec.step, spec.search)
    images = BandImages(spec, band, device)
    valid = [0] * len(spec.paths)
    total = max(
        1,
        len(spec.pairs)
        * sum((r[1] - r[0]) * (ranges[s][1][1] - ranges[s][1][0]) for s, r in rows.items()),
    )
    done = [0]

    def on_done(units: int) -> None:
        done[0] += units
        rep.report(done[0] / total)

    result: FirstPass = {}
    with batch_workers(device) as pool:
        for p, (i, j) in enumerate(spec.pairs):
            rep.check_cancel()
            ref, sec = images.get(i), images.get(j)
            valid[i], valid[j] = ref.valid, sec.valid
            secondary_tables(sec, sizes, b, device.type == "cpu")
            strip = PreparedStrip(
                band.top,
                ref.image,
                sec.image,
                ref.bad,
                sec.bad,
                ref.valid,
                sec.valid,
                sec.energy,
                sec.block_sums,
            )
            out = _empty_offsets(spec)
            blocks = None
            if b and sizes and strip.block_sums is not None:
                spans = {s: (rows[s], ranges[s][1]) for s in spec.sizes}
                rng = block_range(grid, b, spec.sizes, spans)
                blocks, fill = strip_blocks(
                    strip.ref,
                    strip.sec,
                    strip.block_sums,
                    grid,
                    strip.top,
                    b,
                    spec.sizes,
                    rng,
                    (ref.ref_spectra, sec.sec_spectra),
                )
                run_batches(fill, pool, rep, on_done)
            jobs = []
            for size in sizes:
                chunk = spec.chunk if blocks is None else max(spec.chunk, WINDOW_BATCH)
                jobs += strip_jobs(
                    strip, rows[size], grid, size, ranges[size][1], chunk, out, None, blocks
                )
            run_batches(jobs, pool, rep, on_done)
            result[p] = {
                s: tuple(
                    a[s][band.i0 : band.i1].copy()
                    for a in (out.dy, out.dx, out.quality, out.sigma_y, out.sigma_x)
                )
                for s in spec.sizes
            }
            images.done(i, j)
    return result, valid


def deform_band(
    spec: StackSpec,
    band: StackBand,
    fields: Fields,
    field_top: int,
    reporter: Reporter | None = None,
) -> Fields:
    """One window-deformation pass of every pair over the band.

    ``fields[p][size]`` holds pair p's (dy, dx) before the pass on centre rows from
    ``field_top`` (the band's rows and its halo); returns the band's rows after the pass."""
    rep = reporter or Reporter()
    device = torch.device(spec.device)
    grid, ranges = spec.centres(), valid_ranges(spec)
    images = BandImages(spec, band, device)
    total = max(1, len(spec.pairs) * len(spec.sizes))
    result: Fields = {}
    with batch_workers(device) as pool:
        for p, (i, j) in enumerate(spec.pairs):
            rep.check_cancel()
            ref, sec = images.get(i), images.get(j)
            if sec.coeffs is None:
                sec.coeffs = _spline(sec.image, pool, rep)
            out = _empty_offsets(spec)
            before = {}
            for size in spec.sizes:
                dy, dx = (np.full((grid.rows, grid.cols), np.nan, np.float32) for _ in range(2))
                n = len(fields[p][size][0])
                dy[field_top : field_top + n] = fields[p][size][0]
                dx[field_top : field_top + n] = fields[p][size][1]
                out.dy[size][:], out.dx[size][:] = dy, dx
                before[size] = (dy.copy(), dx.copy())
            for k, size in enumerate(spec.sizes):
                refine_strip(
                    ref.image,
                    sec.coeffs,
                    band.top,
                    band.rows(ranges[size][0]),
                    ranges[size][1],
                    grid,
                    size,
                    spec.chunk,
                    out,
                    before[size],
                    ranges[size][0],
                    pool,
                    rep,
                    lambda _units: None,
                )
                rep.report((p * len(spec.sizes) + k + 1) / total)
            result[p] = {
                s: (out.dy[s][band.i0 : band.i1].copy(), out.dx[s][band.i0 : band.i1].copy())
                for s in spec.sizes
            }
            images.done(i, j)
    return result


def _spline(image: torch.Tensor, pool: Any, rep: Reporter) -> torch.Tensor:
    """Cubic B-spline coefficients of a band's image, in bands of rows (as strips.correlate)."""
    coeffs = torch.empty_like(image)

    def spline_band(a: int, z: int) -> int:
        lo, hi = max(0, a - PREFILTER_RADIUS), min(len(coeffs), z + PREFILTER_RADIUS)
        coeffs[a:z] = spline_coefficients(image[lo:hi])[a - lo : z - lo]
        return 0

    per = max(4 * PREFILTER_RADIUS, len(coeffs) // 4)
    run_batches(bands(spline_band, len(coeffs), per), pool, rep, lambda _u: None)
    return coeffs
