"""SAR-to-optical translation (SARDINet with DEM fusion) as a model task.

Inputs: a Sentinel-1 raster with VV and VH sigma0 (linear or dB) and, for the DEM fusion
variants, a DEM in metres, resampled onto the SAR grid. Each tile is transformed as in training
(data.py of this family): SAR log-compressed over the card's dB range, DEM divided by the
card's maximum elevation, nodata set to 0. The output is RGB in 0..255 on the SAR grid, NaN
where the SAR (or DEM) has no data, optionally sharpened (image_enhance.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...core.run_options import RunOptions
from ...models.model_card import ModelCard
from ...models.model_task import ModelTask, PreparedBatch, Tile, TileSettings, check_bands
from .image_enhance import ENHANCEMENTS

FUSIONS = ("sar-only", "early", "late", "intermediate")
NORMALISATION_KIND = "sardinet-log-sar-dem-max"
OUTPUT_BANDS = ["red (0-255)", "green (0-255)", "blue (0-255)"]


def default_model_name(fusion: str) -> str:
    """Bundled model of a fusion variant, e.g. ``sardinet_late``."""
    return "sardinet_" + fusion.replace("-", "_")


@dataclass
class SarToOpticalTask(ModelTask):
    """SAR VV/VH (+ DEM) -> optical-like RGB on the SAR grid.

    ``sar_units`` (linear, db or auto) and ``enhance`` (none, laplacian, wiener) are per-run
    choices: a run uses ``replace(TASK, sar_units=..., enhance=...)``.
    """

    name: str = "sar-to-optical"
    title: str = "translate"
    architectures: tuple[str, ...] = ("SARDINet",)
    tile_size: int = 256
    sar_units: str = "auto"
    enhance: str = "none"
    overlap: int = 64
    min_tile: int = 32
    batch_cpu: int = 1
    batch_gpu: int = 8

    def default_model(self, options: Any = None) -> str:
        """The bundled model of the options' ``fusion`` variant (default late)."""
        return default_model_name(getattr(options, "fusion", "late"))

    def fusion_of(self, card: ModelCard) -> str:
        return str(card.architecture.get("fusion", "late"))

    def check_card(self, card: ModelCard) -> None:
        fusion = self.fusion_of(card)
        if fusion not in FUSIONS:
            raise GeohazardError(f"The model card '{card.name}' has an unknown fusion {fusion!r}.")
        check_bands(card, [2] if fusion == "sar-only" else [2, 1], 3)
        if card.scale != 1:
            raise GeohazardError(
                f"The model card '{card.name}' says scale {card.scale}; a translation model "
                "writes on the SAR grid (scale 1)."
            )
        if card.normalisation.kind != NORMALISATION_KIND:
            raise GeohazardError(
                f"The model card '{card.name}' uses the normalisation "
                f"'{card.normalisation.kind}', not '{NORMALISATION_KIND}'."
            )
        for key in ("sar_db_min", "sar_db_max", "dem_max_m"):
            if not isinstance(card.normalisation.params.get(key), (int, float)):
                raise GeohazardError(
                    f"The model card '{card.name}' has no number '{key}' in its normalisation."
                )

    def output_bands(self, card: ModelCard) -> list[str]:
        return list(OUTPUT_BANDS)

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        from .data import log_compress

        params = card.normalisation.params
        db_range = (float(params["sar_db_min"]), float(params["sar_db_max"]))
        units = self.sar_units
        with_dem = self.fusion_of(card) != "sar-only"
        batch, masks, keep = [], [], []
        for k, tile in enumerate(tiles):
            sar = tile[0]
            valid = np.all(np.isfinite(sar), axis=0) & np.all(sar != 0, axis=0)
            channels = [
                log_compress(sar[0], units, db_range),
                log_compress(sar[1], units, db_range),
            ]
            if with_dem:
                dem = tile[1][0]
                valid &= np.isfinite(dem)
                channels.append((dem / float(params["dem_max_m"])).astype(np.float32))
            if not valid.any():
                continue
            x = np.stack(channels)
            x[:, ~valid] = 0.0
            batch.append(np.nan_to_num(x, nan=0.0))
            masks.append(valid)
            keep.append(k)
        inputs = (np.stack(batch).astype(np.float32),) if batch else ()
        return PreparedBatch(inputs, keep, masks)

    def restore(
        self, output: np.ndarray, batch: PreparedBatch, tiles: list[Tile], card: ModelCard
    ) -> list[np.ndarray]:
        from .image_enhance import enhance

        method = self.enhance
        restored = []
        for n, valid in enumerate(batch.state):
            rgb = enhance(np.clip(output[n] * 255.0, 0.0, 255.0), method).astype(np.float32)
            rgb[:, ~valid] = np.nan
            restored.append(rgb)
        return restored


TASK = SarToOpticalTask()


