"""The SAR and optical products users download, recognised and read for SAR-to-optical training.

SAR (Sentinel-1 GRD sigma0 calibrated in SNAP, or an RTC product such as ASF HyP3 or OPERA
RTC-S1; gamma0 is taken as it is, in place of sigma0):

- one raster holding VV and VH (a SNAP GeoTIFF export or any multi-band raster): which band is
  which comes from the band descriptions (``Sigma0_VV``, ``Gamma0_VH``, ``VV`` ... in any
  order, other bands such as an incidence angle ignored); a raster whose bands name no
  polarisation is read as band 1 VV, band 2 VH;
- one raster per polarisation: the VV (or VH) file, its twin found beside it under the same
  name with the other polarisation (``Sigma0_VV.img`` / ``Sigma0_VH.img`` in SNAP's BEAM-DIMAP
  ``.data`` folder, ``..._VV.tif`` / ``..._VH.tif`` of HyP3 and OPERA) or given explicitly;
- a product folder or header: a BEAM-DIMAP ``.dim`` file or its ``.data`` folder, a HyP3 or
  OPERA folder (the one VV file in it, and its VH twin);
- units: linear power, dB or amplitude. ``auto`` takes them from the names (a ``db`` word as
  in SNAP's ``Sigma0_VV_db``; the scale letter of HyP3 product names, ``..._RTC30_G_gpuned_...``:
  p power, d dB, a amplitude), otherwise from the values (dB when most are negative). Values
  that cannot be calibrated backscatter in the units chosen are refused.

Optical (Sentinel-2 L2A or any RGB raster):

- one raster with the three bands: picked by their descriptions (``B04``/``B4``/``red``/``R``
  ...) in any order; a raster whose bands name nothing is read as bands 1-3 red, green, blue;
- one band per file (``T32TLR_20230801T103631_B04_10m.jp2`` and its ``B03``, ``B02`` twins):
  any of the three given, the other two found beside it by name;
- a folder (a ``.SAFE`` product, its ``IMG_DATA`` or ``R10m`` folder): its finest B04 file;
- integer reflectance (uint16 or int16, Sentinel-2 L2A scaled by 10000; processing baseline
  04.00 and later adds ``BOA_ADD_OFFSET`` -1000, read from the product's ``MTD_MSIL2A.xml`` or
  from the processing baseline in the ``.SAFE`` name, e.g. ``N0400``) becomes reflectance, and
  0 is no data unless the file declares another no-data value.

Scene classification (SCL of Sentinel-2 L2A, 20 m): classes 0 no data, 1 saturated or
defective, 3 cloud shadow, 8 and 9 cloud (medium and high probability), 10 thin cirrus and
11 snow or ice are masked; it is read onto the SAR grid by nearest neighbour.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...io.raster_io import Grid, inspect_raster, open_band

SAR_UNITS = ("auto", "linear", "db", "amplitude")
SCL_MASKED = (0, 1, 3, 8, 9, 10, 11)
SCL_MASKED_NAMES = "no data, saturated or defective, cloud shadow, cloud, thin cirrus, snow or ice"
L2A_SCALE = 10000.0
UNCALIBRATED_MEDIAN = 10.0  # linear backscatter whose median is above +10 dB is not sigma0
COLOURS = (("red", 4), ("green", 3), ("blue", 2))
RASTER_EXTENSIONS = (".tif", ".tiff", ".img", ".jp2")

_SEP = r"(?:^|[^A-Za-z0-9])"
_END = r"(?=[^A-Za-z0-9]|$)"
_POL = re.compile(_SEP + r"(VV|VH|HH|HV)" + _END, re.I)
_DB = re.compile(_SEP + r"db" + _END, re.I)
_HYP3_SCALE = re.compile(r"_RTC\d+_[A-Z]_[gs]([pda])[uw][nf][ec][dm]" + _END, re.I)
_S2_BAND = re.compile(_SEP + r"(B)(0?)([1-9]|1[0-2]|8A)" + _END, re.I)
_SCL = re.compile(_SEP + r"SCL" + _END, re.I)
_SCENE = re.compile(r"T\d{2}[A-Z]{3}_\d{8}T\d{6}")
_L1C = re.compile(_SEP + r"(MSIL1C|L1C)" + _END, re.I)
_L2A = re.compile(_SEP + r"(MSIL2A|L2A)" + _END, re.I)
_L2A_BAND_NAME = re.compile(r"_B(0[1-9]|1[0-2]|8A)_[126]0m" + _END, re.I)
_BASELINE = re.compile(r"MSIL2A_\d{8}T\d{6}_N(\d{4})_", re.I)
_BOA_OFFSET = re.compile(r"<BOA_ADD_OFFSET[^>]*>\s*(-?\d+(?:\.\d*)?)\s*</BOA_ADD_OFFSET>")


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path.rstrip(os.sep)))[0]


def _descriptions(path: str) -> tuple[str, ...]:
    try:
        with rasterio.open(path) as src:
            return tuple(d or "" for d in src.descriptions)
    except RasterioIOError as exc:
        raise GeohazardError(f"'{os.path.basename(path)}' could not be read: {exc}") from exc


def _pol(text: str) -> str | None:
    found = {m.upper() for m in _POL.findall(text)}
    return found.pop() if len(found) == 1 else None


def _swap_last(pattern: re.Pattern[str], name: str, replace: str) -> str:
    """``name`` with the last match of ``pattern``'s group 1 replaced (same letter case)."""
    matches = list(pattern.finditer(name))
    m = matches[-1]
    start, end = m.span(1)
    old = name[start:end]
    new = replace.lower() if old.islower() else replace.upper()
    return name[:start] + new + name[end:]


