"""InSAR topographic phase of a DEM, and the residue a different DEM leaves.

For a repeat-pass interferogram with perpendicular baseline B_perp, wavelength lambda, slant
range R and incidence angle theta, the topographic phase of elevation h is
``phi = 4*pi*B_perp*h / (lambda*R*sin(theta))`` radians (h above the ellipsoid/geoid datum of
the DEM), and one fringe (2*pi) corresponds to the height of ambiguity
``h_a = lambda*R*sin(theta) / (2*B_perp)``. Comparing two DEMs gives the phase error a DEM
leaves in differential interferometry (the paper's "DEM phase residues").
"""

from __future__ import annotations

import math
import os
import zlib
from dataclasses import dataclass

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.dem_values import ElevationGuard, check_dem_size, impossible_mask
from ..io.input_checks import dem_valid, require_valid_data
from ..io.output_files import check_free_space
from ..io.raster_io import (
    RasterWriter,
    check_output_path,
    inspect_raster,
    open_band,
    planned_raster,
)
from ..io.run_estimate import announce_time, measure_seconds

SENTINEL1_WAVELENGTH_M = 0.05546576  # C band, 5.405 GHz
STRIP_PIXELS = 2_000_000  # pixels per strip: memory bounded whatever the raster's width


@dataclass(frozen=True)
class PhaseGeometry:
    """Viewing geometry. Defaults: Sentinel-1 IW, mid-swath.

    Args:
        baseline_m: perpendicular baseline in metres. Default 150.
        wavelength_m: radar wavelength in metres. Default 0.0555 (Sentinel-1 C band).
        slant_range_m: slant range in metres. Default 880 km.
        incidence_deg: incidence angle in degrees. Default 39.
    """

    baseline_m: float = 150.0
    wavelength_m: float = SENTINEL1_WAVELENGTH_M
    slant_range_m: float = 880_000.0
    incidence_deg: float = 39.0

    def check(self) -> None:
        if self.baseline_m == 0:
            raise GeohazardError(
                "A zero perpendicular baseline has no topographic phase; give a non-zero baseline."
            )
        if self.wavelength_m <= 0 or self.slant_range_m <= 0:
            raise GeohazardError("Wavelength and slant range must be positive.")
        if not 0 < self.incidence_deg < 90:
            raise GeohazardError(
                f"The incidence angle must be between 0 and 90 degrees, not {self.incidence_deg}."
            )

    @property
    def radians_per_metre(self) -> float:
        return (
            4
            * math.pi
            * self.baseline_m
            / (self.wavelength_m * self.slant_range_m * math.sin(math.radians(self.incidence_deg)))
        )

    @property
    def height_of_ambiguity_m(self) -> float:
        return abs(2 * math.pi / self.radians_per_metre)


def wrap(phase: np.ndarray) -> np.ndarray:
    """Phase wrapped into [-pi, pi)."""
    return (np.mod(phase + np.pi, 2 * np.pi) - np.pi).astype(np.float32)


