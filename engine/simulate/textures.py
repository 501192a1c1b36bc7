"""Ground brightness (reflectivity) textures for displacement pairs, each from a named source.

A source draws square crops of mean radar brightness (linear intensity, NaN where nodata):

- :class:`OpticalSource`: real optical reflectance bands (Sentinel-2, Landsat), a random band,
  crop and zoom, with a random contrast curve (optical brightness is not radar brightness, but its
  spatial texture of fields, rivers, rock and ice is real);
- :class:`DemSource`: a real DEM in its UTM zone, turned into radar brightness by the local
  incidence angle of a random viewing geometry times a land-cover texture
  (sar_amplitude.backscatter); its slopes are passed on so landslides sit on steep ground;
- :class:`SarSource`: real single-look complex SAR, multi-looked into a brightness map (the
  speckle of the pair is simulated again on top of it);
- :class:`SimulatedSource`: seeded fractal terrain through the same radar model, or a smooth
  log-normal land-cover texture. Simulated sources split by seed stream: streams never share a
  seed, so a training and a test source never draw the same terrain.

Every source names its ``region``; the train / validation / test split (splits.py) is a split of
regions, so held-out pairs come from places and sensors never seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import rasterio
from scipy import ndimage

from ..dem.terrain import random_terrain
from ..io.raster_io import Grid
from .sar_amplitude import backscatter
from .utm import to_utm


@dataclass
class Texture:
    """One crop of ground brightness.

    Attributes:
        reflectivity: mean intensity, float32 (rows, cols), NaN where nodata.
        source: name of the source it came from.
        slope: (d z / d row, d z / d col) in m/m for DEM-based textures, else None.
        params: how it was drawn.
    """

    reflectivity: np.ndarray
    source: str
    slope: tuple[np.ndarray, np.ndarray] | None = None
    params: dict[str, float | str] = field(default_factory=dict)


class TextureSource:
    """Base class: a named source of textures from one region.

    Args:
        name: unique name (recorded in cards and pair metadata).
        region: the place or seed stream it shows; the unit of the train/test split.
        kind: ``optical``, ``dem``, ``sar`` or ``simulated``.
    """

    def __init__(self, name: str, region: str, kind: str) -> None:
        self.name, self.region, self.kind = name, region, kind

    def draw(self, rng: np.random.Generator, size: int) -> Texture:
        """A ``size`` x ``size`` texture."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, region={self.region!r})"


def _read(path: str, band: int = 1) -> tuple[np.ndarray, Grid]:
    with rasterio.open(path) as src:
        data = src.read(band, masked=True)
        grid = Grid(src.crs, src.transform, src.width, src.height)
    if np.iscomplexobj(data):
        return np.where(np.ma.getmaskarray(data), np.nan, data.filled(0)), grid
    arr = data.astype(np.float32).filled(np.nan)
    return arr, grid


def _random_crop(
    image: np.ndarray, rng: np.random.Generator, size: int, zoom: float, tries: int = 20
) -> np.ndarray | None:
    """A crop that becomes ``size`` px after zooming by ``zoom``, mostly free of nodata."""
    span = int(np.ceil(size / zoom)) + 2
    h, w = image.shape[:2]
    if span > min(h, w):
        return None
    best, best_bad = None, 1.0
    for _ in range(tries):
        r, c = rng.integers(0, h - span + 1), rng.integers(0, w - span + 1)
        crop = image[r : r + span, c : c + span]
        bad = float(np.mean(~np.isfinite(crop)))
        if bad < best_bad:
            best, best_bad = crop, bad
        if bad <= 0.01:
            break
    if best is None or best_bad > 0.2:
        return None
    return best


def _zoom(crop: np.ndarray, zoom: float, size: int) -> np.ndarray:
    """Resample a crop by ``zoom`` (cubic for data, nearest for the nodata mask) to ``size``."""
    bad = ~np.isfinite(crop)
    filled = np.where(bad, np.nanmean(crop) if (~bad).any() else 0.0, crop)
    out = ndimage.zoom(filled, zoom, order=3, mode="nearest", grid_mode=True)[:size, :size]
    if bad.any():
        out_bad = ndimage.zoom(
            bad.astype(np.float32), zoom, order=0, mode="nearest", grid_mode=True
        )[:size, :size]
        out = np.where(out_bad > 0.5, np.nan, out)
    return out.astype(np.float32)


