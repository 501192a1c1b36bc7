"""DEM super-resolution as a model task: per-tile elevation normalisation, nodata rules, scale.

A tile's nodata (NaN) pixels are filled from their nearest valid neighbour before the network
sees them (so holes do not drag nearby elevations towards zero), the tile is normalised with
:class:`~..tile_norm.TileNorm` (the same in training), and every output pixel whose
low-resolution parent was nodata is set back to NaN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...core.run_options import RunOptions
from ...models.model_card import BandSet, ModelCard, Normalisation
from ...models.model_task import ModelTask, PreparedBatch, Tile, TileSettings, check_bands
from . import FAMILY
from .tile_norm import TileNorm

MIN_INPUT_PX = 4
SCALES = (2, 4)
SPLINE = "spline"  # reserved MODEL name: the classical back-projected cubic spline, no network
ELEVATION = BandSet("dem", ("elevation (m)",))
NORMALISATION = Normalisation(
    "per-tile-standardise",
    {
        "offset": "mean of the tile's valid low-resolution elevations",
        "scale": "their standard deviation, at least min_scale_m",
        "min_scale_m": 0.01,
        "restore": "metres = normalised * scale + offset (float64)",
        "nodata": "filled from the nearest valid pixel before the network; outputs over a "
        "nodata parent are nodata",
    },
)
CONTEXT_PX = FAMILY.context_px


def fill_nodata(tile: np.ndarray) -> np.ndarray:
    """Copy of ``tile`` with each NaN replaced by its nearest finite value (tile must have one)."""
    from scipy import ndimage

    invalid = ~np.isfinite(tile)
    if not invalid.any():
        return tile
    idx = ndimage.distance_transform_edt(invalid, return_distances=False, return_indices=True)
    return tile[tuple(idx)]


@dataclass
class DemSuperResolutionTask(ModelTask):
    """One-band DEM in metres -> the same DEM with pixels ``scale`` times smaller."""

    name: str = "dem-super-resolution"
    title: str = "super-resolve"
    architectures: tuple[str, ...] = ("RRDBNet",)
    tile_size: int = 256  # the fastest on a CPU (large tiles are memory-bound); ~0.6 GiB at x4
    overlap: int = 32  # the bundled models need 12 px of context; the rest is for blending

    def default_model(self, options: Any = None) -> str:
        """``dem_sr_x2`` or ``dem_sr_x4`` for the options' ``scale`` (default 4)."""
        return f"dem_sr_x{getattr(options, 'scale', 4)}"

    def check_card(self, card: ModelCard) -> None:
        check_bands(card, [1], 1)
        arch_scale = card.architecture.get("scale", 4)
        if arch_scale != card.scale:
            raise GeohazardError(
                f"The model card '{card.name}' says scale {card.scale} but its network upsamples "
                f"by {arch_scale}; the card is refused."
            )
        for key in ("num_in_ch", "num_out_ch"):
            if card.architecture.get(key, 1) != 1:
                raise GeohazardError(
                    f"The model card '{card.name}' has {key} = {card.architecture[key]}; a DEM "
                    "model takes and gives one band."
                )

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        batch, norms, keep = [], [], []
        for k, tile in enumerate(tiles):
            dem = tile[0][0]
            if not np.isfinite(dem).any():
                continue
            norm = TileNorm.of(dem)
            batch.append(norm.forward(fill_nodata(dem)))
            norms.append(norm)
            keep.append(k)
        inputs = (np.stack(batch)[:, None],) if batch else ()
        return PreparedBatch(inputs, keep, norms)

    def restore(
        self, output: np.ndarray, batch: PreparedBatch, tiles: list[Tile], card: ModelCard
    ) -> list[np.ndarray]:
        s = card.scale
        restored = []
        for n, k in enumerate(batch.keep):
            hr = batch.state[n].inverse(output[n, 0])
            invalid = ~np.isfinite(tiles[k][0][0])
            if invalid.any():
                hr[np.repeat(np.repeat(invalid, s, 0), s, 1)] = np.nan
            restored.append(hr[None])
        return restored


TASK = DemSuperResolutionTask()


