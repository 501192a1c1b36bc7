"""The stable-ground correction and velocities for a dense (one value per pixel) offsets raster.

A dense map is as large as its images, so it is never held whole: the stable-ground shift is
the median of the east/north offsets at the pixels inside the stable polygons, gathered block
by block (at most :data:`MAX_STABLE_SAMPLES` of them, an even subsample beyond), and the
corrected offsets and the velocities are written block by block into staged outputs that
replace their destinations together, only when both are complete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.output_files import StagedOutput, commit_all, discard_all
from .extras import DAYS_PER_YEAR, MIN_STABLE_POINTS, StableCorrection

BLOCK_ROWS = 512
MAX_STABLE_SAMPLES = 2_000_000
OFFSET_BANDS = (0, 1, 2, 4, 5)  # east, north, magnitude, east and north 1-sigma: scaled to m/yr


@dataclass(frozen=True)
class DenseExtras:
    """What to add to a dense offsets raster.

    Args:
        stable_areas: GeoJSON polygons of stable ground in the raster's CRS, or None.
        days: the interval between the acquisitions for velocities, or None.
        velocity_output: where the velocities go (needs ``days``), or None.
    """

    stable_areas: list[dict] | None = None
    days: float | None = None
    velocity_output: str | None = None

    @property
    def needed(self) -> bool:
        return bool(self.stable_areas) or bool(self.velocity_output and self.days)


def _stable_samples(src: rasterio.DatasetReader, geometries: list[dict]) -> np.ndarray:
    """(2, N) east/north offsets at the valid pixels inside the polygons."""
    east, north = [], []
    for r0 in range(0, src.height, BLOCK_ROWS):
        win = Window(0, r0, src.width, min(BLOCK_ROWS, src.height - r0))
        inside = rasterize(
            [(g, 1) for g in geometries],
            out_shape=(int(win.height), src.width),
            transform=window_transform(win, src.transform),
            fill=0,
            dtype="uint8",
        ).astype(bool)
        if not inside.any():
            continue
        e, n = src.read(1, window=win), src.read(2, window=win)
        ok = inside & np.isfinite(e) & np.isfinite(n)
        east.append(e[ok])
        north.append(n[ok])
    if not east:
        return np.zeros((2, 0), np.float32)
    samples = np.stack([np.concatenate(east), np.concatenate(north)])
    if samples.shape[1] > MAX_STABLE_SAMPLES:
        keep = np.linspace(0, samples.shape[1] - 1, MAX_STABLE_SAMPLES).astype(np.int64)
        samples = samples[:, keep]
    return samples


def stable_shift(
    src: rasterio.DatasetReader, geometries: list[dict], rep: Reporter
) -> StableCorrection:
    """The median east/north offset over stable ground and the RMSE left after removing it."""
    samples = _stable_samples(src, geometries)
    n = samples.shape[1]
    if n == 0 and not _overlaps(src, geometries):
        raise GeohazardError(
            "No stable-ground polygon overlaps the tracked area (check that STABLE_AREAS covers "
            "the reference image and is in a CRS QGIS can transform)."
        )
    if n < MIN_STABLE_POINTS:
        rep.warning(
            f"Only {n} valid offset points lie on the stable ground (at least {MIN_STABLE_POINTS} "
            "needed): no stable-ground correction was applied. Draw larger stable areas."
        )
        return StableCorrection(points=n)
    east, north = float(np.median(samples[0])), float(np.median(samples[1]))
    rmse = float(np.sqrt(np.mean((samples[0] - east) ** 2 + (samples[1] - north) ** 2)))
    rep.info(
        f"Stable-ground correction: removed a shift of {east:+.3f} m east, {north:+.3f} m north "
        f"(median over {n} pixels); RMSE over stable ground after correction {rmse:.3f} m."
    )
    return StableCorrection(east, north, rmse, n)


def _overlaps(src: rasterio.DatasetReader, geometries: list[dict]) -> bool:
    from rasterio.features import bounds as geometry_bounds

    left, bottom, right, top = src.bounds
    for g in geometries:
        x0, y0, x1, y1 = geometry_bounds(g)
        if x0 <= right and x1 >= left and y0 <= top and y1 >= bottom:
            return True
    return False


def finish_dense_output(
    raw: str, output: str, extras: DenseExtras, rep: Reporter
) -> StableCorrection | None:
    """Write ``output`` (and the velocities) from the dense offsets in ``raw``: the stable shift
    removed from east and north, the magnitude recomputed; all outputs or none."""
    staged: list[StagedOutput] = []
    try:
        with rasterio.open(raw) as src:
            stable = stable_shift(src, extras.stable_areas, rep) if extras.stable_areas else None
            shift = (
                (stable.east, stable.north)
                if stable is not None and stable.east is not None and stable.north is not None
                else (0.0, 0.0)
            )
            profile = src.profile.copy()
            tags = src.tags()
            names = [src.descriptions[i] for i in range(src.count)]
            targets: list[tuple[StagedOutput, float | None]] = [(StagedOutput(output), None)]
            if extras.velocity_output and extras.days:
                targets.append((StagedOutput(extras.velocity_output), extras.days))
            staged = [t[0] for t in targets]
            dsts = []
            for out, days in targets:
                dst = rasterio.open(out.tmp, "w", **profile)
                dsts.append((dst, days))
                dst.update_tags(**tags)
                if stable is not None and stable.east is not None:
                    dst.update_tags(
                        STABLE_SHIFT_EAST_M=f"{stable.east:.6f}",
                        STABLE_SHIFT_NORTH_M=f"{stable.north:.6f}",
                        STABLE_RMSE_M=f"{stable.rmse:.6f}",
                    )
                for i, name in enumerate(names, 1):
                    label = name or ""
                    if days is not None:
                        label = label.replace("(m)", "(m/yr)")
                        dst.update_tags(VELOCITY_INTERVAL_DAYS=f"{days:g}")
                    dst.set_band_description(i, label)
            try:
                for r0 in range(0, src.height, BLOCK_ROWS):
                    rep.check_cancel()
                    win = Window(0, r0, src.width, min(BLOCK_ROWS, src.height - r0))
                    block = src.read(window=win).astype(np.float32)
                    block[0] -= np.float32(shift[0])
                    block[1] -= np.float32(shift[1])
                    block[2] = np.hypot(block[0], block[1])
                    for dst, days in dsts:
                        out_block = block
                        if days is not None:
                            out_block = block.copy()
                            out_block[list(OFFSET_BANDS)] *= np.float32(DAYS_PER_YEAR / days)
                        dst.write(out_block, window=win)
                    rep.report(min(1.0, (r0 + BLOCK_ROWS) / src.height))
            finally:
                for dst, _ in dsts:
                    dst.close()
        for out in staged:
            out.finish(_readable)
        commit_all(staged)
    except BaseException:
        discard_all(staged)
        raise
    return stable


def _readable(path: str) -> None:
    with rasterio.open(path) as ds:
        ds.read(1, window=Window(0, 0, min(ds.width, 8), min(ds.height, 8)))
    if os.path.getsize(path) == 0:
        raise GeohazardError("the file is empty")