def is_scl(path: str) -> bool:
    """True when the raster is a Sentinel-2 scene classification layer (by name or band name)."""
    if _SCL.search(_stem(path)):
        return True
    descriptions = _descriptions(path)
    return len(descriptions) == 1 and bool(
        _SCL.search(descriptions[0]) or "scene classification" in descriptions[0].lower()
    )


# --- SAR -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SarSource:
    """Where VV and VH are: (file, band) each, and the units their names say (None: silent)."""

    vv: tuple[str, int]
    vh: tuple[str, int]
    units_hint: str | None
    how: str

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys([self.vv[0], self.vh[0]]))


@dataclass
class SarBands:
    """VV and VH on the VV raster's grid (float32, NaN where nodata), and their units."""

    vv: np.ndarray
    vh: np.ndarray
    grid: Grid
    units: str
    name: str


def _units_hint(texts: list[str]) -> str | None:
    hints = set()
    for text in texts:
        scale = _HYP3_SCALE.search(text)
        if scale:
            hints.add({"p": "linear", "d": "db", "a": "amplitude"}[scale.group(1).lower()])
        elif _DB.search(text):
            hints.add("db")
    if len(hints) > 1:
        raise GeohazardError(
            f"The SAR bands are named in different units ({', '.join(sorted(hints))}); give VV "
            "and VH in the same units."
        )
    return hints.pop() if hints else None


def _product_file(path: str) -> str:
    """The VV raster of a product folder or BEAM-DIMAP header; other paths unchanged."""
    folder = None
    if path.lower().endswith(".dim"):
        folder = path[:-4] + ".data"
        if not os.path.isdir(folder):
            raise GeohazardError(
                f"The BEAM-DIMAP header '{os.path.basename(path)}' has no "
                f"'{os.path.basename(folder)}' folder beside it; keep the two together."
            )
    elif os.path.isdir(path):
        folder = path
    if folder is None:
        return path
    found = sorted(
        f
        for f in os.listdir(folder)
        if f.lower().endswith(RASTER_EXTENSIONS) and _pol(_stem(f)) == "VV"
    )
    name = os.path.basename(folder.rstrip(os.sep))
    if not found:
        raise GeohazardError(
            f"'{name}' holds no VV raster (such as Sigma0_VV.img or ..._VV.tif); SAR needs "
            "calibrated VV and VH."
        )
    if len(found) > 1:
        raise GeohazardError(
            f"'{name}' holds several VV rasters ({', '.join(found)}); choose one of them as SAR."
        )
    return os.path.join(folder, found[0])


