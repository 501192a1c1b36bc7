"""SAR/DEM/optical training data: alignment on the SAR grid, the paper's transforms, patches.

For each area (one Sentinel-1 VV/VH raster, a DEM, a Sentinel-2 RGB raster and optionally a
cloud/snow mask), following Bralet et al. (IGARSS 2024):

- the DEM, optical and mask are resampled onto the SAR grid (bilinear; the mask nearest);
- SAR sigma0 is log-compressed: ``(10 log10(sigma0) - SAR_DB_RANGE[0]) / width``, clipped to 0..1
  (a fixed dB range, so the same backscatter is the same input in every area);
- the DEM is divided by a maximum elevation (default 4808 m, Mont Blanc, the top of the paper's
  northern French Alps; fixed and recorded, so models see the same scale everywhere);
- the optical bands are stretched linearly channel by channel to the full range 0..1 (the
  paper's 0..255 / 255), between the 1st and 99th percentiles of the valid pixels;
- pixels that are nodata in any input, or cloud/snow in the mask, are set to 0 everywhere and
  marked invalid;
- the area is cut into patches (256 px by default), and whole areas, never patches of one area,
  go to the training, validation and test sets.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from rasterio.enums import Resampling

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...io.dem_values import ElevationGuard
from ...io.geodesy import check_north_up, row_metres, true_north_azimuth
from ...io.raster_io import Grid, inspect_raster, open_band
from ...sar.sar_geometry import AcquisitionGeometry, classify
from .inputs import (
    SAR_UNITS,
    find_optical,
    find_sar,
    is_scl,
    read_optical,
    read_sar,
    read_scl_valid,
)

SAR_DB_RANGE = (-30.0, 5.0)
DEM_MAX_M = 4808.0
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class PrepConfig:
    """How areas are turned into patches.

    Args:
        patch: patch size in pixels. Default 256 (paper).
        stride: distance between patches. Default 256 (no overlap).
        min_valid: fraction of valid pixels a patch needs to be kept. Default 0.5.
        sar_db_range: dB mapped to 0..1 after log compression. Default (-30, 5).
        dem_max_m: elevation divided by. Default 4808 m.
        stretch_percentiles: low/high percentiles of the optical stretch. Default (1, 99).
        sar_units: ``linear`` (power), ``db``, ``amplitude``, or ``auto`` (from the band or file
            names, else dB when most values are negative; engine.families.sar_to_optical.inputs).
    """

    patch: int = 256
    stride: int = 256
    min_valid: float = 0.5
    sar_db_range: tuple[float, float] = SAR_DB_RANGE
    dem_max_m: float = DEM_MAX_M
    stretch_percentiles: tuple[float, float] = (1.0, 99.0)
    sar_units: str = "auto"

    def check(self) -> None:
        if not 16 <= self.patch <= 4096 or not 1 <= self.stride <= 4096:
            raise GeohazardError("The patch size must be 16-4096 px and the stride 1-4096 px.")
        if self.dem_max_m <= 0:
            raise GeohazardError("The maximum elevation used to scale the DEM must be positive.")
        if self.sar_units not in SAR_UNITS:
            raise GeohazardError(
                f"SAR units must be one of {', '.join(SAR_UNITS)}, not {self.sar_units!r}."
            )


@dataclass
class Area:
    """One area on its SAR grid, transformed for the network.

    Attributes:
        inputs: (3, H, W) float32: VV, VH (log-compressed, 0..1) and DEM / max elevation.
        target: (3, H, W) float32 RGB in 0..1 (zeros where invalid), or None without optical.
        valid: (H, W) bool.
        classes: (H, W) uint8 distortion classes (engine.sar.sar_geometry), 255 where invalid.
        grid: the SAR grid.
    """

    inputs: np.ndarray
    target: np.ndarray | None
    valid: np.ndarray
    classes: np.ndarray
    grid: Grid


def log_compress(sar: np.ndarray, units: str, db_range: tuple[float, float]) -> np.ndarray:
    """sigma0 (linear power, dB or amplitude) to 0..1 over ``db_range`` dB; NaN stays NaN.

    ``auto`` takes values as dB when any is negative (load_area decides the units first, see
    engine.families.sar_to_optical.inputs.resolve_units)."""
    finite = sar[np.isfinite(sar)]
    is_db = units == "db" or (units == "auto" and finite.size > 0 and float(finite.min()) < 0)
    per_decade = 20.0 if units == "amplitude" else 10.0
    with np.errstate(divide="ignore", invalid="ignore"):
        db = sar if is_db else per_decade * np.log10(np.where(sar > 0, sar, np.nan))
    lo, hi = db_range
    return np.clip((db - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def stretch(bands: np.ndarray, valid: np.ndarray, percentiles: tuple[float, float]) -> np.ndarray:
    """Linear stretch of each band to 0..1 between percentiles of its valid pixels."""
    out = np.zeros(bands.shape, np.float32)
    for i, band in enumerate(bands):
        values = band[valid & np.isfinite(band)]
        if values.size == 0:
            continue
        lo, hi = np.percentile(values, percentiles)
        if hi <= lo:
            hi = lo + 1e-6
        out[i] = np.clip((band - lo) / (hi - lo), 0.0, 1.0)
    out[:, ~valid] = 0.0
    return out


def _read(info, band: int, grid: Grid, rep: Reporter, role: str, resampling: Resampling):  # type: ignore[no-untyped-def]
    with open_band(
        info, band, grid, rep, role=role, resampling=resampling, grid_role="SAR"
    ) as reader:
        return reader.read()


def load_area(
    sar_path: str,
    dem_path: str,
    optical_path: str | None = None,
    mask_path: str | None = None,
    geometry: AcquisitionGeometry | None = None,
    config: PrepConfig | None = None,
    reporter: Reporter | None = None,
    sar_vh_path: str | None = None,
    scl_path: str | None = None,
) -> Area:
    """Read and align one area onto its SAR grid and apply the transforms (module doc).

    The SAR and optical products are recognised as the family's inputs.py describes (SNAP and
    RTC layouts, Sentinel-2 L2A band files or stacks, the SCL layer).

    Args:
        sar_path: VV and VH (sigma0 or gamma0, linear, dB or amplitude): a two-band raster,
            the VV (or VH) file of a pair, or a product folder or BEAM-DIMAP header.
        dem_path: one-band DEM in metres (any grid overlapping the SAR).
        optical_path: red, green, blue: one raster, one Sentinel-2 band file with the other two
            beside it, or a Sentinel-2 product folder; or None (inference).
        mask_path: raster whose non-zero pixels are cloud, snow or otherwise unusable (a
            Sentinel-2 scene classification, recognised by its name, is read as ``scl_path``).
        geometry: acquisition geometry for the distortion classes. Default Sentinel-1
            descending (engine.sar.sar_geometry.AcquisitionGeometry).
        config: transforms. Default :class:`PrepConfig`.
        reporter: progress, cancel, warnings (resampled inputs are reported).
        sar_vh_path: the VH file when ``sar_path`` is a VV file whose twin is not found by name.
        scl_path: Sentinel-2 L2A scene classification; its cloud, shadow, snow, no-data and
            defective classes are masked.
    """
    rep = reporter or Reporter()
    cfg = config or PrepConfig()
    cfg.check()
    geo = geometry or AcquisitionGeometry()
    geo.check()
    sar = read_sar(find_sar(sar_path, sar_vh_path), cfg.sar_units, rep)
    grid, name, vv, vh = sar.grid, sar.name, sar.vv, sar.vh
    check_north_up(grid, name)
    rep.check_cancel()
    dem_info = inspect_raster(dem_path)
    if dem_info.count != 1:
        raise GeohazardError(
            f"'{os.path.basename(dem_path)}' has {dem_info.count} bands; a DEM has one band."
        )
    dem = _read(dem_info, 1, grid, rep, "DEM", Resampling.bilinear)
    guard = ElevationGuard.for_path(dem_info.path)
    dem = guard.clean(dem)
    guard.warn(rep)
    valid = np.isfinite(vv) & np.isfinite(vh) & np.isfinite(dem) & (vv != 0) & (vh != 0)
    target = None
    optical = None
    if optical_path:
        optical = find_optical(optical_path)
        rgb = read_optical(optical, grid, rep)
        valid &= np.all(np.isfinite(rgb), axis=0)
        rep.check_cancel()
    for path, as_scl in ((mask_path, False), (scl_path, True)):
        if not path:
            continue
        if as_scl or is_scl(path):
            valid &= read_scl_valid(path, grid, optical, rep)
        else:
            mask = _read(inspect_raster(path), 1, grid, rep, "mask", Resampling.nearest)
            valid &= np.isfinite(mask) & (mask == 0)
    if not valid.any():
        raise GeohazardError(
            f"No pixel of '{name}' has valid SAR, DEM{' and optical' if optical_path else ''} "
            "values (all nodata, masked, or the rasters do not overlap)."
        )
    if optical_path:
        target = stretch(rgb, valid, cfg.stretch_percentiles)
    col_m, row_m = row_metres(grid, np.arange(grid.height))
    dem_filled = np.where(np.isfinite(dem), dem, np.nanmedian(dem))
    classes = classify(dem_filled, col_m, row_m, geo, true_north_azimuth(grid))
    classes[~valid] = 255
    inputs = np.stack(
        [
            log_compress(vv, sar.units, cfg.sar_db_range),
            log_compress(vh, sar.units, cfg.sar_db_range),
            (dem / cfg.dem_max_m).astype(np.float32),
        ]
    )
    inputs[:, ~valid] = 0.0
    return Area(inputs=inputs, target=target, valid=valid, classes=classes, grid=grid)


def patch_origins(shape: tuple[int, ...], patch: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners of the patches of an area (the last row/column flush with the edge)."""

    def starts(n: int) -> list[int]:
        if n < patch:
            return []
        s = list(range(0, n - patch + 1, stride))
        if s[-1] != n - patch:
            s.append(n - patch)
        return s

    return [(r, c) for r in starts(shape[0]) for c in starts(shape[1])]


