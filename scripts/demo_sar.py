"""The SAR part of the demo: distortion classes of the demo DEM, and an optical-like image.

There is no real Sentinel-1 scene of the demo area offline, so the SAR is simulated (named so in
every line printed): Sentinel-1 IW VV/VH sigma0 over the real demo DEM
(engine/simulate/sar_optical.py) with a uniform forest cover (the Cumberland Plateau around the
Jacksboro fault is mostly forested), 4.4-look speckle, descending pass. The plugin then computes
the distortion classes of the DEM and translates the simulated SAR with the bundled late-fusion
SARDINet, on a central block of the demo DEM (the network is slow on a
CPU). The simulator's own classes (computed in radar geometry) check the algorithm's.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import rasterio
from geohazard.engine.io.geodesy import row_metres, true_north_azimuth
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.sar.sar_geometry import AcquisitionGeometry
from geohazard.engine.simulate.sar_optical import LandCover, simulate_sentinel1
from rasterio.windows import Window

NAMES = ("undistorted", "foreshortening", "layover", "shadow")
CROP_PX = 320


def simulated_sar(dem_path: str, out_path: str, seed: int = 11) -> np.ndarray:
    """Write simulated VV/VH sigma0 (linear) over the DEM; returns the simulator's classes."""
    with rasterio.open(dem_path) as ds:
        dem = ds.read(1).astype(np.float32)
        grid = Grid(ds.crs, ds.transform, ds.width, ds.height)
    col_m, row_m = row_metres(grid, np.arange(grid.height))
    cover = LandCover(
        water=np.zeros(dem.shape, bool), vegetation=np.full(dem.shape, 0.8, np.float32)
    )
    sar = simulate_sentinel1(
        dem,
        col_m,
        row_m,
        cover,
        AcquisitionGeometry(),
        seed,
        grid_rotation_deg=true_north_azimuth(grid),
    )
    write_raster(
        out_path,
        np.stack([sar.vv, sar.vh]).astype(np.float32),
        grid,
        ["VV sigma0 (linear, simulated)", "VH sigma0 (linear, simulated)"],
    )
    return sar.classes


def crop(dem_path: str, out_path: str, size: int = CROP_PX) -> str:
    """The central ``size`` x ``size`` block of the DEM (SAR-to-optical is slow on a CPU)."""
    with rasterio.open(dem_path) as ds:
        r0, c0 = max((ds.height - size) // 2, 0), max((ds.width - size) // 2, 0)
        win = Window(c0, r0, min(size, ds.width), min(size, ds.height))
        dem = ds.read(1, window=win)
        grid = Grid(ds.crs, ds.window_transform(win), int(win.width), int(win.height))
    return write_raster(out_path, dem[None], grid, ["elevation (m)"])


def run_sar_demo(out: str, qgis_process: Callable[..., None], dem_path: str) -> str:
    """Run sardistortion and sartooptical on the demo area; returns the line to print."""
    dem_path = crop(dem_path, os.path.join(out, "sample", "dem_sar_block.tif"))
    sar_path = os.path.join(out, "sample", "simulated_s1_vv_vh.tif")
    truth = simulated_sar(dem_path, sar_path)
    classes_path = os.path.join(out, "sar_distortion.tif")
    qgis_process("geohazard:sardistortion", DEM=dem_path, OUTPUT=classes_path)
    optical = os.path.join(out, "optical_like.tif")
    qgis_process("geohazard:sartooptical", SAR=sar_path, DEM=dem_path, OUTPUT=optical)
    with rasterio.open(classes_path) as ds:
        classes = ds.read(1)
    with rasterio.open(optical) as ds:
        rgb = ds.read()
    valid = classes != 255
    shares = ", ".join(
        f"{name} {100 * np.mean(classes[valid] == k):.1f}%" for k, name in enumerate(NAMES)
    )
    agree = 100 * np.mean(classes[valid] == truth[valid])
    return (
        f"SAR distortion classes of a {classes.shape[1]}x{classes.shape[0]} px block of the demo "
        f"DEM (Sentinel-1 IW descending, 39 deg): {shares}; "
        f"{agree:.1f}% of pixels agree with the simulator's own classes. Optical-like image from "
        f"SIMULATED Sentinel-1 VV/VH (late fusion SARDINet): {rgb.shape[0]} bands, "
        f"{rgb.shape[2]}x{rgb.shape[1]} px, mean RGB "
        + "/".join(f"{float(np.nanmean(b)):.0f}" for b in rgb)
        + " (the bundled SAR-to-optical models are small CPU demonstrations: see their cards)"
    )