def find_sar(path: str, vh_path: str | None = None) -> SarSource:
    """Which file and band hold VV and VH (module doc); refuses ambiguous or missing bands."""
    path = _product_file(os.fspath(path))
    info = inspect_raster(path)
    name = os.path.basename(path)
    descriptions = _descriptions(path)
    if info.count >= 2:
        if vh_path:
            raise GeohazardError(
                f"'{name}' already holds {info.count} bands; give a separate VH file only with "
                "a one-band VV file."
            )
        return _bands_of_one_file(path, descriptions)
    pol = _pol(descriptions[0]) or _pol(_stem(path))
    if pol in ("HH", "HV"):
        raise _cross_pol(name, pol)
    if vh_path:
        other = _product_file(os.fspath(vh_path))
        other_info = inspect_raster(other)
        other_name = os.path.basename(other)
        if other_info.count != 1:
            raise GeohazardError(
                f"The VH file '{other_name}' has {other_info.count} bands; it must be one band."
            )
        other_pol = _pol(_descriptions(other)[0]) or _pol(_stem(other))
        if other_pol in ("HH", "HV"):
            raise _cross_pol(other_name, other_pol)
        if pol and pol == other_pol:
            raise GeohazardError(
                f"'{name}' and '{other_name}' are both {pol}; give one VV and one VH file."
            )
        files = [path, other]
        if pol == "VH" or other_pol == "VV":
            files.reverse()
        how = f"VV from '{os.path.basename(files[0])}', VH from '{os.path.basename(files[1])}'"
    elif pol in ("VV", "VH"):
        twin_pol = "VH" if pol == "VV" else "VV"
        base = os.path.basename(path)
        if not _POL.search(base):
            raise GeohazardError(
                f"'{name}' is one band ({pol}, by its band name) and its {twin_pol} twin cannot "
                f"be found by name; give the {twin_pol} file as well (SAR_VH)."
            )
        twin = os.path.join(os.path.dirname(path), _swap_last(_POL, base, twin_pol))
        if not os.path.exists(twin):
            raise GeohazardError(
                f"'{name}' is one band ({pol}) and its {twin_pol} twin "
                f"'{os.path.basename(twin)}' is not beside it; give the {twin_pol} file as well "
                "(SAR_VH)."
            )
        if inspect_raster(twin).count != 1:
            raise GeohazardError(
                f"'{os.path.basename(twin)}' has several bands; the {twin_pol} file of a pair "
                "must be one band."
            )
        files = [path, twin] if pol == "VV" else [twin, path]
        how = f"VV from '{os.path.basename(files[0])}', VH from '{os.path.basename(files[1])}'"
    else:
        raise GeohazardError(
            f"'{name}' has {info.count} band; SAR input needs two bands, VV then VH, or one file "
            "per polarisation named alike with VV and VH (such as ..._VV.tif and ..._VH.tif)."
        )
    texts = [t for f in files for t in (*_descriptions(f), _stem(f))]
    return SarSource((files[0], 1), (files[1], 1), _units_hint(texts), how)


def _cross_pol(name: str, pol: str) -> GeohazardError:
    return GeohazardError(
        f"'{name}' holds {pol} (HH/HV, a polar or ice mode acquisition); the models take VV "
        "and VH."
    )


def _bands_of_one_file(path: str, descriptions: tuple[str, ...]) -> SarSource:
    name = os.path.basename(path)
    pols = [_pol(d) for d in descriptions]
    where: dict[str, list[int]] = {}
    for i, p in enumerate(pols, start=1):
        if p:
            where.setdefault(p, []).append(i)
    if not where:
        return SarSource(
            (path, 1),
            (path, 2),
            _units_hint([_stem(path)]),
            f"'{name}' bands 1 and 2 read as VV and VH (its bands name no polarisation)",
        )
    if set(where) <= {"HH", "HV"}:
        raise _cross_pol(name, "/".join(sorted(where)))
    for pol in ("VV", "VH"):
        if len(where.get(pol, [])) > 1:
            listed = ", ".join(f"{i} {descriptions[i - 1]}" for i in where[pol])
            raise GeohazardError(
                f"'{name}' has several {pol} bands ({listed}); keep one VV and one VH band."
            )
    if "VV" not in where or "VH" not in where:
        named = ", ".join(f"band {i} {descriptions[i - 1]}" for v in where.values() for i in v)
        raise GeohazardError(
            f"VV and VH are ambiguous in '{name}': its band names give {named} only; name the "
            "bands VV and VH or give one file per polarisation."
        )
    vv, vh = where["VV"][0], where["VH"][0]
    texts = [descriptions[vv - 1], descriptions[vh - 1], _stem(path)]
    return SarSource(
        (path, vv),
        (path, vh),
        _units_hint(texts),
        f"VV from '{name}' band {vv} ({descriptions[vv - 1]}), "
        f"VH from band {vh} ({descriptions[vh - 1]})",
    )