def cut_patches(area: Area, config: PrepConfig | None = None) -> dict[str, np.ndarray]:
    """Patches of an area with at least ``min_valid`` valid pixels.

    Returns:
        ``inputs`` (N, 3, p, p) float16, ``targets`` (N, 3, p, p) uint8 (0..255), ``valid``
        (N, p, p) bool, ``classes`` (N, p, p) uint8, ``origins`` (N, 2) int32 (row, col).
    """
    cfg = config or PrepConfig()
    p = cfg.patch
    keep = [
        (r, c)
        for r, c in patch_origins(area.valid.shape, p, cfg.stride)
        if area.valid[r : r + p, c : c + p].mean() >= cfg.min_valid
    ]
    target = area.target if area.target is not None else np.zeros_like(area.inputs)
    out = {
        "inputs": np.stack([area.inputs[:, r : r + p, c : c + p] for r, c in keep]).astype(
            np.float16
        )
        if keep
        else np.zeros((0, 3, p, p), np.float16),
        "targets": np.stack(
            [np.round(target[:, r : r + p, c : c + p] * 255) for r, c in keep]
        ).astype(np.uint8)
        if keep
        else np.zeros((0, 3, p, p), np.uint8),
        "valid": np.stack([area.valid[r : r + p, c : c + p] for r, c in keep])
        if keep
        else np.zeros((0, p, p), bool),
        "classes": np.stack([area.classes[r : r + p, c : c + p] for r, c in keep])
        if keep
        else np.zeros((0, p, p), np.uint8),
        "origins": np.array(keep, np.int32).reshape(-1, 2),
    }
    return out