class OpticalSource(TextureSource):
    """Real optical reflectance bands (one file per band or multi-band files).

    Args:
        name: source name.
        region: region shown.
        paths: raster files; every band of every file is a candidate.
        zoom_range: (min, max) resampling factors (>1 enlarges, i.e. finer ground pixels).
    """

    def __init__(
        self, name: str, region: str, paths: list[str], zoom_range: tuple[float, float] = (0.7, 2.0)
    ) -> None:
        super().__init__(name, region, "optical")
        self.paths, self.zoom_range = paths, zoom_range
        self._bands: list[np.ndarray] | None = None

    def _load(self) -> list[np.ndarray]:
        if self._bands is None:
            bands = []
            for path in self.paths:
                with rasterio.open(path) as src:
                    count = src.count
                for b in range(1, count + 1):
                    arr, _ = _read(path, b)
                    arr[arr <= 0] = np.nan  # zero is the fill value of these products
                    bands.append(arr)
            self._bands = bands
        return self._bands

    def draw(self, rng: np.random.Generator, size: int) -> Texture:
        bands = self._load()
        for _ in range(10):
            b = int(rng.integers(len(bands)))
            zoom = float(np.exp(rng.uniform(*np.log(self.zoom_range))))
            crop = _random_crop(bands[b], rng, size, zoom)
            if crop is not None and np.nanstd(crop) > 0:
                break
        else:
            raise ValueError(f"{self.name}: no usable {size} px crop")
        img = _zoom(crop, zoom, size)
        lo, hi = np.nanpercentile(img, [1, 99])
        unit = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1)
        gamma = float(rng.uniform(0.7, 2.0))
        refl = 0.03 + unit**gamma
        return Texture(refl.astype(np.float32), self.name, None, {"band": b, "zoom": zoom})


class DemSource(TextureSource):
    """A real DEM turned into radar brightness under a random viewing geometry.

    Args:
        name: source name.
        region: region shown.
        path: DEM raster (any CRS; reprojected to its UTM zone).
        pixel_size: metres per pixel after reprojection.
        zoom_range: resampling factors applied to crops (pixel size divided by the factor).
    """

    def __init__(
        self,
        name: str,
        region: str,
        path: str | None,
        pixel_size: float,
        zoom_range: tuple[float, float] = (1.0, 3.0),
        dem: tuple[np.ndarray, Grid] | None = None,
    ) -> None:
        super().__init__(name, region, "dem")
        self.path, self.pixel_size, self.zoom_range = path, pixel_size, zoom_range
        self._given = dem
        self._dem: np.ndarray | None = None

    def _load(self) -> np.ndarray:
        if self._dem is None:
            if self._given is not None:
                z, grid = self._given
            elif self.path is not None:
                z, grid = _read(self.path)
                z[(z < -1000) | (z > 9000)] = np.nan  # voids and fill values
            else:
                raise ValueError(f"{self.name}: give a DEM path or array")
            self._dem, _ = to_utm(z, grid, self.pixel_size)
        return self._dem

    def draw(self, rng: np.random.Generator, size: int) -> Texture:
        dem = self._load()
        zoom = float(np.exp(rng.uniform(*np.log(self.zoom_range))))
        crop = _random_crop(dem, rng, size, zoom)
        if crop is None:
            raise ValueError(f"{self.name}: no usable {size} px crop")
        z = _zoom(crop, zoom, size)
        return _radar_texture(z, self.pixel_size / zoom, self.name, rng, {"zoom": zoom})


