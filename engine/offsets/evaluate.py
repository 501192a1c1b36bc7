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

    def line(self) -> str:
        return (
            f"offset tracking vs known field: RMSE {self.rmse_m:.2f} m ({self.rmse_px:.3f} px) "
            f"over {self.points} points; on the landslide {self.moving_rmse_m:.2f} m over "
            f"{self.moving_points} points; peak motion {self.max_measured_m:.1f} m measured vs "
            f"{self.max_true_m:.1f} m true"
        )


def compare_with_truth(
    offsets_path: str, truth_path: str, moving_threshold_m: float = 5.0
) -> OffsetErrors:
    """RMSE of east/north offsets against a truth raster (bands east, north in metres).

    The truth is averaged onto the offset grid (each output pixel covers STEP x STEP image
    pixels), which is what a correlation window can resolve at best.
    """
    with rasterio.open(offsets_path) as off, rasterio.open(truth_path) as tru:
        measured = off.read([1, 2])
        truth = np.zeros_like(measured)
        for i in (0, 1):
            reproject(
                tru.read(i + 1),
                truth[i],
                src_transform=tru.transform,
                src_crs=tru.crs,
                dst_transform=off.transform,
                dst_crs=off.crs,
                resampling=Resampling.average,
            )
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