def assign_splits(
    names: list[str], shares: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, str]:
    """Whole areas to train/validation/test in about the given shares (at least one area each
    for validation and test when there are three or more areas)."""
    if len(set(names)) != len(names):
        raise GeohazardError("Area names must be unique.")
    order = list(np.random.default_rng(seed).permutation(len(names)))
    n = len(names)
    n_test = max(1 if n >= 3 else 0, int(round(shares[2] * n)))
    n_val = max(1 if n >= 3 else 0, int(round(shares[1] * n)))
    out = {}
    for rank, i in enumerate(order):
        out[names[i]] = (
            "test" if rank < n_test else "validation" if rank < n_test + n_val else "train"
        )
    return out


@dataclass
class AreaSpec:
    """One area of a dataset manifest (paths relative to the manifest's folder allowed).

    ``sar_vh`` is the VH file when ``sar`` is a VV file whose twin is not found by name,
    ``scl`` a Sentinel-2 L2A scene classification, ``sar_units`` overrides the configuration's
    SAR units for this area (engine.families.sar_to_optical.inputs)."""

    name: str
    sar: str
    dem: str
    optical: str
    mask: str | None = None
    split: str | None = None
    incidence_deg: float = 39.0
    heading_deg: float = -168.0
    look: str = "right"
    notes: dict[str, object] = field(default_factory=dict)
    sar_vh: str | None = None
    scl: str | None = None
    sar_units: str | None = None


