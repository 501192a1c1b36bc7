"""Raster reading and writing with rasterio: windowed, georeferencing kept, nodata as NaN.

Outputs are written under a private temporary folder beside the destination, read back to check
that they are complete, and renamed only then (:mod:`.output_files`), so a failed, cancelled or
out-of-space run leaves nothing behind and never a half-written file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from .output_files import PlannedOutput, StagedOutput, write_failed


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS, affine transform (pixel corner to map) and size in pixels."""

    crs: CRS | None
    transform: Affine
    width: int
    height: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in map units."""
        xs, ys = [], []
        for col, row in ((0, 0), (self.width, 0), (0, self.height), (self.width, self.height)):
            x, y = self.transform * (col, row)
            xs.append(x)
            ys.append(y)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def pixel_size(self) -> tuple[float, float]:
        """Pixel width and height in map units (both positive)."""
        t = self.transform
        return math.hypot(t.a, t.d), math.hypot(t.b, t.e)

    def same_as(self, other: Grid, rel_tol: float = 1e-6) -> bool:
        """True when both grids have the same CRS, size and (almost) the same transform."""
        if (self.width, self.height) != (other.width, other.height):
            return False
        if (self.crs is None) != (other.crs is None):
            return False
        if self.crs is not None and other.crs is not None and self.crs != other.crs:
            return False
        tol = rel_tol * max(self.pixel_size)
        return all(abs(a - b) <= tol for a, b in zip(self.transform[:6], other.transform[:6]))


def output_grid(grid: Grid, scale: int) -> Grid:
    """The input grid with pixels divided by ``scale`` (same CRS and extent)."""
    return Grid(
        grid.crs,
        grid.transform * Affine.scale(1.0 / scale),
        grid.width * scale,
        grid.height * scale,
    )


@dataclass(frozen=True)
class RasterInfo:
    """What a raster file holds, read without loading its pixels."""

    path: str
    grid: Grid
    count: int
    dtypes: tuple[str, ...]
    nodata: float | None


def _describe_crs(crs: CRS | None) -> str:
    if crs is None:
        return "no CRS"
    return crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"


def inspect_raster(path: str) -> RasterInfo:
    """Open a raster just to read its metadata; a missing or unreadable file is a clear error."""
    if not path:
        raise GeohazardError("No raster was given.")
    if not os.path.exists(path) and "://" not in path and not path.startswith("/vsi"):
        raise GeohazardError(f"The raster '{path}' does not exist.")
    try:
        with rasterio.open(path) as src:
            grid = Grid(src.crs, src.transform, src.width, src.height)
            return RasterInfo(path, grid, src.count, tuple(src.dtypes), src.nodata)
    except RasterioIOError as exc:
        raise GeohazardError(
            f"'{os.path.basename(path)}' could not be read as a raster "
            f"(corrupt or unsupported file): {exc}"
        ) from exc


def damaged(path: str) -> GeohazardError:
    """The one sentence for a raster whose pixels cannot be read (a truncated or corrupt file):
    the file's name and that it is damaged; GDAL's own words name neither."""
    return GeohazardError(
        f"'{os.path.basename(path)}' is damaged: part of its pixels cannot be read (a truncated "
        "or corrupt file); replace it with an intact copy."
    )


def check_band(info: RasterInfo, band: int) -> None:
    """Raise unless ``band`` (1-based) exists in the raster."""
    if band < 1 or band > info.count:
        raise GeohazardError(
            f"Band {band} does not exist in '{os.path.basename(info.path)}', "
            f"which has {info.count} band(s)."
        )


def _masked_to_float(data: np.ma.MaskedArray) -> np.ndarray:
    values = data if data.dtype.kind == "f" else data.astype("float32")
    out = np.asarray(np.ma.filled(values, np.nan))
    return out.astype(np.float32, copy=False)


class BandReader:
    """Reads windows of one band (an int) or several (a list: arrays are (bands, rows, cols)) as
    float32 with NaN for nodata, optionally warped to a grid.

    Use through :func:`open_band` or :func:`open_bands`, which decide whether warping is needed
    and say so.
    """

    def __init__(
        self,
        path: str,
        band: int | Sequence[int],
        target: Grid | None,
        resampling: Resampling,
        nodata: float | None = None,
    ) -> None:
        try:
            self._src = rasterio.open(path)
        except RasterioIOError as exc:
            raise GeohazardError(f"'{os.path.basename(path)}' could not be read: {exc}") from exc
        self._band = band if isinstance(band, int) else list(band)
        self._vrt: WarpedVRT | None = None
        self._nodata = nodata
        bands = [self._band] if isinstance(self._band, int) else self._band
        self._all_valid = (
            target is None
            and nodata is None
            and all(
                0 < b <= self._src.count
                and self._src.mask_flag_enums[b - 1] == (rasterio.enums.MaskFlags.all_valid,)
                for b in bands
            )
        )
        if target is not None:
            self._vrt = WarpedVRT(
                self._src,
                crs=target.crs,
                transform=target.transform,
                width=target.width,
                height=target.height,
                resampling=resampling,
                src_nodata=self._src.nodata if nodata is None else nodata,
                nodata=float("nan"),
                dtype="float32",
            )

    @property
    def dataset(self) -> rasterio.io.DatasetReader | WarpedVRT:
        return self._vrt if self._vrt is not None else self._src

    def read(self, window: Window | None = None) -> np.ndarray:
        """Pixels of ``window`` (whole band when None), float32, NaN where nodata or outside."""
        try:
            if self._all_valid:  # no nodata, no mask: no mask to read, no filled copy to make
                plain = self.dataset.read(self._band, window=window)
                return plain.astype(np.float32, copy=False)
            data = self.dataset.read(self._band, window=window, masked=True, boundless=False)
        except RasterioIOError as exc:
            raise damaged(self._src.name) from exc
        out = _masked_to_float(data)
        if self._nodata is not None and self._vrt is None:
            out[out == self._nodata] = np.nan  # the warper already excludes it
        return out

    def close(self) -> None:
        if self._vrt is not None:
            self._vrt.close()
        self._src.close()

    def __enter__(self) -> BandReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def overlap_fraction(reference: Grid, other: Grid) -> float:
    """Fraction of the reference grid's area that ``other`` covers (0 when disjoint)."""
    if other.crs is not None and reference.crs is not None and other.crs != reference.crs:
        ob = transform_bounds(other.crs, reference.crs, *other.bounds, densify_pts=21)
    else:
        ob = other.bounds
    rb = reference.bounds
    w = min(rb[2], ob[2]) - max(rb[0], ob[0])
    h = min(rb[3], ob[3]) - max(rb[1], ob[1])
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / ((rb[2] - rb[0]) * (rb[3] - rb[1]))


