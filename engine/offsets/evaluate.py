"""Comparison of an offset-tracking result with a known displacement field."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject


@dataclass
class OffsetErrors:
    rmse_m: float
    rmse_px: float
    points: int
    moving_rmse_m: float
    moving_points: int
    max_true_m: float
    max_measured_m: float

    def line(self, label: str = "offset tracking") -> str:
        return (
            f"{label} vs known field: RMSE {self.rmse_m:.2f} m ({self.rmse_px:.3f} px) "
            f"over {self.points} points; on the landslide {self.moving_rmse_m:.2f} m over "
            f"{self.moving_points} points; peak motion {self.max_measured_m:.1f} m measured vs "
            f"{self.max_true_m:.1f} m true"
        )


def _average_onto(
    src: rasterio.io.DatasetReader, band: int, grid: rasterio.io.DatasetReader
) -> np.ndarray:
    out = np.full((grid.height, grid.width), np.nan, np.float32)
    reproject(
        src.read(band),
        out,
        src_transform=src.transform,
        src_crs=src.crs,
        src_nodata=np.nan,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=np.nan,
        resampling=Resampling.average,
    )
    return out


def compare_with_truth(
    offsets_path: str,
    truth_path: str,
    moving_threshold_m: float = 5.0,
    grid_of: str | None = None,
) -> OffsetErrors:
    """RMSE of east/north offsets against a truth raster (bands east, north in metres).

    The truth is averaged onto the offset grid (each output pixel covers STEP x STEP image
    pixels), which is what a correlation window can resolve at best. With ``grid_of`` (another
    offsets raster, e.g. the classical tracker's), the offsets are averaged onto that raster's
    grid first, so that two results are compared at the same points.
    """
    with rasterio.open(offsets_path) as off, rasterio.open(truth_path) as tru:
        if grid_of is not None:
            with rasterio.open(grid_of) as target:
                measured = np.stack([_average_onto(off, b, target) for b in (1, 2)])
                truth = np.stack([_average_onto(tru, b, target) for b in (1, 2)])
        else:
            measured = off.read([1, 2])
            truth = np.stack([_average_onto(tru, b, off) for b in (1, 2)])
        pixel = abs(tru.transform.a)
    err = np.hypot(measured[0] - truth[0], measured[1] - truth[1])
    ok = np.isfinite(err)
    moving = ok & (np.hypot(truth[0], truth[1]) > moving_threshold_m)
    rmse = float(np.sqrt(np.mean(err[ok] ** 2))) if ok.any() else float("nan")
    mrmse = float(np.sqrt(np.mean(err[moving] ** 2))) if moving.any() else float("nan")
    mag_m = np.hypot(measured[0], measured[1])
    return OffsetErrors(
        rmse,
        rmse / pixel,
        int(ok.sum()),
        mrmse,
        int(moving.sum()),
        float(np.hypot(truth[0], truth[1]).max()),
        float(np.nanmax(mag_m)),
    )