def read_manifest(path: str) -> list[AreaSpec]:
    """Areas of a JSON manifest: ``{"areas": [{"name", "sar", "dem", "optical", ...}]}``."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        areas = [AreaSpec(**a) for a in data["areas"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GeohazardError(f"Cannot read the manifest '{path}': {exc}") from exc
    for a in areas:
        for key in ("sar", "dem", "optical", "mask", "sar_vh", "scl"):
            value = getattr(a, key)
            if value and not os.path.isabs(value):
                setattr(a, key, os.path.join(folder, value))
        if a.split is not None and a.split not in SPLITS:
            raise GeohazardError(f"Area '{a.name}': split must be one of {', '.join(SPLITS)}.")
    return areas


def prepare_dataset(
    areas: list[AreaSpec],
    out_dir: str,
    config: PrepConfig | None = None,
    shares: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    reporter: Reporter | None = None,
) -> dict[str, int]:
    """Align, transform and cut every area; write ``<split>.npz`` and ``dataset.json``.

    Areas without an explicit split are assigned by :func:`assign_splits`. Returns the number
    of patches per split.
    """
    rep = reporter or Reporter()
    cfg = config or PrepConfig()
    cfg.check()
    os.makedirs(out_dir, exist_ok=True)
    auto = assign_splits([a.name for a in areas if a.split is None], shares, seed)
    chunks: dict[str, list[dict[str, np.ndarray]]] = {s: [] for s in SPLITS}
    record = []
    for i, spec in enumerate(areas):
        rep.check_cancel()
        split = spec.split or auto[spec.name]
        geo = AcquisitionGeometry(spec.incidence_deg, spec.heading_deg, spec.look)
        area_cfg = replace(cfg, sar_units=spec.sar_units) if spec.sar_units else cfg
        area = load_area(
            spec.sar, spec.dem, spec.optical, spec.mask, geo, area_cfg, rep, spec.sar_vh, spec.scl
        )
        patches = cut_patches(area, cfg)
        patches["area"] = np.full(len(patches["origins"]), i, np.int32)
        chunks[split].append(patches)
        record.append({**asdict(spec), "split": split, "patches": len(patches["origins"])})
        rep.report((i + 1) / len(areas))
    counts = {}
    for split, parts in chunks.items():
        merged = {
            k: np.concatenate([p[k] for p in parts]) if parts else np.zeros((0,))
            for k in ("inputs", "targets", "valid", "classes", "origins", "area")
        }
        counts[split] = int(sum(len(p["origins"]) for p in parts))
        np.savez(os.path.join(out_dir, f"{split}.npz"), **merged)
    meta = {"config": asdict(cfg), "areas": record, "patches": counts, "bands": {
        "inputs": ["VV (log, 0..1)", "VH (log, 0..1)", "DEM / dem_max_m"],
        "targets": ["red", "green", "blue"],
    }}  # fmt: skip
    with open(os.path.join(out_dir, "dataset.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, default=str)
    return counts


def load_split(out_dir: str, split: str) -> dict[str, np.ndarray]:
    """Arrays of one split written by :func:`prepare_dataset` (see :func:`cut_patches`)."""
    path = os.path.join(out_dir, f"{split}.npz")
    if not os.path.exists(path):
        raise GeohazardError(f"No prepared '{split}' data in '{out_dir}'.")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