def open_bands(
    info: RasterInfo,
    bands: Sequence[int] | None,
    reference: Grid | None = None,
    reporter: Reporter | None = None,
    role: str = "secondary",
    resampling: Resampling = Resampling.bilinear,
) -> BandReader:
    """Like :func:`open_band` for several bands (None: all); windows read as (bands, rows, cols)."""
    chosen = list(bands) if bands is not None else list(range(1, info.count + 1))
    for b in chosen:
        check_band(info, b)
    return open_band(info, chosen, reference, reporter, role, resampling)


def open_band(
    info: RasterInfo,
    band: int | Sequence[int],
    reference: Grid | None = None,
    reporter: Reporter | None = None,
    role: str = "secondary",
    resampling: Resampling = Resampling.bilinear,
    grid_role: str = "reference",
    nodata: float | None = None,
) -> BandReader:
    """Open ``band`` of a raster for windowed reading on the ``reference`` grid.

    When the raster is on another grid (other CRS, pixel size or origin) it is resampled onto
    the reference grid with rasterio's warper and the reporter says so; disjoint rasters and
    rasters that cannot be related (one without a CRS) are refused with a clear message.
    ``role`` names this raster and ``grid_role`` the raster whose grid it is read on, as the
    user knows them (e.g. "comparison" onto "DEM"). ``nodata`` replaces the file's own no-data
    value (for products whose no-data value is a convention, not in the file).
    """
    rep = reporter or Reporter()
    for b in [band] if isinstance(band, int) else band:
        check_band(info, b)
    if reference is None or info.grid.same_as(reference):
        return BandReader(info.path, band, None, resampling, nodata)
    name = os.path.basename(info.path)
    if (info.grid.crs is None) != (reference.crs is None):
        raise GeohazardError(
            f"The {role} raster '{name}' and the {grid_role} are on different grids and only one "
            "of them has a CRS, so they cannot be aligned. Assign the missing CRS first."
        )
    frac = overlap_fraction(reference, info.grid)
    if frac <= 0.0:
        raise GeohazardError(
            f"The {role} raster '{name}' does not overlap the {grid_role} raster "
            f"({_describe_crs(info.grid.crs)} vs {_describe_crs(reference.crs)})."
        )
    rep.warning(
        f"The {role} raster '{name}' is on a different grid "
        f"({_describe_crs(info.grid.crs)}, {info.grid.width}x{info.grid.height} px, "
        f"pixel {info.grid.pixel_size[0]:.6g}) than the {grid_role} "
        f"({_describe_crs(reference.crs)}, {reference.width}x{reference.height} px, "
        f"pixel {reference.pixel_size[0]:.6g}); it was resampled onto the {grid_role} grid "
        f"({resampling.name}). It covers {100 * min(frac, 1.0):.0f}% of the {grid_role}."
    )
    return BandReader(info.path, band, reference, resampling, nodata)