def resolve_units(requested: str, hint: str | None, values: np.ndarray, name: str) -> str:
    """The SAR units: ``requested`` unless ``auto`` (then the names' hint, else the values),
    refused where the values cannot be calibrated backscatter in those units."""
    if requested not in SAR_UNITS:
        raise GeohazardError(f"SAR units must be one of {', '.join(SAR_UNITS)}, not {requested!r}.")
    finite = values[np.isfinite(values) & (values != 0)]
    if finite.size == 0:
        return "linear" if requested == "auto" else requested
    median = float(np.median(finite))
    looks_db = median < 0
    units = requested if requested != "auto" else hint or ("db" if looks_db else "linear")
    said = "set" if requested != "auto" else "named" if hint else "read"
    words = {"linear": "linear power", "db": "dB", "amplitude": "amplitude"}
    if units == "db" and not looks_db:
        advice = "choose linear power" if hint else "choose linear power or auto"
        raise GeohazardError(
            f"'{name}' is {said} as dB, but its values are positive (median {median:.3g}), as "
            f"linear power is; {advice} for the SAR units."
        )
    if units != "db" and looks_db:
        advice = "choose dB" if hint else "choose dB or auto"
        raise GeohazardError(
            f"'{name}' is {said} as {words[units]}, but most of its values are negative (median "
            f"{median:.3g}), as dB are; {advice} for the SAR units."
        )
    power = median**2 if units == "amplitude" else median
    if units != "db" and power > UNCALIBRATED_MEDIAN:
        raise GeohazardError(
            f"The values of '{name}' (median {median:.4g}) are not calibrated backscatter "
            "(sigma0 or gamma0 are mostly below 1); calibrate the image first (SNAP: Radar > "
            "Radiometric > Calibrate)."
        )
    return units


def read_sar(source: SarSource, units: str, reporter: Reporter | None = None) -> SarBands:
    """VV and VH on the VV raster's grid (a separate VH file is resampled onto it)."""
    rep = reporter or Reporter()
    vv_info = inspect_raster(source.vv[0])
    grid = vv_info.grid
    with open_band(vv_info, source.vv[1]) as reader:
        vv = reader.read()
    vh_info = vv_info if source.vh[0] == source.vv[0] else inspect_raster(source.vh[0])
    with open_band(vh_info, source.vh[1], grid, rep, role="VH", grid_role="VV") as reader:
        vh = reader.read()
    name = os.path.basename(source.vv[0])
    both = np.concatenate([vv.ravel(), vh.ravel()])
    resolved = resolve_units(units, source.units_hint, both, name)
    rep.info(f"SAR: {source.how}; {resolved}.")
    return SarBands(vv, vh, grid, resolved, name)


# --- optical -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpticalSource:
    """Where red, green and blue are ((file, band) each) and how their values become
    reflectance: ``(value + offset) * scale``, ``nodata`` replacing the files' own."""

    bands: tuple[tuple[str, int], ...]
    kind: str
    scene: str | None
    offset: float
    scale: float
    nodata: float | None
    how: str

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(p for p, _ in self.bands))


def _colour(text: str) -> str | None:
    """red/green/blue for a band named so (or B04/B03/B02); ``other`` for another named
    Sentinel-2 band; None when the text names no band."""
    low = text.strip().lower()
    for colour, _number in COLOURS:
        if low in (colour, colour[0]):
            return colour
    m = _S2_BAND.search(text)
    if not m:
        return None
    number_text = m.group(3).upper()
    for colour, number in COLOURS:
        if number_text == str(number):
            return colour
    return "other"


