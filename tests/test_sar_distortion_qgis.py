"""geohazard:sardistortion in a real QGIS: contract parameters, processing.run, the paletted
style, the real qgis_process, and bad input (clear error, input untouched, nothing left)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.geodesy import true_north_azimuth
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.sar.sar_geometry import AcquisitionGeometry, classify
from qgis.core import (
    QgsPalettedRasterRenderer,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
)
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:sardistortion"
PX = 20.0


class CancellingFeedback(QgsProcessingFeedback):
    """Cancels once progress reaches ``at`` percent."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at
        self.progressChanged.connect(lambda v: self.cancel() if v >= self.at else None)


def _dem_array(shape: tuple[int, int] = (300, 280)) -> np.ndarray:
    return fractal_terrain(shape, 21, TerrainConfig(relief_m=1500.0, base_m=500.0, beta=2.4))


UTM32 = CRS.from_epsg(32632)


def _write(path: Path, dem: np.ndarray, crs: CRS | None = UTM32) -> str:
    grid = Grid(crs, Affine(PX, 0, 300_000.0, 0, -PX, 5_100_000.0), dem.shape[1], dem.shape[0])
    return write_raster(str(path), dem[None].astype(np.float32), grid, ["elevation (m)"])


@pytest.fixture
def dem(tmp_path: Path) -> str:
    folder = tmp_path / "in"
    folder.mkdir()
    return _write(folder / "dem.tif", _dem_array())


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(ALG, params, feedback=feedback or QgsProcessingFeedback())


def test_registered_with_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names[:4] == ["DEM", "INCIDENCE", "HEADING", "LOOK"] and "OUTPUT" in names
    defaults = {p.name(): p.defaultValue() for p in alg.parameterDefinitions()}
    assert defaults["INCIDENCE"] == 39.0 and defaults["HEADING"] == -168.0
    assert defaults["LOOK"] == 0
    defaults_engine = AcquisitionGeometry()
    assert (defaults_engine.incidence_deg, defaults_engine.heading_deg) == (39.0, -168.0)
    help_text = alg.shortHelpString()
    for word in ("degrees", "layover", "shadow", "Kropatsch", "Meier", "Bralet"):
        assert word in help_text


def test_runs_with_defaults_and_loads_a_paletted_style(plugin, dem, out_dir) -> None:
    import processing

    out = str(out_dir / "classes.tif")
    QgsProject.instance().removeAllMapLayers()
    res = processing.runAndLoadResults(ALG, {"DEM": dem, "OUTPUT": out})
    assert res["OUTPUT"] == out
    total = sum(res[k] for k in res if k.endswith("_PERCENT"))
    assert total == pytest.approx(100.0)
    assert res["LAYOVER_PERCENT"] > 0 and res["SHADOW_PERCENT"] >= 0
    with rasterio.open(out) as f, rasterio.open(dem) as d:
        cls = f.read(1)
        assert f.crs == d.crs and f.transform == d.transform and f.dtypes[0] == "uint8"
        z = d.read(1)
        grid = Grid(d.crs, d.transform, d.width, d.height)
    rows = z.shape[0]
    # west of the central meridian (9 E) true north lies clockwise of grid north
    rotation = true_north_azimuth(grid)
    assert 1.6 < rotation < 2.2
    expected = classify(z, np.full(rows, PX), np.full(rows, -PX), AcquisitionGeometry(), rotation)
    assert np.array_equal(cls, expected)
    layer = next(iter(QgsProject.instance().mapLayers().values()))
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    labels = {c.value: c.label for c in renderer.classes()}
    assert labels == {0: "undistorted", 1: "foreshortening", 2: "layover", 3: "shadow"}
    QgsProject.instance().removeAllMapLayers()


def test_ascending_and_descending_see_opposite_slopes(plugin, dem, out_dir) -> None:
    desc = _run({"DEM": dem, "HEADING": -168.0, "OUTPUT": str(out_dir / "d.tif")})
    asc = _run({"DEM": dem, "HEADING": -12.0, "OUTPUT": str(out_dir / "a.tif")})
    left = _run({"DEM": dem, "HEADING": -168.0, "LOOK": 1, "OUTPUT": str(out_dir / "l.tif")})
    with rasterio.open(desc["OUTPUT"]) as d, rasterio.open(asc["OUTPUT"]) as a:
        cd, ca = d.read(1), a.read(1)
    with rasterio.open(left["OUTPUT"]) as f:
        cl = f.read(1)
    # descending looks west: east-facing slopes are foreshortened; ascending the reverse
    assert np.mean((cd == 1) & (ca == 1)) < 0.1
    assert np.mean((cd == 1) & (cl == 1)) < 0.1  # left-looking from the same track too


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def _expect_failure(params: dict, match: str, src: str, out_dir: Path, feedback=None) -> None:
    before = _digest(src)
    with pytest.raises(QgsProcessingException, match=match):
        _run(params, feedback)
    assert _digest(src) == before, "the input was modified"
    assert [p.name for p in out_dir.iterdir()] == [], "something was left behind"


def test_bad_input_gives_one_clear_sentence(plugin, tmp_path, dem, out_dir) -> None:
    out = str(out_dir / "c.tif")
    no_crs = _write(tmp_path / "in" / "nocrs.tif", _dem_array((64, 64)), crs=None)
    _expect_failure(
        {"DEM": no_crs, "OUTPUT": out}, "no coordinate reference system", no_crs, out_dir
    )
    empty = _write(tmp_path / "in" / "empty.tif", np.full((64, 64), np.nan))
    _expect_failure({"DEM": empty, "OUTPUT": out}, "no valid elevation", empty, out_dir)
    _expect_failure({"DEM": dem, "OUTPUT": dem}, "would overwrite the input", dem, out_dir)
    _expect_failure(
        {"DEM": dem, "OUTPUT": out}, "Cancelled", dem, out_dir, feedback=CancellingFeedback(20)
    )
    corrupt = tmp_path / "in" / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\x00" * 64)
    with pytest.raises(QgsProcessingException, match="corrupt|could not"):
        _run({"DEM": str(corrupt), "OUTPUT": out})
    assert list(out_dir.iterdir()) == []


def test_the_real_qgis_process_runs_it(dem, out_dir) -> None:
    out = out_dir / "c.tif"
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", f"DEM={dem}", f"OUTPUT={out}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LAYOVER_PERCENT" in proc.stdout
    with rasterio.open(out) as f:
        assert f.count == 1 and f.dtypes[0] == "uint8" and f.nodata == 255
        assert set(np.unique(f.read(1))) <= {0, 1, 2, 3}
    bad = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", f"DEM={dem}", "INCIDENCE=95",
         f"OUTPUT={out_dir / 'x.tif'}"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert bad.returncode != 0 and not (out_dir / "x.tif").exists()