def topographic_phase(
    dem_path: str,
    output_path: str,
    geometry: PhaseGeometry,
    compare_path: str | None = None,
    reporter: Reporter | None = None,
    strip_pixels: int = STRIP_PIXELS,
) -> dict[str, float]:
    """Write the unwrapped and wrapped phase of a DEM (and, with ``compare_path``, the residue).

    Bands: 1 unwrapped phase (rad), 2 wrapped phase (rad); with a comparison DEM (resampled onto
    the DEM's grid by cubic convolution) also 3 residual phase DEM minus comparison (rad, unwrapped)
    and 4 the same wrapped.
    """
    rep = reporter or Reporter()
    geometry.check()
    check_output_path(output_path)
    info = inspect_raster(dem_path)
    if info.count != 1:
        raise GeohazardError(
            f"'{os.path.basename(dem_path)}' has {info.count} bands; a DEM must have one band."
        )
    check_dem_size(info.grid.width, info.grid.height, os.path.basename(dem_path))
    k = geometry.radians_per_metre
    names = ["topographic phase, unwrapped (rad)", "topographic phase, wrapped (rad)"]
    other_info = None
    if compare_path:
        other_info = inspect_raster(compare_path)
        if other_info.count != 1:
            raise GeohazardError(
                f"'{os.path.basename(compare_path)}' has {other_info.count} bands; "
                "a DEM must have one band."
            )
        names += [
            "residual phase DEM - comparison, unwrapped (rad)",
            "residual phase, wrapped (rad)",
        ]
    grid = info.grid
    check_free_space([planned_raster(output_path, grid, len(names))], rep)
    require_valid_data(info, 1, "DEM", rep, dem_valid)
    if other_info is not None:
        require_valid_data(other_info, 1, "comparison DEM", rep, dem_valid)
    tags = {
        "HEIGHT_OF_AMBIGUITY_M": f"{geometry.height_of_ambiguity_m:.3f}",
        "RADIANS_PER_METRE": f"{k:.6g}",
    }
    guard = ElevationGuard.for_path(dem_path)
    other_guard = ElevationGuard.for_path(compare_path) if compare_path else None
    residual_sq, residual_n, any_valid = 0.0, 0, False
    rows = max(1, strip_pixels // max(grid.width, 1))
    other = None
    try:
        if other_info is not None:
            other = open_band(
                other_info,
                1,
                grid,
                rep,
                role="comparison",
                resampling=Resampling.cubic,
                grid_role="DEM",
            )
        with open_band(info, 1) as reader:

            def strip(win: Window, count: bool = True) -> list[np.ndarray]:
                raw = reader.read(win)
                h = (guard.clean(raw) if count else _drop_impossible(raw)).astype(np.float64)
                phase: np.ndarray = k * h
                bands = [phase.astype(np.float32), wrap(phase)]
                if other is not None:
                    o = other.read(win)
                    o = other_guard.clean(o) if count and other_guard else _drop_impossible(o)
                    res: np.ndarray = k * (h - o.astype(np.float64))
                    bands += [res.astype(np.float32), wrap(res)]
                return bands

            sample = Window(0, 0, grid.width, min(grid.height, max(1, 65_536 // grid.width)))
            seconds = measure_seconds(
                lambda: zlib.compress(np.stack(strip(sample, False)).tobytes(), 6), repeats=1
            )
            announce_time(
                rep,
                seconds * grid.height / sample.height,
                f"rate measured just now on the first {sample.height} rows of the DEM",
            )
            with RasterWriter(output_path, grid, names, tags=tags) as writer:
                for r0 in range(0, grid.height, rows):
                    rep.check_cancel()
                    win = Window(0, r0, grid.width, min(rows, grid.height - r0))
                    bands = strip(win)
                    any_valid = any_valid or bool(np.isfinite(bands[0]).any())
                    if other is not None:
                        res = bands[2]
                        fin = np.isfinite(res)
                        residual_sq += float(np.sum(res[fin].astype(np.float64) ** 2))
                        residual_n += int(fin.sum())
                    writer.write(np.stack(bands), win)
                    rep.report(min(1.0, (r0 + win.height) / grid.height))
                if not any_valid:
                    raise GeohazardError(
                        "The DEM contains no valid elevation (every pixel is nodata)."
                    )
                rep.check_cancel()
    finally:
        if other is not None:
            other.close()
    guard.warn(rep)
    if other_guard is not None:
        other_guard.warn(rep)
    out = {"height_of_ambiguity_m": geometry.height_of_ambiguity_m, "radians_per_metre": k}
    if other is not None:
        out["residual_phase_rms_rad"] = (
            math.sqrt(residual_sq / residual_n) if residual_n else float("nan")
        )
    return out


def _drop_impossible(values: np.ndarray) -> np.ndarray:
    values[impossible_mask(values)] = np.nan
    return values