def _radar_texture(
    z: np.ndarray, pixel: float, name: str, rng: np.random.Generator, params: dict[str, float | str]
) -> Texture:
    bad = ~np.isfinite(z)
    zf = np.where(bad, np.nanmean(z), z) if bad.any() else z
    incidence = float(rng.uniform(30.0, 46.0))
    heading = float(rng.choice([-10.0, 190.0]) + rng.uniform(-5, 5))  # ascending / descending
    refl = backscatter(
        zf,
        pixel,
        int(rng.integers(2**31)),
        incidence,
        heading,
        texture_scale_px=float(rng.uniform(2.0, 10.0)),
        texture_strength=float(rng.uniform(0.2, 0.9)),
    )
    refl = np.where(bad, np.nan, refl)
    gy, gx = np.gradient(zf.astype(np.float64), pixel)
    params = {**params, "incidence_deg": incidence, "heading_deg": heading, "pixel_m": pixel}
    return Texture(refl.astype(np.float32), name, (gy, gx), params)


class SarSource(TextureSource):
    """Real SAR single-look complex images, multi-looked (Gaussian, ``smooth_px``) into brightness.

    Args:
        name: source name.
        region: region shown.
        paths: complex rasters.
        smooth_px: standard deviation of the Gaussian multi-looking, pixels.
        zoom_range: resampling factors of crops (the images here are only 200 px wide).
    """

    def __init__(
        self,
        name: str,
        region: str,
        paths: list[str],
        smooth_px: float = 1.0,
        zoom_range: tuple[float, float] = (1.0, 2.5),
    ) -> None:
        super().__init__(name, region, "sar")
        self.paths, self.smooth_px, self.zoom_range = paths, smooth_px, zoom_range
        self._images: list[np.ndarray] | None = None

    def _load(self) -> list[np.ndarray]:
        if self._images is None:
            images = []
            for path in self.paths:
                slc, _ = _read(path)
                inten = np.abs(slc).astype(np.float64) ** 2
                images.append(ndimage.gaussian_filter(inten, self.smooth_px).astype(np.float32))
            self._images = images
        return self._images

    def draw(self, rng: np.random.Generator, size: int) -> Texture:
        images = self._load()
        i = int(rng.integers(len(images)))
        lo = max(self.zoom_range[0], size / (min(images[i].shape) - 3))
        zoom = float(rng.uniform(lo, max(lo, self.zoom_range[1])))
        crop = _random_crop(images[i], rng, size, zoom)
        if crop is None:
            raise ValueError(f"{self.name}: images too small for {size} px")
        refl = _zoom(crop, zoom, size)
        refl = np.clip(refl, 1e-6 * float(np.nanmean(refl)), None) / float(np.nanmean(refl))
        return Texture(refl.astype(np.float32), self.name, None, {"image": i, "zoom": zoom})


class SimulatedSource(TextureSource):
    """Seeded fractal terrain seen by radar (share ``terrain_share``) or land-cover texture.

    Args:
        name: source name.
        stream: seed stream 0-2; seeds are ``k * 3 + stream``, so streams never share a seed.
        terrain_share: fraction of draws that are terrain rather than land cover alone.
    """

    STREAMS = 3

    def __init__(self, name: str, stream: int, terrain_share: float = 0.7) -> None:
        if not 0 <= stream < self.STREAMS:
            raise ValueError(f"stream must be 0-{self.STREAMS - 1}")
        super().__init__(name, f"simulated-{stream}", "simulated")
        self.stream, self.terrain_share = stream, terrain_share

    def draw(self, rng: np.random.Generator, size: int) -> Texture:
        seed = int(rng.integers(2**28)) * self.STREAMS + self.stream
        local = np.random.default_rng(seed)
        if local.uniform() < self.terrain_share:
            z = random_terrain((size, size), seed)
            pixel = float(local.uniform(10.0, 40.0))
            return _radar_texture(z, pixel, self.name, local, {"seed": seed})
        scale = float(local.uniform(1.0, 8.0))
        noise = ndimage.gaussian_filter(local.standard_normal((size, size)), scale)
        refl = np.exp(float(local.uniform(0.2, 1.0)) * noise / (noise.std() + 1e-12))
        return Texture(refl.astype(np.float32), self.name, None, {"seed": seed, "scale": scale})