def check_output_path(path: str) -> None:
    """Fail early, before any compute, when ``path`` cannot be written as a GeoTIFF."""
    if not path:
        raise GeohazardError("No output path was given.")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise GeohazardError(f"The output folder '{folder}' does not exist or is not a folder.")
    if not os.access(folder, os.W_OK):
        raise GeohazardError(f"The output folder '{folder}' is not writable.")
    if os.path.isdir(path):
        raise GeohazardError(f"The output path '{path}' is a folder, not a file name.")
    if not path.lower().endswith((".tif", ".tiff")):
        raise GeohazardError(f"The output '{path}' must be a GeoTIFF (.tif).")


def raster_max_bytes(grid: Grid, count: int, dtype: str = "float32") -> int:
    """Upper bound of a GeoTIFF's size on disk: uncompressed pixels plus headers and block index.

    Deflate usually makes outputs smaller, but noise-like bands (offsets, phase) barely
    compress, so free-space checks use this bound.
    """
    pixels = grid.width * grid.height * count
    blocks = math.ceil(grid.width / 256) * math.ceil(grid.height / 256) * count
    return int(pixels * np.dtype(dtype).itemsize * 1.01) + 16 * blocks + 64 * 1024


def describe_raster(grid: Grid, count: int, dtype: str = "float32") -> str:
    """``"320 x 256 px, 1 band float32"``."""
    return f"{grid.width} x {grid.height} px, {count} band{'s' if count != 1 else ''} {dtype}"


def planned_raster(path: str, grid: Grid, count: int, dtype: str = "float32") -> PlannedOutput:
    """A :class:`PlannedOutput` for a GeoTIFF written by :class:`RasterWriter`."""
    return PlannedOutput(
        path, raster_max_bytes(grid, count, dtype), describe_raster(grid, count, dtype)
    )


def _block_windows(src: rasterio.io.DatasetReader) -> tuple[int, int, int, int]:
    """Blocks across, blocks down, block width, block height of band 1."""
    bh, bw = src.block_shapes[0]
    return math.ceil(src.width / bw), math.ceil(src.height / bh), bw, bh


def verify_geotiff(
    path: str, grid: Grid | None = None, count: int | None = None, dtype: str | None = None
) -> None:
    """Re-open a GeoTIFF just written and check that it is complete; raise if not.

    GDAL only logs "No space left on device" (inside QGIS it does not even raise), so a write
    is trusted only once the file reads back: the expected size and bands, every block's data
    inside the file, and the last block of every band decoded.
    """
    size = os.path.getsize(path)
    try:
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path) as src:
            if grid is not None and (src.width, src.height) != (grid.width, grid.height):
                raise GeohazardError(f"it reads back as {src.width} x {src.height} px")
            if count is not None and src.count != count:
                raise GeohazardError(f"it reads back with {src.count} bands, not {count}")
            if dtype is not None and src.dtypes[0] != dtype:
                raise GeohazardError(f"it reads back as {src.dtypes[0]}, not {dtype}")
            nx, ny, bw, bh = _block_windows(src)
            interleaved = (src.interleaving is None) or src.interleaving.name == "PIXEL"
            bands = [1] if interleaved else list(range(1, src.count + 1))
            for b in bands:
                for y in range(ny):
                    for x in range(nx):
                        off = src.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=b)
                        n = src.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=b)
                        if off is None or n is None:
                            continue  # not a block-indexed file; the read below still checks
                        if int(off) <= 0 or int(off) + int(n) > size:
                            raise GeohazardError(
                                f"block {x},{y} of band {b} is missing or truncated"
                            )
            last = Window(
                (nx - 1) * bw, (ny - 1) * bh, src.width - (nx - 1) * bw, src.height - (ny - 1) * bh
            )
            for b in range(1, src.count + 1):
                src.read(b, window=last)
    except RasterioIOError as exc:
        raise GeohazardError(f"it cannot be read back ({exc})") from exc
    except rasterio.errors.RasterioError as exc:
        raise GeohazardError(f"it cannot be read back ({exc})") from exc