def dem_card(
    name: str, description: str, architecture: dict[str, Any], scale: int, **rest: Any
) -> ModelCard:
    """A card of a one-band elevation model (network or spline): the DEM bands, the per-tile
    normalisation and the context, with ``rest`` (parameters, training, held-out data...)."""
    return TASK.card(
        name=name,
        description=description,
        architecture=architecture,
        inputs=(ELEVATION,),
        output=ELEVATION,
        normalisation=NORMALISATION,
        context_px=CONTEXT_PX,
        scale=scale,
        **rest,
    )


def spline_model(scale: int) -> Any:
    """The back-projected cubic spline (:mod:`..spline_upsample`) as a loaded "model", so that it
    runs through the same tiled runner, nodata rules and output path as the networks."""
    from ...models.archs.spline_bp import SplineBackProjection
    from ...models.model_store import LoadedModel

    card = dem_card(
        SPLINE,
        f"Cubic spline x{scale} with back-projection: every output block averages to its "
        "input pixel (classical method, no network).",
        {"type": "SplineBackProjection", "scale": scale},
        scale,
    )
    return LoadedModel(SplineBackProjection(scale).eval(), card, "")


@dataclass(frozen=True)
class SuperResolutionConfig:
    """Options of :func:`super_resolve_dem`.

    Args:
        scale: upsampling factor, 2 or 4; must match the model's.
        model: a model name (bundled or user), ``default``/empty for the bundled model of the
            scale, ``spline`` for the classical back-projected cubic spline (a reserved name),
            or a path to a .safetensors file (card beside it).
        tiles: tile side and overlap in input pixels (default: the task's, 256 and 32) and
            tiles per forward pass (0, the default, is 4 on CUDA and 1 on the CPU, where
            batching gains nothing and multiplies the memory of the activations).
    """

    scale: int = 4
    model: str = ""
    tiles: TileSettings = field(default_factory=TASK.tile_settings)

    def validate(self) -> None:
        if self.scale not in SCALES:
            raise GeohazardError(f"SCALE must be 2 or 4, not {self.scale}.")


def super_resolve_dem(
    input_path: str,
    output_path: str,
    config: SuperResolutionConfig,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    model: Any = None,
    user_models: str | None = None,
) -> dict[str, Any]:
    """Super-resolve a one-band DEM GeoTIFF; returns a summary (model, device, tiles, output).

    Args:
        options: the run's device, precision, memory cap and threads (default: automatic).
        model: an already loaded :class:`~..model_store.LoadedModel` (e.g. from training)
            used instead of ``config.model``.
        user_models: the user's models folder, searched after the bundled models.
    """
    from ...io.raster_io import inspect_raster, output_grid
    from ...models.run_preparation import prepare_run
    from ...models.tiled_runner import RasterInput, run_tiled

    rep = reporter or Reporter()

    def check_dem() -> Any:
        info = inspect_raster(input_path)
        name = os.path.basename(input_path)
        if info.count != 1:
            raise GeohazardError(
                f"'{name}' has {info.count} bands; a DEM must have exactly one band."
            )
        grid = info.grid
        if grid.width < MIN_INPUT_PX or grid.height < MIN_INPUT_PX:
            raise GeohazardError(
                f"'{name}' is only {grid.width}x{grid.height} pixels; at least "
                f"{MIN_INPUT_PX}x{MIN_INPUT_PX} are needed."
            )
        return grid

    if model is None and config.model.strip().lower() == SPLINE:
        config.validate()  # a valid SCALE before the spline is built
        model = spline_model(config.scale)
    loaded, grid = prepare_run(TASK, config, check_dem, model, user_models)
    card = loaded.card
    if card.scale != config.scale:
        raise GeohazardError(
            f"The model '{card.name}' was trained for x{card.scale} super-resolution, but SCALE "
            f"is {config.scale}; choose SCALE={card.scale} or a x{config.scale} model."
        )
    out = output_grid(grid, config.scale)
    rep.info(
        f"Super-resolving {grid.width}x{grid.height} -> {out.width}x{out.height} px with "
        f"{card.name} (x{config.scale})."
    )
    tags = {"GEOHAZARD_MODEL": card.name, "GEOHAZARD_SCALE": str(config.scale), "UNITS": "metre"}
    return run_tiled(
        TASK,
        loaded,
        [RasterInput(input_path, (1,), "DEM", elevations=True)],
        output_path,
        config.tiles,
        options or RunOptions(),
        rep,
        tags,
    )
