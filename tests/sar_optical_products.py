"""One small area written in the layouts users download for SAR-to-optical training, and in the
plain layout (two-band linear SAR GeoTIFF, float reflectance RGB, 0/1 mask) that each must be
equivalent to.

The SAR grid is UTM 32N at 10 m, 96 x 96 px, across the zone boundary from the Sentinel-2
tile (UTM 33N, bands at 10 m, SCL at 20 m); the DEM is on a geographic grid. The left SAR
columns are no data (the edge of a terrain-corrected swath), the top-left corner of the
Sentinel-2 tile is outside its orbit (0), and the SCL has clouds, shadow and snow.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import WktVersion
from rasterio.warp import transform, transform_bounds
from scipy import ndimage

SHAPE = (96, 96)
SAR_CRS = CRS.from_epsg(32632)
S2_CRS = CRS.from_epsg(32633)
SAR_X0, SAR_Y0 = 726_360.0, 5_153_840.0
SAR_TRANSFORM = Affine(10, 0, SAR_X0, 0, -10, SAR_Y0)
NODATA_COLUMNS = 4
DATE = "20230801T101031"
TILE = "T33TUM"
SAFE = f"S2A_MSIL2A_{DATE}_N0509_R022_{TILE}_20230801T150000.SAFE"
GRANULE = f"L2A_{TILE}_A042123_{DATE}"
SNAP_NAME = "S1A_IW_GRDH_1SDV_20230801T053012_20230801T053037_049680_05F9A1_Cal_TC"
HYP3_NAME = "S1A_IW_20230801T053012_DVP_RTC10_G_{scale}uned_1A2B"
OPERA_NAME = "OPERA_L2_RTC-S1_T066-140000-IW2_20230801T053012Z_20230801T120000Z_S1A_30_v1.0"
SCL_MASKED = (0, 1, 3, 8, 9, 10, 11)


@dataclass
class Truth:
    """The area's values: SAR sigma0 (linear, NaN where no data), reflectance and SCL classes
    on the Sentinel-2 grids, the DEM."""

    vv: np.ndarray
    vh: np.ndarray
    reflectance: np.ndarray  # (3, h, w) red, green, blue; NaN where the tile has no data
    s2_transform: Affine
    scl: np.ndarray
    scl_transform: Affine
    dem: np.ndarray
    dem_transform: Affine


def make_truth(seed: int = 0) -> Truth:
    rng = np.random.default_rng(seed)
    land = ndimage.gaussian_filter(rng.standard_normal(SHAPE), 4)
    land = (land - land.min()) / (land.max() - land.min())
    vv = ((0.02 + 0.2 * land) * rng.gamma(4.0, 0.25, SHAPE)).astype(np.float32)
    vh = (0.25 * vv * rng.gamma(4.0, 0.25, SHAPE)).astype(np.float32)
    vv[:, :NODATA_COLUMNS] = np.nan
    vh[:, :NODATA_COLUMNS] = np.nan
    # Sentinel-2 grids in UTM 33N covering the SAR area with a margin, snapped to 20 m
    left, bottom, right, top = transform_bounds(
        SAR_CRS, S2_CRS, SAR_X0, SAR_Y0 - 960, SAR_X0 + 960, SAR_Y0, densify_pts=21
    )
    x0, y0 = np.floor(left / 20 - 6) * 20, np.ceil(top / 20 + 6) * 20
    w = int(np.ceil((right - x0) / 20 + 6)) * 2
    h = int(np.ceil((y0 - bottom) / 20 + 6)) * 2
    s2_transform = Affine(10, 0, x0, 0, -10, y0)
    rows, cols = np.mgrid[0:h, 0:w]
    # colours that follow the backscatter's land cover, resampled onto the tile's pixels
    xs, ys = s2_transform * (cols + 0.5, rows + 0.5)
    sx, sy = transform(S2_CRS, SAR_CRS, xs.ravel(), ys.ravel())
    sc = (np.array(sx) - SAR_X0) / 10 - 0.5
    sr = (SAR_Y0 - np.array(sy)) / 10 - 0.5
    s2_land = ndimage.map_coordinates(land, [sr, sc], order=1, mode="nearest").reshape(h, w)
    reflectance = np.stack(
        [0.03 + 0.25 * s2_land, 0.05 + 0.15 * s2_land, 0.02 + 0.12 * s2_land + 0.01 * rows / h]
    )
    reflectance = np.round(reflectance * 10000) / 10000  # representable as L2A digital numbers
    reflectance[:, : h // 6, : w // 6] = np.nan  # outside the orbit
    scl = np.full((h // 2, w // 2), 4, np.uint8)  # vegetation
    scl[10:20, 10:25] = 8  # cloud
    scl[22:26, 10:25] = 3  # its shadow
    scl[35:45, 30:40] = 11  # snow
    scl[40:44, 5:9] = 10  # thin cirrus
    scl[0 : h // 12, 0 : w // 12] = 0  # no data, as the bands
    scl[30:34, 45:50] = 5  # bare soil, kept
    dem_transform = Affine(0.00025, 0, 11.94, 0, -0.00025, 46.51)
    dr, dc = np.mgrid[0:100, 0:100]
    dem = (1200 + 3.0 * dc + 2.0 * dr + 40 * np.sin(dc / 7.0)).astype(np.float32)
    return Truth(
        vv, vh, reflectance, s2_transform, scl, s2_transform * Affine.scale(2), dem, dem_transform
    )


def _write(path: Path, bands: np.ndarray, crs: CRS, tf: Affine, **options: object) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptions = options.pop("descriptions", None)
    profile = dict(
        driver="GTiff",
        width=bands.shape[2],
        height=bands.shape[1],
        count=bands.shape[0],
        dtype=bands.dtype,
        crs=crs,
        transform=tf,
    )
    profile.update(options)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
        for i, d in enumerate(descriptions or [], start=1):
            dst.set_band_description(i, d)
    return str(path)


def _db(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (10 * np.log10(x)).astype(np.float32)


def _zero_nodata(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, 0).astype(np.float32)


def write_dem(folder: Path, t: Truth) -> str:
    return _write(folder / "dem_wgs84.tif", t.dem[None], CRS.from_epsg(4326), t.dem_transform)


def write_plain(folder: Path, t: Truth) -> dict[str, str]:
    """The plain layout: SAR two bands VV, VH linear (NaN no data) on the SAR grid, float
    reflectance RGB and a 0/1 mask (1: the SCL's masked classes) on the Sentinel-2 grids."""
    mask = np.isin(t.scl, SCL_MASKED).astype(np.uint8)
    return {
        "SAR": _write(
            folder / "sar.tif",
            np.stack([t.vv, t.vh]),
            SAR_CRS,
            SAR_TRANSFORM,
            nodata=float("nan"),
            descriptions=["VV", "VH"],
        ),
        "OPTICAL": _write(
            folder / "rgb.tif",
            t.reflectance.astype(np.float32),
            S2_CRS,
            t.s2_transform,
            nodata=float("nan"),
        ),
        "MASK": _write(folder / "mask.tif", mask[None], S2_CRS, t.scl_transform),
    }


def write_snap_geotiff(folder: Path, t: Truth) -> str:
    """SNAP's GeoTIFF export of a calibrated, terrain-corrected GRD: VH before VV, an
    incidence-angle band after them, no data 0."""
    angle = np.broadcast_to(np.linspace(38.5, 39.5, SHAPE[1], dtype=np.float32), SHAPE)
    bands = np.stack([_zero_nodata(t.vh), _zero_nodata(t.vv), angle])
    names = ["Sigma0_VH", "Sigma0_VV", "projectedLocalIncidenceAngle"]
    path = folder / f"{SNAP_NAME}.tif"
    return _write(path, bands, SAR_CRS, SAR_TRANSFORM, nodata=0.0, descriptions=names)


def _envi_header(name: str, crs: CRS, tf: Affine, shape: tuple[int, int]) -> str:
    if crs.is_geographic:
        map_info = (
            f"Geographic Lat/Lon, 1.0, 1.0, {tf.c}, {tf.f}, {tf.a}, {-tf.e}, WGS84, units=Degrees"
        )
    else:
        zone = crs.to_epsg() - 32600
        map_info = (
            f"UTM, 1.0, 1.0, {tf.c}, {tf.f}, {tf.a}, {-tf.e}, {zone}, North, WGS-84, units=Meters"
        )
    return (
        "ENVI\n"
        "description = {Sentinel-1 IW Level-1 GRD Product - Unit: intensity}\n"
        f"samples = {shape[1]}\nlines = {shape[0]}\nbands = 1\nheader offset = 0\n"
        "file type = ENVI Standard\ndata type = 4\ninterleave = bsq\nbyte order = 1\n"
        f"band names = {{ {name} }}\n"
        f"map info = {{{map_info}}}\n"
        f"coordinate system string = {{{crs.to_wkt(version=WktVersion.WKT1_ESRI)}}}\n"
        "data gain values = {1.0}\ndata offset values = {0.0}\n"
    )


def write_beam_dimap(folder: Path, t: Truth, crs: CRS = SAR_CRS, tf: Affine = SAR_TRANSFORM) -> str:
    """SNAP's BEAM-DIMAP output: a .dim header and a .data folder with one big-endian ENVI
    image per band (Sigma0_VV.img, Sigma0_VH.img with their .hdr). Returns the .dim path."""
    data = folder / f"{SNAP_NAME}.data"
    data.mkdir(parents=True, exist_ok=True)
    for name, values in (("Sigma0_VV", t.vv), ("Sigma0_VH", t.vh)):
        _zero_nodata(values).astype(">f4").tofile(data / f"{name}.img")
        (data / f"{name}.hdr").write_text(_envi_header(name, crs, tf, SHAPE))
    dim = folder / f"{SNAP_NAME}.dim"
    dim.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Dimap_Document name="'
        f'{dim.name}">\n  <DATASET_ID><DATASET_NAME>{SNAP_NAME}</DATASET_NAME></DATASET_ID>\n'
        "</Dimap_Document>\n"
    )
    return str(dim)