def _folder_band_file(folder: str) -> str:
    """The red band file of a Sentinel-2 product folder (the finest resolution)."""
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if f.lower().endswith(RASTER_EXTENSIONS) and _colour(_stem(f)) == "red":
                found.append(os.path.join(dirpath, f))
    name = os.path.basename(folder.rstrip(os.sep))
    if not found:
        raise GeohazardError(f"The folder '{name}' holds no red band file (B04, .jp2 or .tif).")
    finest = [f for f in found if re.search(r"_10m" + _END, _stem(f), re.I)] or found
    if len(finest) > 1:
        listed = ", ".join(os.path.basename(f) for f in finest)
        raise GeohazardError(f"The folder '{name}' holds several red bands ({listed}); give one.")
    return finest[0]


def _l2a_offset(path: str) -> tuple[float, str]:
    """BOA_ADD_OFFSET of the L2A product ``path`` belongs to, and where it was found."""
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(6):
        mtd = os.path.join(folder, "MTD_MSIL2A.xml")
        if os.path.isfile(mtd):
            with open(mtd, encoding="utf-8", errors="replace") as f:
                m = _BOA_OFFSET.search(f.read())
            return (float(m.group(1)), "MTD_MSIL2A.xml") if m else (0.0, "MTD_MSIL2A.xml")
        baseline = _BASELINE.search(os.path.basename(folder))
        if baseline:
            n = int(baseline.group(1))
            offset = -1000.0 if n >= 400 else 0.0
            return offset, f"processing baseline {n // 100:02d}.{n % 100:02d}"
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return 0.0, "no processing baseline found, none assumed"


def find_optical(path: str) -> OpticalSource:
    """Which file and band hold red, green and blue, and how to scale them (module doc)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = _folder_band_file(path)
    info = inspect_raster(path)
    name = os.path.basename(path)
    descriptions = _descriptions(path)
    if info.count == 1:
        bands, how = _separate_band_files(path)
    else:
        colours = [_colour(d) for d in descriptions]
        if any(colours):
            picked = []
            for colour, number in COLOURS:
                idx = [i for i, c in enumerate(colours, start=1) if c == colour]
                if len(idx) != 1:
                    names = ", ".join(d for d in descriptions if d)
                    raise GeohazardError(
                        f"The optical image '{name}' names its bands ({names}) but "
                        f"{'none' if not idx else 'several'} {'is' if not idx else 'are'} "
                        f"{colour} (B{number:02d})."
                    )
                picked.append((path, idx[0]))
            bands = tuple(picked)
            how = f"'{name}' bands {', '.join(str(b) for _, b in bands)} as red, green, blue"
        elif info.count < 3:
            raise GeohazardError(
                f"'{name}' has {info.count} band(s); the optical image needs three, red, green "
                "and blue."
            )
        else:
            bands = ((path, 1), (path, 2), (path, 3))
            how = f"'{name}' bands 1, 2, 3 read as red, green, blue (its bands are not named)"
    # the file and the folders of a .SAFE product that carry the level (GRANULE/L1C_..., ...)
    texts = [os.sep.join(os.path.abspath(p).split(os.sep)[-4:]) for p, _ in bands]
    kind = (
        "l1c"
        if any(_L1C.search(t) for t in texts)
        else "l2a"
        if any(_L2A.search(t) or _L2A_BAND_NAME.search(t) for t in texts)
        else "other"
    )
    scene = _SCENE.search(_stem(path))
    dtype = np.dtype(info.dtypes[0])
    offset, scale, nodata = 0.0, 1.0, None
    if dtype.kind in "ui" and dtype.itemsize == 2:
        scale = 1.0 / L2A_SCALE
        nodata = 0.0 if info.nodata is None else None
        if kind != "l1c":
            offset, source = _l2a_offset(path)
        else:
            source = "Level-1C"
        how += f"; reflectance = (value {offset:+g}) / {L2A_SCALE:g} ({source})"
        if nodata is not None:
            how += ", 0 is no data"
    return OpticalSource(bands, kind, scene.group(0) if scene else None, offset, scale, nodata, how)


def _separate_band_files(path: str) -> tuple[tuple[tuple[str, int], ...], str]:
    """Red, green and blue files: ``path`` (one of them) and its twins, by the band's name."""
    name = base = os.path.basename(path)
    m = list(_S2_BAND.finditer(_stem(base)))
    colour = _colour(m[-1].group(0)) if m else None
    if not m or colour is None:
        raise GeohazardError(
            f"'{name}' has 1 band(s); the optical image needs three, red, green and blue, as "
            "one raster or as one Sentinel-2 band file (B04, B03 or B02) with the other two "
            "beside it."
        )
    if colour == "other":
        raise GeohazardError(
            f"'{name}' is band {m[-1].group(0).strip('_')}; give the red (B04), green (B03) or "
            "blue (B02) band file, with the other two beside it."
        )
    zero = m[-1].group(2)
    start, end = m[-1].span(2)[0], m[-1].span(3)[1]
    bands = []
    for want, number in COLOURS:
        label = f"{zero}{number}" if zero else str(number)
        twin = os.path.join(os.path.dirname(path), base[:start] + label + base[end:])
        if not os.path.exists(twin):
            raise GeohazardError(
                f"No {want} band (B{label}) beside '{name}': "
                f"expected '{os.path.basename(twin)}' in the same folder."
            )
        if inspect_raster(twin).count != 1:
            raise GeohazardError(f"The band file '{os.path.basename(twin)}' has several bands.")
        bands.append((twin, 1))
    how = "red, green, blue from " + ", ".join(f"'{os.path.basename(p)}'" for p, _ in bands)
    return tuple(bands), how


