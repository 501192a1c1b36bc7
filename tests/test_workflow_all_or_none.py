"""The shipped workflow geohazard:landslideevent is all or none, names the wrong input, and runs
with any of its optional outputs left out (the README's own command included)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.raster_io import Grid, write_raster
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from rasterio.crs import CRS
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:landslideevent"
SHAPE = (96, 96)
OUTPUTS = (
    ("demsr:Super-resolved DEM", "dem_x4.tif"),
    ("distortion:SAR distortion classes", "dist.tif"),
    ("sar2opt:Optical-like image", "opt.tif"),
    ("tracking:Displacement", "d.tif"),
    ("deeptracking:Deep displacement", "deep.tif"),
    ("areas:Landslide areas", "areas.gpkg"),
    ("arrows:Displacement arrows", "arrows.gpkg"),
)


def _grid(x0: float = 500_000.0) -> Grid:
    return Grid(CRS.from_epsg(32633), Affine(10, 0, x0, 0, -10, 4_000_000), *SHAPE)


def _inputs(folder: Path, sar_x0: float = 500_000.0) -> dict[str, str]:
    """DEM, VV/VH SAR (its grid starting at ``sar_x0``) and an amplitude pair moving 2 px east."""
    folder.mkdir(parents=True, exist_ok=True)
    dem = fractal_terrain(SHAPE, 2, TerrainConfig(relief_m=300.0, base_m=500.0))
    dem_path = write_raster(str(folder / "dem.tif"), dem[None], _grid(), ["elevation (m)"])
    rr, cc = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    lobe = ((rr - 48) ** 2 + (cc - 48) ** 2 <= 24**2).astype(np.float32)
    reference, secondary = write_pair(folder, np.zeros(SHAPE), 2.0 * lobe, _grid())
    with rasterio.open(reference) as src:
        vv = (src.read(1) / src.read(1).mean() * 0.05) ** 2
    sar = write_raster(
        str(folder / "vv_vh.tif"),
        np.stack([vv, 0.2 * vv]).astype(np.float32),
        _grid(sar_x0),
        ["VV", "VH"],
    )
    return {"DEM": dem_path, "SAR": sar, "REFERENCE": reference, "SECONDARY": secondary}


def _plant(folder: Path) -> dict[Path, bytes]:
    """Files already at every destination: what must still be there after a failed run."""
    folder.mkdir(parents=True, exist_ok=True)
    held = {}
    for _, name in OUTPUTS:
        path = folder / name
        path.write_bytes(f"previous content of {name}".encode())
        held[path] = path.read_bytes()
    return held


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_failing_later_step_leaves_every_destination_as_it_was(plugin, tmp_path: Path) -> None:
    import processing

    params = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    held = _plant(out)
    before = _listing(out)
    run = {name: str(out / file) for name, file in OUTPUTS}
    # the landslide areas step, which runs after the rasters are made, cannot write its layer
    run["areas:Landslide areas"] = str(tmp_path / "no such folder" / "areas.gpkg")
    with pytest.raises(QgsProcessingException):
        processing.run(ALG, {**params, "THRESHOLD": 5.0, **run}, feedback=QgsProcessingFeedback())
    assert _listing(out) == before
    for path, content in held.items():
        assert path.read_bytes() == content, path


def test_a_sar_raster_100_km_away_is_named_as_the_wrong_input(plugin, tmp_path: Path) -> None:
    import processing

    params = _inputs(tmp_path / "in", sar_x0=600_000.0)
    out = tmp_path / "out"
    out.mkdir()
    run = {name: str(out / file) for name, file in OUTPUTS}
    feedback = QgsProcessingFeedback()
    with pytest.raises(QgsProcessingException) as err:
        processing.run(ALG, {**params, **run}, feedback=feedback)
    message = str(err.value) + feedback.textLog()
    assert re.search(r"SAR\b.*vv_vh\.tif|vv_vh\.tif.*\bSAR\b", message), message
    assert "vv_vh.tif' does not overlap" in message or "'vv_vh.tif'" in message
    assert not re.search(r"The DEM[^.]*does not overlap", message), message
    assert _listing(out) == []


def test_every_output_of_the_model_is_optional(plugin) -> None:
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().createAlgorithmById(ALG)
    destinations = [d for d in alg.parameterDefinitions() if d.isDestination()]
    assert {d.name() for d in destinations} == {name for name, _ in OUTPUTS}
    for d in destinations:
        assert d.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional, d.name()


def _readme_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"```\n(scripts/qgis_process run geohazard:landslideevent .*?)```", text, re.S
    )
    assert block, "the README shows no landslideevent command"
    return block.group(1).replace("\\\n", " ")


def test_the_readme_command_runs_and_writes_what_it_names(tmp_path: Path) -> None:
    params = _inputs(tmp_path)
    files = {"dem.tif": params["DEM"], "vv_vh.tif": params["SAR"]}
    files |= {"pre.tif": params["REFERENCE"], "post.tif": params["SECONDARY"]}
    argv = shlex.split(_readme_command())
    for name, path in files.items():  # the README's input names, pointed at the test rasters
        argv = [a.replace(f"={name}", f"={path}") for a in argv]
    argv[0] = str(ROOT / "scripts" / "qgis_process")
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    named = [a.split("=", 1)[1] for a in argv if "=" in a and ":" in a.split("=", 1)[0]]
    assert named
    for name in named:
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / "deep.tif").exists()


class _CancelAfterTracking(QgsProcessingFeedback):
    """Cancels the run as soon as the offset tracking step has written its offsets."""

    def pushInfo(self, info: str) -> None:  # noqa: N802 (QGIS API name)
        super().pushInfo(info)
        if info.startswith("Offsets on a"):
            self.cancel()


def test_a_cancel_after_some_steps_leaves_every_destination_as_it_was(
    plugin, tmp_path: Path
) -> None:
    import processing

    params = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    held = _plant(out)
    before = _listing(out)
    run = {name: str(out / file) for name, file in OUTPUTS}
    feedback = _CancelAfterTracking()
    with pytest.raises(QgsProcessingException):
        processing.run(ALG, {**params, "THRESHOLD": 5.0, **run}, feedback=feedback)
    assert feedback.isCanceled()
    assert _listing(out) == before
    for path, content in held.items():
        assert path.read_bytes() == content, path


def test_a_finished_run_loads_its_outputs_from_their_destinations(plugin, tmp_path: Path) -> None:
    from processing_runs import loaded_layer, run_and_load, to_load
    from qgis.core import QgsApplication

    params = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    _plant(out)
    run = {
        "tracking:Displacement": to_load(str(out / "d.tif")),
        "areas:Landslide areas": to_load(str(out / "areas.gpkg")),
    }
    alg = QgsApplication.processingRegistry().createAlgorithmById(ALG)
    results, registered, _ = run_and_load(alg, {**params, "THRESHOLD": 5.0, **run})
    assert results["tracking:Displacement"] == str(out / "d.tif")
    assert set(registered) == {str(out / "d.tif"), str(out / "areas.gpkg")}
    with rasterio.open(out / "d.tif") as f:
        assert f.count == 6
    layer = loaded_layer(str(out / "d.tif"))
    assert layer.isValid() and layer.renderer().type() == "singlebandpseudocolor"
    assert (out / "dem_x4.tif").read_bytes() == b"previous content of dem_x4.tif"
    assert (out / "d.qml").is_file()  # the style written beside the renamed output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