def write_rtc(folder: Path, t: Truth, scale: str = "p", opera: bool = False) -> dict[str, str]:
    """An RTC product, one file per polarisation: HyP3 (``scale`` p power, d dB, a amplitude in
    the name; no data 0) or OPERA RTC-S1 (linear power, no data NaN)."""
    name = OPERA_NAME if opera else HYP3_NAME.format(scale=f"g{scale}")
    out = {}
    for pol, values in (("VV", t.vv), ("VH", t.vh)):
        if opera:
            arr, nodata = values.astype(np.float32), float("nan")
        else:
            conv = {"p": values, "d": _db(values), "a": np.sqrt(values)}[scale]
            arr, nodata = _zero_nodata(conv), 0.0
        out[pol] = _write(
            folder / name / f"{name}_{pol}.tif", arr[None], SAR_CRS, SAR_TRANSFORM, nodata=nodata
        )
    return out


def l2a_numbers(t: Truth, offset: int = 1000) -> np.ndarray:
    """Reflectance as L2A digital numbers (scaled by 10000, BOA_ADD_OFFSET -offset), 0 no data."""
    dn = np.round(t.reflectance * 10000) + offset
    return np.where(np.isfinite(dn), dn, 0).astype(np.uint16)


def write_l2a_safe(
    folder: Path, t: Truth, driver: str = "JP2OpenJPEG", level: str = "L2A"
) -> dict[str, str]:
    """A Sentinel-2 product folder: B04, B03, B02 at 10 m and SCL at 20 m (L2A) as separate
    JP2 (lossless) or GeoTIFF files named as ESA names them, with MTD_MSIL2A.xml's
    BOA_ADD_OFFSET. ``level="L1C"`` writes the Level-1C layout (no SCL, no resolution in the
    names). Returns the band files (``B04``, ``B03``, ``B02``, ``SCL`` when L2A) and ``SAFE``."""
    ext = ".jp2" if driver == "JP2OpenJPEG" else ".tif"
    options = {"QUALITY": 100, "REVERSIBLE": "YES"} if driver == "JP2OpenJPEG" else {}
    safe = folder / (SAFE if level == "L2A" else SAFE.replace("MSIL2A", "MSIL1C"))
    granule = safe / "GRANULE" / (GRANULE if level == "L2A" else GRANULE.replace("L2A", "L1C"))
    dn = l2a_numbers(t)
    out = {"SAFE": str(safe)}
    for band, colour in (("B04", 0), ("B03", 1), ("B02", 2)):
        if level == "L2A":
            path = granule / "IMG_DATA" / "R10m" / f"{TILE}_{DATE}_{band}_10m{ext}"
        else:
            path = granule / "IMG_DATA" / f"{TILE}_{DATE}_{band}{ext}"
        out[band] = _write(path, dn[colour][None], S2_CRS, t.s2_transform, driver=driver, **options)
    if level == "L2A":
        scl = granule / "IMG_DATA" / "R20m" / f"{TILE}_{DATE}_SCL_20m{ext}"
        out["SCL"] = _write(scl, t.scl[None], S2_CRS, t.scl_transform, driver=driver, **options)
        offsets = "".join(
            f'<BOA_ADD_OFFSET band_id="{i}">-1000</BOA_ADD_OFFSET>' for i in range(13)
        )
        (safe / "MTD_MSIL2A.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-2A_User_Product>'
            "<General_Info><Product_Image_Characteristics><QUANTIFICATION_VALUES_LIST>"
            "<BOA_QUANTIFICATION_VALUE>10000</BOA_QUANTIFICATION_VALUE>"
            "</QUANTIFICATION_VALUES_LIST><BOA_ADD_OFFSET_VALUES_LIST>"
            f"{offsets}</BOA_ADD_OFFSET_VALUES_LIST></Product_Image_Characteristics>"
            "</General_Info></n1:Level-2A_User_Product>\n"
        )
    return out


def write_l2a_stack(folder: Path, t: Truth) -> str:
    """An L2A stack made by the user from the band files: blue, green, red, NIR (B02, B03,
    B04, B08 as band names), digital numbers of baseline 05.09 (offset 1000), no data 0
    undeclared, named with its product so the baseline is known."""
    dn = l2a_numbers(t)
    nir = np.where(dn[0] > 0, dn[0] // 2 + 1500, 0).astype(np.uint16)
    bands = np.stack([dn[2], dn[1], dn[0], nir])
    return _write(
        folder / SAFE.replace(".SAFE", "") / f"{TILE}_{DATE}_stack.tif",
        bands,
        S2_CRS,
        t.s2_transform,
        descriptions=["B2", "B3", "B4", "B8"],
    )


def copy_without(files: list[str], folder: Path, missing: str) -> list[str]:
    """Copies of ``files`` into ``folder``, leaving out the one whose name contains
    ``missing``."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = []
    for f in files:
        if missing not in Path(f).name:
            kept.append(str(shutil.copy(f, folder / Path(f).name)))
    return kept