@dataclass(frozen=True)
class SarToOpticalConfig:
    """Options of :func:`translate_sar_to_optical`.

    Args:
        fusion: ``sar-only``, ``early``, ``late`` or ``intermediate``; the model must be of it.
        model: model name (bundled or user), ``default``/empty for the bundled model of the
            fusion, or a path to a .safetensors file (card beside it).
        enhance: ``none``, ``laplacian`` or ``wiener`` (the paper's post-processing).
        tiles: tile side and overlap in pixels (default 256 and 64) and tiles per forward
            pass (0 = the task's default for the device).
        sar_units: ``linear`` sigma0, ``db``, or ``auto`` (dB when the SAR has negative values).
    """

    fusion: str = "late"
    model: str = ""
    enhance: str = "none"
    tiles: TileSettings = field(default_factory=TASK.tile_settings)
    sar_units: str = "auto"

    def validate(self) -> None:
        if self.fusion not in FUSIONS:
            raise GeohazardError(f"FUSION must be one of {', '.join(FUSIONS)}, not {self.fusion}.")
        if self.enhance not in ENHANCEMENTS:
            raise GeohazardError(
                f"ENHANCE must be one of {', '.join(ENHANCEMENTS)}, not {self.enhance}."
            )
        if self.sar_units not in ("linear", "db", "auto"):
            raise GeohazardError(f"SAR units must be linear, db or auto, not {self.sar_units}.")


def _sar_units(path: str) -> str:
    """``db`` when a spread sample of the SAR's first band holds negative values, else
    ``linear``. Reads at most the sample's blocks (see :mod:`..input_checks`), through the
    checked reader, so a huge or damaged file costs neither memory nor a traceback."""
    from ...io.input_checks import sample_windows
    from ...io.raster_io import inspect_raster, open_band

    info = inspect_raster(path)
    lowest = np.inf
    with open_band(info, 1) as reader:
        for window in sample_windows(info.grid.width, info.grid.height):
            data = reader.read(window)
            finite = data[np.isfinite(data)]
            if finite.size:
                lowest = min(lowest, float(finite.min()))
    return "db" if lowest < 0 else "linear"


def translate_sar_to_optical(
    sar_path: str,
    dem_path: str | None,
    output_path: str,
    config: SarToOpticalConfig,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    model: Any = None,
    user_models: str | None = None,
) -> dict[str, Any]:
    """Write an optical-like RGB GeoTIFF (0..255, float32, NaN nodata) on the SAR grid.

    Args:
        sar_path: two bands, VV then VH.
        dem_path: DEM in metres (any grid overlapping the SAR); needed unless ``sar-only``.
        options: device, precision, memory cap, threads of this run.
        model: an already loaded model (e.g. during training) instead of ``config.model``.
        user_models: the user's models folder, searched after the bundled models.
    """
    from ...io.raster_io import inspect_raster
    from ...models.run_preparation import prepare_run
    from ...models.tiled_runner import RasterInput, run_tiled

    rep = reporter or Reporter()
    with_dem = config.fusion != "sar-only"

    def check_inputs() -> Any:
        info = inspect_raster(sar_path)
        name = os.path.basename(sar_path)
        if info.count != 2:
            raise GeohazardError(
                f"'{name}' has {info.count} band(s); SAR input needs exactly two bands, VV then "
                "VH."
            )
        if with_dem and not dem_path:
            raise GeohazardError(
                f"The {config.fusion} fusion variant needs a DEM; give one, or choose sar-only."
            )
        if with_dem and dem_path:
            dem_info = inspect_raster(dem_path)
            if dem_info.count != 1:
                raise GeohazardError(
                    f"'{os.path.basename(dem_path)}' has {dem_info.count} bands; a DEM has one "
                    "band."
                )
        return info

    loaded, info = prepare_run(TASK, config, check_inputs, model, user_models)
    card = loaded.card
    fusion = TASK.fusion_of(card)
    if fusion != config.fusion:
        raise GeohazardError(
            f"The model '{card.name}' is a {fusion} SARDINet, but FUSION asks for "
            f"{config.fusion}; choose FUSION={fusion} or a {config.fusion} model."
        )
    units = config.sar_units if config.sar_units != "auto" else _sar_units(sar_path)
    task = replace(TASK, sar_units=units, enhance=config.enhance)
    inputs = [RasterInput(sar_path, (1, 2), "SAR")]
    if with_dem and dem_path:
        inputs.append(RasterInput(dem_path, (1,), "DEM", elevations=True))
    rep.info(
        f"Translating {info.grid.width}x{info.grid.height} px of SAR ({units}) with {card.name} "
        f"({fusion} fusion), enhancement {config.enhance}."
    )
    tags = {
        "GEOHAZARD_MODEL": card.name,
        "GEOHAZARD_FUSION": fusion,
        "GEOHAZARD_ENHANCE": config.enhance,
        "GEOHAZARD_NOTE": "optical-like image predicted from SAR by a network, not an observation",
    }
    return run_tiled(
        task, loaded, inputs, output_path, config.tiles, options or RunOptions(), rep, tags
    )