class RasterWriter:
    """A float32 GeoTIFF written window by window to a temporary name, renamed when complete.

    Use as a context manager: an exception (including :class:`Cancelled`) inside the block
    deletes the temporary file, so no partial output is ever left at the destination. On a clean
    exit the file is closed, flushed, read back (:func:`verify_geotiff`) and renamed; a failed
    write (full disk, I/O error) raises a :class:`GeohazardError` and leaves the destination as
    it was. With ``defer_commit=True`` the verified file is kept staged in :attr:`staged` for
    :func:`~.output_files.commit_all` (several outputs all or none).
    """

    def __init__(
        self,
        path: str,
        grid: Grid,
        descriptions: Sequence[str],
        nodata: float = float("nan"),
        dtype: str = "float32",
        tags: dict[str, str] | None = None,
        defer_commit: bool = False,
    ) -> None:
        self.path = path
        self.grid = grid
        self.descriptions = list(descriptions)
        self.nodata = nodata
        self.dtype = dtype
        self.tags = tags or {}
        self.defer_commit = defer_commit
        self.staged: StagedOutput | None = None
        self._dst: rasterio.io.DatasetWriter | None = None

    def __enter__(self) -> RasterWriter:
        check_output_path(self.path)
        self.staged = StagedOutput(self.path)
        big = self.grid.width * self.grid.height * len(self.descriptions) > 4_000_000
        profile = dict(
            driver="GTiff",
            width=self.grid.width,
            height=self.grid.height,
            count=len(self.descriptions),
            dtype=self.dtype,
            crs=self.grid.crs,
            transform=self.grid.transform,
            nodata=self.nodata,
            compress="deflate",
            predictor=3 if self.dtype.startswith("float") else 2,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            BIGTIFF="IF_SAFER" if big else "NO",
        )
        if self.grid.width < 256 or self.grid.height < 256:
            profile.update(tiled=False)
            del profile["blockxsize"], profile["blockysize"]
        try:
            self._dst = rasterio.open(self.staged.tmp, "w", **profile)
            for i, desc in enumerate(self.descriptions, start=1):
                self._dst.set_band_description(i, desc)
            if self.tags:
                self._dst.update_tags(**self.tags)
        except Exception as exc:
            self._abandon()
            raise write_failed(self.path, exc, self.staged.existed) from exc
        return self

    def write(self, bands: np.ndarray, window: Window | None = None) -> None:
        """Write a (bands, rows, cols) array, or (rows, cols) for one band, at ``window``."""
        if self._dst is None:
            raise RuntimeError("use RasterWriter as a context manager")
        arr = bands if bands.ndim == 3 else bands[None]
        try:
            self._dst.write(arr.astype(self.dtype, copy=False), window=window)
        except (RasterioIOError, rasterio.errors.RasterioError, OSError) as exc:
            raise write_failed(self.path, exc, bool(self.staged and self.staged.existed)) from exc

    def verified_output(self) -> StagedOutput:
        """The verified, not yet renamed output of a ``defer_commit`` writer (after its block),
        for :func:`~.output_files.commit_all`."""
        if self.staged is None or not self.staged.verified:
            raise RuntimeError("the writer's block must complete before its output is taken")
        return self.staged

    def _abandon(self) -> None:
        if self._dst is not None:
            with suppress(Exception):  # the file is being thrown away
                self._dst.close()
            self._dst = None
        if self.staged is not None:
            self.staged.discard()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.staged is None:
            raise RuntimeError("use RasterWriter as a context manager")
        if exc_type is not None:
            self._abandon()
            return
        try:
            if self._dst is None:
                raise RuntimeError("use RasterWriter as a context manager")
            dst, self._dst = self._dst, None
            dst.close()
        except Exception as close_exc:  # noqa: BLE001 (GDAL flushes blocks on close)
            self._abandon()
            raise write_failed(self.path, close_exc, self.staged.existed) from close_exc
        count, dtype = len(self.descriptions), self.dtype
        self.staged.finish(lambda p: verify_geotiff(p, self.grid, count, dtype))
        if not self.defer_commit:
            self.staged.commit()


def write_raster(
    path: str,
    bands: np.ndarray,
    grid: Grid,
    descriptions: Sequence[str],
    nodata: float = float("nan"),
    tags: dict[str, str] | None = None,
) -> str:
    """Write a whole (bands, rows, cols) float array as a GeoTIFF, atomically."""
    with RasterWriter(path, grid, descriptions, nodata=nodata, tags=tags) as writer:
        writer.write(bands)
    return path
