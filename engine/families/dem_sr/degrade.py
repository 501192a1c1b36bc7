"""Low-resolution versions of high-resolution rasters, and the classical upsamplers compared.

Low resolution is made by block averaging (area mean over ``scale x scale`` pixels), which is
what a coarser DEM cell measures; the paper's bicubic downsampling is the image-processing
habit and not physical for elevations. Bicubic upsampling is torch's (Keys a = -0.75, pixel
centres aligned, borders replicated), the same as GDAL/OpenCV cubic.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def block_mean(hr: np.ndarray, scale: int) -> np.ndarray:
    """Mean of each ``scale x scale`` block (the array is cropped to a multiple of scale)."""
    rows, cols = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    view = hr[:rows, :cols].reshape(rows // scale, scale, cols // scale, scale)
    return view.astype(np.float64).mean(axis=(1, 3)).astype(np.float32)


def upsample(lr: np.ndarray, scale: int, method: str) -> np.ndarray:
    """Upsample a 2-D float array by ``scale`` with ``bicubic`` or ``nearest``."""
    t = torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float64))[None, None]
    if method == "bicubic":
        out = F.interpolate(t, scale_factor=scale, mode="bicubic", align_corners=False)
    elif method == "nearest":
        out = F.interpolate(t, scale_factor=scale, mode="nearest")
    else:
        raise ValueError(f"unknown method {method}")
    return out[0, 0].numpy().astype(np.float32)


def sensor_degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """A coarser sensor: Gaussian blur whose full width at half maximum is one LR cell
    (sigma = scale / 2.355 HR pixels, borders mirrored), then block means."""
    from scipy import ndimage

    sigma = scale / 2.355
    blurred = ndimage.gaussian_filter(hr.astype(np.float64), sigma, mode="mirror", truncate=3.0)
    return block_mean(blurred, scale)


def gdal_upsample(lr: np.ndarray, scale: int, method: str) -> np.ndarray:
    """Upsample with GDAL (``gdalwarp -r cubic`` or ``-r near``), what a user gets in QGIS."""
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    rows, cols = lr.shape
    out = np.full((rows * scale, cols * scale), np.nan, np.float32)
    src = np.ascontiguousarray(lr, dtype=np.float32)
    reproject(
        src,
        out,
        src_transform=Affine(1000.0, 0, 0, 0, -1000.0, 0),  # any metric grid
        dst_transform=Affine(1000.0 / scale, 0, 0, 0, -1000.0 / scale, 0),
        src_crs="EPSG:3857",
        dst_crs="EPSG:3857",
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.cubic if method == "cubic" else Resampling.nearest,
    )
    return out