def read_optical(source: OpticalSource, grid: Grid, reporter: Reporter | None = None) -> np.ndarray:
    """(3, H, W) float32 red, green, blue on ``grid`` (bilinear), NaN where nodata."""
    rep = reporter or Reporter()
    out: list[np.ndarray] = []
    warned: set[str] = set()
    for path, band in source.bands:
        # one band per read; the resampling warning once per file
        with open_band(
            inspect_raster(path),
            band,
            grid,
            rep if path not in warned else Reporter(),
            role="optical",
            grid_role="SAR",
            nodata=source.nodata,
        ) as reader:
            out.append(reader.read())
        warned.add(path)
        rep.check_cancel()
    rgb = np.stack(out).astype(np.float32)
    if source.scale != 1.0 or source.offset != 0.0:
        rgb = ((rgb + np.float32(source.offset)) * np.float32(source.scale)).astype(np.float32)
    rep.info(f"Optical: {source.how}.")
    return rgb


# --- scene classification ------------------------------------------------------------------


def read_scl_valid(
    path: str,
    grid: Grid,
    optical: OpticalSource | None = None,
    reporter: Reporter | None = None,
) -> np.ndarray:
    """(H, W) bool on ``grid``: True where the SCL class is usable (module doc)."""
    rep = reporter or Reporter()
    info = inspect_raster(path)
    name = os.path.basename(path)
    if optical is not None and optical.kind == "l1c":
        raise GeohazardError(
            f"The scene classification '{name}' comes with Sentinel-2 L2A products, but the "
            f"optical image '{os.path.basename(optical.files[0])}' is Level-1C; use the L2A "
            "bands, or give a cloud mask as MASK."
        )
    scene = _SCENE.search(_stem(path))
    if optical is not None and optical.scene and scene and scene.group(0) != optical.scene:
        raise GeohazardError(
            f"The scene classification '{name}' is of scene {scene.group(0)}, not of the "
            f"optical image's scene {optical.scene}."
        )
    if info.count != 1 or np.dtype(info.dtypes[0]).kind not in "ui":
        raise GeohazardError(
            f"'{name}' is not a scene classification layer (SCL is one band of integer "
            "classes 0-11)."
        )
    with open_band(
        info, 1, grid, rep, role="SCL", grid_role="SAR", resampling=Resampling.nearest
    ) as reader:
        classes = reader.read()
    finite = classes[np.isfinite(classes)]
    if finite.size and float(finite.max()) > 11:
        raise GeohazardError(
            f"'{name}' is not a scene classification layer: its values reach "
            f"{float(finite.max()):g}, SCL classes are 0-11."
        )
    valid = np.isfinite(classes) & ~np.isin(classes, SCL_MASKED)
    rep.info(
        f"SCL '{name}': {100 * (1 - valid.mean()):.0f}% of the SAR grid masked "
        f"({SCL_MASKED_NAMES}, or outside the layer)."
    )
    return valid
