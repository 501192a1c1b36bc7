"""The demo's whole story: the SHIPPED graphical model on the sample data, then the map.

``geohazard:landslideevent`` (graphical_models/landslide_event.model3) runs through the real
``scripts/qgis_process`` on a block of the sample scene around the landslide: the pre- and
post-event amplitude images, the real DEM, and Sentinel-1 VV/VH SIMULATED over that DEM (no
real Sentinel-1 scene of the area is available offline; scripts/demo_sar.py). Its six outputs
then go into a QGIS project (.qgz), each with the style the plugin gives it, and a map PNG
with a legend is exported through QGIS's print layout (scripts/demo_map.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import rasterio
from geohazard.engine.io.raster_io import Grid, write_raster
from rasterio.windows import Window

ALG = "geohazard:landslideevent"
BLOCK_PX = 320
# The model's outputs: (model output name, file name, layer name, style kind), top layer first.
OUTPUTS = (
    ("arrows:Displacement arrows", "displacement_arrows.gpkg", "Displacement arrows", "arrows"),
    ("areas:Landslide areas", "landslide_areas.gpkg", "Landslide areas", "landslides"),
    ("tracking:Displacement", "displacement.tif", "Displacement magnitude (m)", "displacement"),
    (
        "deeptracking:Deep displacement",
        "deep_displacement.tif",
        "Deep tracker displacement magnitude (m)",
        "displacement",
    ),
    ("demsr:Super-resolved DEM", "dem_x4.tif", "Super-resolved DEM x4 (hillshade)", "dem"),
    (
        "distortion:SAR distortion classes",
        "sar_distortion.tif",
        "SAR distortion classes",
        "distortion",
    ),
    ("sar2opt:Optical-like image", "optical_like.tif", "Optical-like image (predicted)", "rgb"),
)


def _block(src_path: str, out_path: str, row: int, col: int, size: int) -> str:
    """The ``size`` x ``size`` block of a single-band raster centred on (row, col)."""
    with rasterio.open(src_path) as ds:
        r0 = int(np.clip(row - size // 2, 0, max(ds.height - size, 0)))
        c0 = int(np.clip(col - size // 2, 0, max(ds.width - size, 0)))
        win = Window(c0, r0, min(size, ds.width), min(size, ds.height))
        data = ds.read(1, window=win)
        grid = Grid(ds.crs, ds.window_transform(win), int(win.width), int(win.height))
        names = [ds.descriptions[0] or "band 1"]
    return write_raster(out_path, data[None], grid, names)


def event_inputs(folder: str, paths: dict[str, str], size: int = BLOCK_PX) -> dict[str, str]:
    """Blocks of the sample scene around the landslide, and simulated VV/VH over the DEM."""
    from demo_sar import simulated_sar

    with rasterio.open(paths["true_displacement"]) as ds:
        moving = ds.read(3) > 0.5
    rows, cols = np.nonzero(moving)
    row, col = int(rows.mean()), int(cols.mean())
    os.makedirs(folder, exist_ok=True)
    inputs = {
        key: _block(paths[name], os.path.join(folder, f"event_{name}.tif"), row, col, size)
        for key, name in (("DEM", "dem"), ("REFERENCE", "reference"), ("SECONDARY", "secondary"))
    }
    inputs["SAR"] = os.path.join(folder, "event_simulated_s1_vv_vh.tif")
    simulated_sar(inputs["DEM"], inputs["SAR"])
    return inputs


def run_workflow(
    out: str, qgis_process: Callable[..., None], paths: dict[str, str]
) -> list[tuple[str, str, str]]:
    """Run the shipped model; returns (path, layer name, style kind) of its outputs, top first."""
    inputs = event_inputs(os.path.join(out, "sample"), paths)
    folder = os.path.join(out, "workflow")
    os.makedirs(folder, exist_ok=True)
    outputs = {name: os.path.join(folder, file) for name, file, _, _ in OUTPUTS}
    qgis_process(ALG, **inputs, THRESHOLD="10", MIN_AREA="20000", **outputs)
    missing = [path for path in outputs.values() if not os.path.exists(path)]
    if missing:
        raise SystemExit(f"{ALG} did not write {', '.join(missing)}")
    return [(outputs[name], layer, kind) for name, _, layer, kind in OUTPUTS]


def summary(layers: list[tuple[str, str, str]]) -> str:
    """One line on what the model found: the landslide polygons and the peak motion."""
    from qgis.core import QgsVectorLayer

    path: dict[str, str] = {}
    for p, _, kind in layers:  # the top layer of each kind: the classical displacement
        path.setdefault(kind, p)
    areas = QgsVectorLayer(path["landslides"], "areas", "ogr")
    feats = sorted(areas.getFeatures(), key=lambda f: -f["area_m2"])
    with rasterio.open(path["displacement"]) as ds:
        peak = float(np.nanmax(ds.read(3)))
    parts = [
        f"{f['area_m2'] / 1e6:.2f} km2 moving {f['mean_disp']:.1f} m (max {f['max_disp']:.1f} m) "
        f"towards {f['azimuth']:.0f} deg"
        for f in feats[:3]
    ]
    return (
        f"landslide event workflow ({ALG}, shipped model): {len(feats)} landslide area(s): "
        + ("; ".join(parts) or "none")
        + f"; peak displacement {peak:.1f} m"
    )
