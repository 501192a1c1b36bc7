"""The shipped graphical model (graphical_models/landslide_event.model3): listed in the
Geohazard provider and run end to end through processing.run and the real qgis_process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.raster_io import Grid, write_raster
from qgis.core import QgsProcessingFeedback, QgsVectorLayer
from rasterio.crs import CRS
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:landslideevent"
SHAPE = (128, 128)


def _inputs(folder: Path) -> dict[str, str]:
    """DEM, VV/VH SAR and an amplitude pair with a disk lobe moving 3 px (30 m) east."""
    folder.mkdir(parents=True, exist_ok=True)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 500_000, 0, -10, 4_000_000), *SHAPE)
    dem = fractal_terrain(SHAPE, 2, TerrainConfig(relief_m=400.0, base_m=600.0))
    dem_path = write_raster(str(folder / "dem.tif"), dem[None], grid, ["elevation (m)"])
    rr, cc = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    lobe = ((rr - 64) ** 2 + (cc - 64) ** 2 <= 30**2).astype(np.float32)
    reference, secondary = write_pair(folder, np.zeros(SHAPE), 3.0 * lobe, grid)
    with rasterio.open(reference) as src:
        amplitude = src.read(1)
    vv = (amplitude / amplitude.mean() * 0.05) ** 2
    sar = write_raster(
        str(folder / "sar.tif"), np.stack([vv, 0.2 * vv]).astype(np.float32), grid, ["VV", "VH"]
    )
    return {"DEM": dem_path, "SAR": sar, "REFERENCE": reference, "SECONDARY": secondary}


def test_listed_in_the_toolbox_with_its_inputs(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None and alg.provider().id() == "geohazard"
    assert alg.displayName() == "Landslide event workflow"
    names = {p.name() for p in alg.parameterDefinitions()}
    assert {"DEM", "SAR", "REFERENCE", "SECONDARY", "THRESHOLD", "MIN_AREA"} <= names
    children = {c.algorithmId() for c in alg.childAlgorithms().values()}
    assert children == {
        "geohazard:demsuperresolution",
        "geohazard:sardistortion",
        "geohazard:sartooptical",
        "geohazard:offsettracking",
        "geohazard:deepoffsettracking",
        "geohazard:landslideareas",
        "geohazard:displacementarrows",
    }


@pytest.mark.slow
def test_runs_end_to_end_through_qgis_process(tmp_path: Path) -> None:
    params = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    outputs = {
        "demsr:Super-resolved DEM": out / "dem_sr.tif",
        "distortion:SAR distortion classes": out / "distortion.tif",
        "sar2opt:Optical-like image": out / "optical.tif",
        "tracking:Displacement": out / "displacement.tif",
        "deeptracking:Deep displacement": out / "deep_displacement.tif",
        "areas:Landslide areas": out / "areas.gpkg",
        "arrows:Displacement arrows": out / "arrows.gpkg",
    }
    args = [f"{k}={v}" for k, v in params.items()]
    args += ["THRESHOLD=10", "MIN_AREA=5000"]
    args += [f"{k}={v}" for k, v in outputs.items()]
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for path in outputs.values():
        assert path.exists(), path
    with rasterio.open(out / "dem_sr.tif") as f:
        assert f.width == SHAPE[1] * 4
    with rasterio.open(out / "optical.tif") as f:
        assert f.count == 3
    areas = QgsVectorLayer(str(out / "areas.gpkg"), "a", "ogr")
    assert areas.featureCount() >= 1
    biggest = max(areas.getFeatures(), key=lambda f: f["area_m2"])
    # the lobe: a disk of radius 30 px = 300 m at (500645, 3999355), moving 30 m east; the
    # tracker's default grid (step 16 px = 160 m, windows up to 128 px) sees its core only
    assert biggest["azimuth"] == pytest.approx(90, abs=15)
    assert 25_600 <= biggest["area_m2"] <= np.pi * 300**2 * 1.5
    centre = biggest.geometry().centroid().asPoint()
    assert np.hypot(centre.x() - 500_645, centre.y() - 3_999_355) < 200
    assert QgsVectorLayer(str(out / "arrows.gpkg"), "b", "ogr").featureCount() > 0


def test_runs_through_processing(plugin, tmp_path: Path) -> None:
    import processing

    params = _inputs(tmp_path / "in")
    outputs = {
        name: "TEMPORARY_OUTPUT"
        for name in (
            "demsr:Super-resolved DEM",
            "distortion:SAR distortion classes",
            "sar2opt:Optical-like image",
            "deeptracking:Deep displacement",
            "arrows:Displacement arrows",
        )
    }
    outputs["areas:Landslide areas"] = str(tmp_path / "areas.gpkg")
    outputs["tracking:Displacement"] = str(tmp_path / "d.tif")
    res = processing.run(
        ALG,
        {**params, "THRESHOLD": 10.0, "MIN_AREA": 5000.0, **outputs},
        feedback=QgsProcessingFeedback(),
    )
    assert Path(res["areas:Landslide areas"]).exists()
    assert QgsVectorLayer(str(tmp_path / "areas.gpkg"), "a", "ogr").featureCount() >= 1
