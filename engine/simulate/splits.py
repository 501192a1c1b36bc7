"""Which texture sources train, validate and test the deep offset tracker: a split by region.

A region is a place on Earth (or a seed stream of the simulators); it belongs to exactly one
split, so a model is never tested on ground, or on a sensor product, it was trained on:

- train: Sentinel-2 bands (New Jersey, UTM 18N), two Landsat scenes of localtileserver, SRTM of
  eastern Turkey, SRTM of the Sierra Nevada, 10 m Colorado DEM, simulated stream 0;
- validation: Copernicus DEM of the Alps near Grenoble, simulated stream 1;
- test: the Jacksboro DEM of Tennessee (the demo's region), Landsat-8 bands (UTM 16N), real
  single-look SAR of Rotterdam (the only real speckle here), simulated stream 2.
"""

from __future__ import annotations

from ..dem.sample_data import jacksboro_dem
from .real_sources import JACKSBORO_REGION, REAL_FILES, available
from .textures import DemSource, OpticalSource, SarSource, SimulatedSource, TextureSource

SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "s2-utm18n",
        "landsat-lts",
        "landsat7-lts",
        "eastern-turkey",
        "sierra-nevada",
        "colorado",
        "simulated-0",
    ),
    "validation": ("alps-grenoble", "simulated-1"),
    "test": (JACKSBORO_REGION, "l8-utm16n", "rotterdam", "simulated-2"),
}

# DEM pixel sizes after reprojection to UTM, metres (about the native resolution of each).
_DEM_PIXEL = {
    "srtm_turkey": 90.0,
    "copernicus_grenoble": 200.0,
    "srtm_sierra_nevada": 90.0,
    "colorado_10m": 10.0,
}


def all_sources(data_dir: str | None) -> list[TextureSource]:
    """Every source of the splits that can be built here: the real files fetched into
    ``data_dir`` (see scripts/fetch_real_data.py) whose region is in a split (the folder also
    holds DEMs that only DEM super-resolution uses), the Jacksboro DEM and the three simulated
    streams."""
    files = available(data_dir)
    in_splits = {region for regions in SPLITS.values() for region in regions}
    by_region: dict[str, list[str]] = {}
    for key in files:
        if REAL_FILES[key].region not in in_splits:
            continue
        by_region.setdefault(REAL_FILES[key].region, []).append(key)
    sources: list[TextureSource] = []
    for region, keys in sorted(by_region.items()):
        kind = REAL_FILES[keys[0]].kind
        paths = [files[k] for k in sorted(keys)]
        if kind == "optical":
            sources.append(OpticalSource(region, region, paths))
        elif kind == "sar":
            sources.append(SarSource(region, region, paths))
        else:
            for key in sorted(keys):
                sources.append(DemSource(key, region, files[key], _DEM_PIXEL[key]))
    sources.append(DemSource("jacksboro", JACKSBORO_REGION, None, 90.0, dem=jacksboro_dem()))
    sources += [SimulatedSource(f"simulated-{s}", s) for s in range(SimulatedSource.STREAMS)]
    return sources


def sources_for(split: str, data_dir: str | None, require_all: bool = False) -> list[TextureSource]:
    """The sources of one split.

    Args:
        split: ``train``, ``validation`` or ``test``.
        data_dir: folder of the fetched real files (None: simulated and Jacksboro only).
        require_all: raise when a region of the split has no source here (for training runs
            that must be reproducible).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {tuple(SPLITS)}")
    regions = SPLITS[split]
    chosen = [s for s in all_sources(data_dir) if s.region in regions]
    missing = sorted(set(regions) - {s.region for s in chosen})
    if require_all and missing:
        raise FileNotFoundError(
            f"No data for region(s) {', '.join(missing)} of the {split} split in {data_dir}; "
            "run scripts/fetch_real_data.py first."
        )
    return chosen


def check_disjoint(*groups: list[TextureSource]) -> None:
    """Raise ValueError when two groups of sources share a region."""
    seen: dict[str, int] = {}
    for i, group in enumerate(groups):
        for src in group:
            if seen.setdefault(src.region, i) != i:
                raise ValueError(f"region {src.region!r} is in two groups of sources")
