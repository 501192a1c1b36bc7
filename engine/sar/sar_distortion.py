"""SAR geometric distortion classes of a DEM raster: foreshortening, layover and shadow.

The DEM is read in strips across the range direction with a halo wide enough for the longest
shadow or layover the DEM's relief can produce (relief x max(tan, cot) of the incidence angle),
so the result is the same as one pass over the whole raster while memory stays bounded. See
:mod:`engine.sar.sar_geometry` for the geometry.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.dem_values import ElevationGuard, check_dem_size, impossible_mask
from ..io.geodesy import check_north_up, row_metres, true_north_azimuth
from ..io.input_checks import dem_valid, require_valid_data, sample_windows
from ..io.output_files import check_free_space
from ..io.raster_io import (
    Grid,
    RasterWriter,
    check_output_path,
    inspect_raster,
    open_band,
    planned_raster,
)
from ..io.run_estimate import announce_time, check_memory, measure_seconds
from .sar_geometry import (
    CLASS_NAMES,
    NODATA_CLASS,
    AcquisitionGeometry,
    SweepFrame,
    classify,
)

BLOCK = 256  # strip cores are whole multiples of the output's tile size
STRIP_PIXELS = 8_000_000  # pixels read per strip (core + halo); bounds memory to ~0.5 GB
STRIP_BYTES_PER_PIXEL = 64  # a strip's elevations, slopes and ray tracing, per pixel


@dataclass(frozen=True)
class DistortionOptions:
    """Choices of :func:`sar_distortion` beyond the acquisition geometry.

    Args:
        along_range: also mark terrain hidden or overlaid by other terrain (ray casting along
            range lines, as SNAP's layover/shadow mask). Default True.
        min_foreshortening_deg: range slope (degrees) a slope facing the sensor must exceed to
            count as foreshortening. Default 0 (the geometric definition).
        strip_pixels: pixels read at once (core + halo). Default 8 million.
    """

    along_range: bool = True
    min_foreshortening_deg: float = 0.0
    strip_pixels: int = STRIP_PIXELS

    def check(self) -> None:
        if not 0.0 <= self.min_foreshortening_deg < 90.0:
            raise GeohazardError(
                "The minimum foreshortening slope must be between 0 and 90 degrees, "
                f"not {self.min_foreshortening_deg}."
            )


def _announce_time(
    block: np.ndarray,
    window: Window,
    grid: Grid,
    geometry: AcquisitionGeometry,
    rotation: float,
    opts: DistortionOptions,
    rep: Reporter,
) -> None:
    """Log the expected time: the classification timed just now on one sampled block, scaled
    to every pixel of the DEM (a lower bound where strip margins are read twice)."""
    z = block.copy()
    z[~dem_valid(z)] = np.nan
    rows = np.arange(int(window.row_off), int(window.row_off) + z.shape[0])
    col_m, row_m = row_metres(grid, rows)
    seconds = measure_seconds(
        lambda: classify(
            z, col_m, row_m, geometry, rotation, opts.along_range, opts.min_foreshortening_deg
        ),
        repeats=1,
    )
    announce_time(
        rep,
        seconds / max(z.size, 1) * grid.width * grid.height,
        f"rate of the classification measured just now on a {z.shape[1]} x {z.shape[0]} px "
        "block of the DEM",
    )


def _value_range(arrays: list[np.ndarray]) -> tuple[float, float]:
    """Lowest and highest possible elevation in ``arrays`` (0, 0 when none is valid)."""
    valid = [a[dem_valid(a)] for a in arrays]
    values = np.concatenate([v.ravel() for v in valid]) if valid else np.zeros(0)
    return (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)


def _elevation_range(reader, grid: Grid, rep: Reporter) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    lo, hi = math.inf, -math.inf
    step = max(1, min(grid.height, STRIP_PIXELS // max(grid.width, 1)))
    for r0 in range(0, grid.height, step):
        rep.check_cancel()
        z = reader.read(Window(0, r0, grid.width, min(step, grid.height - r0)))
        z[impossible_mask(z)] = np.nan  # values no DEM can hold are nodata
        if np.isfinite(z).any():
            lo, hi = min(lo, float(np.nanmin(z))), max(hi, float(np.nanmax(z)))
        rep.report((r0 + step) / grid.height)
    return lo, hi


def sar_distortion(
    dem_path: str,
    output_path: str,
    geometry: AcquisitionGeometry,
    options: DistortionOptions | None = None,
    reporter: Reporter | None = None,
) -> dict[str, float]:
    """Write the distortion class raster of a DEM (uint8 on the DEM grid, 255 = nodata).

    Classes: 0 undistorted, 1 foreshortening, 2 layover, 3 shadow.

    Returns:
        The percentage of valid pixels in each class (keys ``undistorted_percent``, ...) and
        the halo used (``halo_m``).
    """
    rep = reporter or Reporter()
    opts = options or DistortionOptions()
    geometry.check()
    opts.check()
    check_output_path(output_path)
    info = inspect_raster(dem_path)
    name = os.path.basename(dem_path)
    if info.count != 1:
        raise GeohazardError(f"'{name}' has {info.count} bands; a DEM must have one band.")
    grid = info.grid
    check_dem_size(grid.width, grid.height, name)
    check_north_up(grid, name)
    # the output must fit on the disk; a DEM without a valid elevation is refused
    check_free_space([planned_raster(output_path, grid, 1, "uint8")], rep)
    require_valid_data(info, 1, "DEM", rep, dem_valid)
    guard = ElevationGuard.for_path(dem_path)
    rotation = true_north_azimuth(grid)
    look = geometry.look_vector(rotation)
    all_rows = np.arange(grid.height)
    col_m_all, row_m_all = row_metres(grid, all_rows)
    frame = SweepFrame.for_direction(
        look[0] / float(np.mean(col_m_all)), look[1] / float(np.mean(row_m_all))
    )
    counts = np.zeros(4, dtype=np.int64)
    # strips run along the sweep axis (whole range lines) and are stacked across it
    if frame.transpose:  # range lines run along rows: strips of columns
        across_m = float(np.min(np.abs(col_m_all)))
        across_len, along_len = grid.width, grid.height
        across_component = abs(look[0])
    else:
        across_m = float(np.min(np.abs(row_m_all)))
        across_len, along_len = grid.height, grid.width
        across_component = abs(look[1])
    theta = math.radians(geometry.incidence_deg)

    def strips(lo: float, hi: float, reporter: Reporter) -> tuple[float, int, int]:
        """(halo in m, halo lines, core lines) for a relief from ``lo`` to ``hi``; refuses
        strips that cannot fit in memory."""
        halo_m = (hi - lo) * max(math.tan(theta), 1.0 / math.tan(theta)) if opts.along_range else 0
        halo = int(math.ceil(halo_m * across_component / across_m)) + 2
        core = max(BLOCK, (opts.strip_pixels // max(along_len, 1) - 2 * halo) // BLOCK * BLOCK)
        check_memory(
            STRIP_BYTES_PER_PIXEL * along_len * min(across_len, core + 2 * halo),
            f"strips of {min(across_len, core)} lines with {halo} lines of margin on each side "
            f"(distortions of a {hi - lo:.0f} m relief reach {halo_m:.0f} m along range)",
            "clip the DEM to the area of interest, or resample it to larger pixels.",
            reporter,
        )
        return halo_m, halo, core

    with open_band(info, 1) as reader:
        # the relief of a spread sample bounds the margin from below: strips that cannot fit
        # are refused before the whole DEM is read for its true relief
        windows = sample_windows(grid.width, grid.height)
        sample = [reader.read(w) for w in windows]
        strips(*_value_range(sample), Reporter())
        _announce_time(sample[0], windows[0], grid, geometry, rotation, opts, rep)
        lo, hi = _elevation_range(reader, grid, rep.step(0.0, 0.15))
        if not math.isfinite(lo):
            raise GeohazardError(f"'{name}' contains no valid elevation (every pixel is nodata).")
        halo_m, halo, core = strips(lo, hi, rep)
        rep.info(
            f"Look azimuth {geometry.look_azimuth_deg:.1f} deg from true north "
            f"({rotation:+.2f} deg grid convergence), incidence {geometry.incidence_deg:g} deg; "
            f"relief {hi - lo:.0f} m, so distortions can reach {halo_m:.0f} m along range; "
            f"strips of {core} lines with {halo} lines of margin."
        )
        tags = {
            "INCIDENCE_DEG": f"{geometry.incidence_deg:g}",
            "HEADING_DEG": f"{geometry.heading_deg:g}",
            "LOOK": geometry.look,
            "LOOK_AZIMUTH_DEG": f"{geometry.look_azimuth_deg:.3f}",
            "ALONG_RANGE": str(opts.along_range),
            "MIN_FORESHORTENING_DEG": f"{opts.min_foreshortening_deg:g}",
            "CLASSES": "0 undistorted, 1 foreshortening, 2 layover, 3 shadow, 255 nodata",
        }
        work = rep.step(0.15, 1.0)
        with RasterWriter(
            output_path,
            grid,
            ["SAR distortion class (0 undistorted, 1 foreshortening, 2 layover, 3 shadow)"],
            nodata=NODATA_CLASS,
            dtype="uint8",
            tags=tags,
        ) as writer:
            for a0 in range(0, across_len, core):
                work.check_cancel()
                a1 = min(across_len, a0 + core)
                h0, h1 = max(0, a0 - halo), min(across_len, a1 + halo)
                if frame.transpose:
                    win = Window(h0, 0, h1 - h0, grid.height)
                    rows = all_rows
                else:
                    win = Window(0, h0, grid.width, h1 - h0)
                    rows = all_rows[h0:h1]
                own = slice(a0 - h0, a1 - h0)  # counted once, in the strip's core
                z = guard.clean(
                    reader.read(win), (slice(None), own) if frame.transpose else (own, slice(None))
                )
                col_m, row_m = row_metres(grid, rows)
                cls = classify(
                    z,
                    col_m,
                    row_m,
                    geometry,
                    rotation,
                    opts.along_range,
                    opts.min_foreshortening_deg,
                )
                if frame.transpose:
                    cls = cls[:, a0 - h0 : a1 - h0]
                    out_win = Window(a0, 0, a1 - a0, grid.height)
                else:
                    cls = cls[a0 - h0 : a1 - h0]
                    out_win = Window(0, a0, grid.width, a1 - a0)
                counts += np.bincount(cls[cls != NODATA_CLASS].ravel(), minlength=4)[:4]
                writer.write(cls, out_win)
                work.report(a1 / across_len)
            work.check_cancel()
    guard.warn(rep)
    total = max(int(counts.sum()), 1)
    result = {f"{CLASS_NAMES[k]}_percent": 100.0 * counts[k] / total for k in range(4)}
    result["halo_m"] = float(halo_m)
    return result
