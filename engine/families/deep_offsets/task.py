"""Deep offset tracking (CC-ResSiamNet) as a model task: amplitudes + NCC prior -> dense offsets.

A run first measures the classical multi-window NCC offsets on their grid of window centres (the
prior, engine/offsets/dense_prior.py, with the window sizes, step and search the model card
names), keeps that small grid in memory as a raster (``/vsimem``), and hands it to the shared
tiled runner as a third input, which interpolates it bilinearly onto the reference grid tile by
tile. Each tile: amplitudes log-standardised, prior filled at the edges, network, then restored
to the band layout of ``geohazard:offsettracking`` on the reference grid (one value per pixel):

1 east offset (m), 2 north offset (m), 3 magnitude (m), 4 quality (peak NCC of the prior's
smallest window), 5 east 1-sigma uncertainty (m), 6 north 1-sigma uncertainty (m).

The 1-sigma comes from the network's own error estimate (trained on its errors, calibrated on
validation pairs so that about 95% of true errors lie within 2 sigma), raised to at least 10% of
the motion where the motion exceeds what the model was trained on. Outputs are NaN where either
image has no data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ...core.run_options import RunOptions
from ...models.model_card import ModelCard
from ...models.model_task import ModelTask, PreparedBatch, Tile, TileSettings, check_bands
from ...offsets.bands import OUTPUT_BANDS

OUT_OF_RANGE_SIGMA = 0.1  # sigma floor, as a fraction of the motion, beyond the trained range


def prior_config(card: ModelCard) -> Any:
    """The card's NCC prior settings as a PriorConfig."""
    from ...offsets.dense_prior import PriorConfig

    p = card.normalisation.params.get("prior", {})
    try:
        return PriorConfig(
            window_sizes=tuple(int(w) for w in p["window_sizes"]),
            step=int(p["step"]),
            search=int(p["search"]),
            min_quality=float(p.get("min_quality", 0.1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GeohazardError(
            f"The model card '{card.name}' does not say how its NCC prior is measured "
            f"(normalisation.params.prior: window_sizes, step, search): {exc}."
        ) from exc


@dataclass
class DeepOffsetTask(ModelTask):
    """Reference and secondary amplitude + NCC prior -> dense east/north offsets with sigma.

    ``grid`` (the reference Grid) is a per-run field: :func:`deep_track_offsets` runs
    ``replace(TASK, grid=...)``; it turns pixel offsets into metres (None: pixels, north up).
    """

    name: str = "deep-offset-tracking"
    title: str = "track offsets"
    architectures: tuple[str, ...] = ("CCResSiamNet",)
    tile_size: int = 512
    overlap: int = 64
    min_tile: int = 64
    batch_cpu: int = 1
    batch_gpu: int = 4
    grid: Any = None

    def default_model(self, options: Any = None) -> str:
        """The one bundled model, whatever the options."""
        return "deep_offsets_small"

    def check_card(self, card: ModelCard) -> None:
        from ...offsets.dense_prior import channel_names

        prior = prior_config(card)
        n_prior = len(channel_names(prior))
        check_bands(card, [1, 1, n_prior], len(OUTPUT_BANDS))
        arch = card.architecture
        if arch.get("num_prior_ch", 8) != n_prior:
            raise GeohazardError(
                f"The model card '{card.name}' feeds {n_prior} prior channels but its network "
                f"takes {arch.get('num_prior_ch', 8)}; the card is refused."
            )
        if card.scale != 1:
            raise GeohazardError(f"The model card '{card.name}' has scale {card.scale}; must be 1.")

    def output_bands(self, card: ModelCard) -> list[str]:
        return list(OUTPUT_BANDS)

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        from ...offsets.network_inputs import fill_nearest, normalise_amplitude, pad_to_multiple

        levels = int(card.architecture.get("levels", 4))
        multiple = 2 ** (levels - 1)
        refs, secs, priors, keep = [], [], [], []
        for k, (ref, sec, prior) in enumerate(tiles):
            if not np.isfinite(ref).any() or not np.isfinite(sec).any():
                continue
            refs.append(pad_to_multiple(normalise_amplitude(ref[0]), multiple)[None])
            secs.append(pad_to_multiple(normalise_amplitude(sec[0]), multiple)[None])
            priors.append(pad_to_multiple(fill_nearest(prior), multiple))
            keep.append(k)
        if not keep:
            return PreparedBatch((), [])
        inputs = (np.stack(refs), np.stack(secs), np.stack(priors))
        return PreparedBatch(inputs, keep)

    def restore(
        self, output: np.ndarray, batch: PreparedBatch, tiles: list[Tile], card: ModelCard
    ) -> list[np.ndarray]:
        from ...offsets.dense_prior import channel_names

        grid = self.grid
        params = card.normalisation.params
        sigma_scale = float(params.get("sigma_scale", 1.0))
        trained_max = float(params.get("trained_max_px", np.inf))
        quality_index = channel_names(prior_config(card)).index(
            f"quality {prior_config(card).window_sizes[0]} px window"
        )
        restored = []
        for n, k in enumerate(batch.keep):
            ref, sec, prior = tiles[k]
            h, w = ref.shape[-2:]
            dx, dy = output[n, 0, :h, :w], output[n, 1, :h, :w]
            if output.shape[1] >= 4:
                sx = np.exp(output[n, 2, :h, :w]) * sigma_scale
                sy = np.exp(output[n, 3, :h, :w]) * sigma_scale
            else:  # no error head: the disagreement with the prior stands in for it
                sx = np.abs(dx - np.nan_to_num(prior[0])) + 0.05
                sy = np.abs(dy - np.nan_to_num(prior[1])) + 0.05
            mag_px = np.hypot(dx, dy)
            beyond = mag_px > trained_max
            if beyond.any():
                sx = np.where(beyond, np.maximum(sx, OUT_OF_RANGE_SIGMA * mag_px), sx)
                sy = np.where(beyond, np.maximum(sy, OUT_OF_RANGE_SIGMA * mag_px), sy)
            window = batch.windows[n] if batch.windows is not None else None
            east, north, s_east, s_north = _to_metres(dx, dy, sx, sy, grid, window)
            quality = prior[quality_index] if prior.shape[0] > quality_index else np.nan * dx
            bands = np.stack([east, north, np.hypot(east, north), quality, s_east, s_north])
            nodata = ~(np.isfinite(ref[0]) & np.isfinite(sec[0]))
            bands[:, nodata] = np.nan
            restored.append(bands.astype(np.float32))
        return restored


def _to_metres(
    dx: np.ndarray,
    dy: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    grid: Any,
    window: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixel offsets and sigmas to east/north metres (pixels unchanged without a grid)."""
    if grid is None:
        return dx, -dy, sx, sy
    from affine import Affine

    from ...io.raster_io import Grid
    from ...offsets.units import pixel_offsets_to_metres, pixel_sigmas_to_metres

    r0, c0 = (int(window.row_off), int(window.col_off)) if window is not None else (0, 0)
    here = Grid(grid.crs, grid.transform * Affine.translation(c0, r0), dx.shape[1], dx.shape[0])
    east, north = pixel_offsets_to_metres(dy, dx, grid, here)
    sigma_east, sigma_north = pixel_sigmas_to_metres(sy, sx, grid, here)
    return east, north, sigma_east, sigma_north


def _write_memory_raster(path: str, data: np.ndarray, grid: Any, names: list[str]) -> None:
    """A float32 GeoTIFF in GDAL's memory file system (``/vsimem``), with band descriptions."""
    import rasterio

    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": data.shape[0],
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.float32))
        for i, name in enumerate(names, 1):
            dst.set_band_description(i, name)


TASK = DeepOffsetTask()


@dataclass(frozen=True)
class DeepOffsetConfig:
    """Options of :func:`deep_track_offsets`.

    Args:
        band: band of both rasters to track (1-based).
        model: a model name, ``default``/empty for the bundled model, or a .safetensors path.
        tiles: tile side and overlap in pixels (default: the task's) and tiles per forward
            pass (0 takes the task's CPU or GPU default).
        prefilter: pre-filter of both images for the NCC prior (offsets/prefilter.py); the
            network reads the images as they are.
        prior_offsets: raster of expected east/north offsets (m) around which the prior's
            windows search.
        reference_date: acquisition date of the reference (for velocities).
        secondary_date: acquisition date of the secondary (for velocities).
        stable_areas: GeoJSON polygons of stable ground in the reference CRS: their median
            offset is removed.
    """

    band: int = 1
    model: str = ""
    tiles: TileSettings = field(default_factory=TASK.tile_settings)
    prefilter: str = "none"
    prior_offsets: str | None = None
    reference_date: dt.date | None = None
    secondary_date: dt.date | None = None
    stable_areas: list[dict] | None = None

    def validate(self) -> None:
        from ...offsets.prefilter import PREFILTERS

        if self.band < 1:
            raise GeohazardError(f"BAND must be 1 or more, not {self.band}.")
        if self.prefilter not in PREFILTERS:
            raise GeohazardError(
                f"Unknown pre-filter '{self.prefilter}'; use one of {', '.join(PREFILTERS)}."
            )


def check_prior_size(reference: str, output: str, grid: Any, pcfg: Any, rep: Reporter) -> None:
    """Refuse, before the NCC prior is measured, an output that cannot fit on the disk and a
    prior that cannot fit in memory (the offset tracker's own rules: its grids of window
    centres, and the prior's channels held in memory for the tiled run)."""
    from ...io.output_files import check_free_space
    from ...io.raster_io import planned_raster
    from ...io.run_estimate import check_memory
    from ...offsets.dense_prior import channel_names
    from ...offsets.run_checks import working_memory
    from ...offsets.window_grid import CentreGrid

    # the tiled run checks and logs the output again; here only a refusal is said
    check_free_space([planned_raster(output, grid, len(OUTPUT_BANDS))], Reporter())
    sizes = tuple(pcfg.window_sizes)
    centres = CentreGrid.for_image(grid.height, grid.width, sizes[0], pcfg.step, pcfg.search)
    cells = centres.rows * centres.cols
    check_memory(
        working_memory(centres, sizes, grid.width) + 2 * 4 * len(channel_names(pcfg)) * cells,
        f"the NCC prior of '{os.path.basename(reference)}' on a {centres.cols} x "
        f"{centres.rows} grid of window centres",
        "clip the reference and the secondary to the area of interest.",
        rep,
    )


def deep_track_offsets(
    reference: str,
    secondary: str,
    output: str,
    config: DeepOffsetConfig | None = None,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    model: Any = None,
    user_models: str | None = None,
    velocity_output: str | None = None,
) -> dict[str, Any]:
    """Dense offsets of ``secondary`` relative to ``reference`` by CC-ResSiamNet (see module doc).

    With stable areas the median offset over stable ground is removed; with both dates and
    ``velocity_output`` the same bands are also written in m/yr.

    Returns a summary: model, device, tiles, output, prior grid size, the stable-ground
    correction (``stable``) and the velocity output when written.
    """
    import rasterio.errors
    import rasterio.shutil

    from ...core.device import run_scope
    from ...io.geodesy import check_not_rotated
    from ...io.input_checks import refuse_identical
    from ...io.output_files import output_folder
    from ...io.raster_io import check_output_path, inspect_raster, open_band
    from ...models.run_preparation import prepare_run
    from ...models.tiled_runner import RasterInput, run_tiled
    from ...offsets.dense_extras import DenseExtras, finish_dense_output
    from ...offsets.dense_prior import channel_names, measure_prior
    from ...offsets.extras import interval_days

    cfg = config or DeepOffsetConfig()
    rep = reporter or Reporter()
    opts = options or RunOptions()
    days = interval_days(cfg.reference_date, cfg.secondary_date)
    if velocity_output and days is None:
        raise GeohazardError(
            "Velocities need both acquisition dates (REFERENCE_DATE and SECONDARY_DATE)."
        )
    extras = DenseExtras(cfg.stable_areas, days, velocity_output)

    def check_inputs() -> Any:
        for path in (output, velocity_output):
            if not path:
                continue
            check_output_path(path)
            if os.path.abspath(path) in (os.path.abspath(reference), os.path.abspath(secondary)):
                raise GeohazardError(
                    "The output would overwrite an input raster; choose another file name."
                )
        ref_info, sec_info = inspect_raster(reference), inspect_raster(secondary)
        refuse_identical(ref_info, sec_info, cfg.band, rep)
        check_not_rotated(ref_info.grid, os.path.basename(reference))
        return ref_info, sec_info

    loaded, (ref_info, sec_info) = prepare_run(TASK, cfg, check_inputs, model, user_models)
    grid = ref_info.grid
    card = loaded.card
    pcfg = prior_config(card)
    need = pcfg.window_sizes[0] + 2 * pcfg.search
    if min(grid.width, grid.height) < need:
        raise GeohazardError(
            f"The reference raster is {grid.width} x {grid.height} px; the model's NCC prior "
            f"needs at least {need} px on each side (window {pcfg.window_sizes[0]} px plus twice "
            f"the search of {pcfg.search} px)."
        )
    check_prior_size(reference, output, grid, pcfg, rep)
    prior_path = f"/vsimem/geohazard_prior_{uuid.uuid4().hex}.tif"
    workdir = ""
    try:
        with run_scope(opts, rep) as device:
            with (
                open_band(ref_info, cfg.band, None, rep, role="reference") as ref_reader,
                open_band(sec_info, cfg.band, grid, None, role="secondary") as sec_reader,
            ):
                prior = measure_prior(
                    ref_reader,
                    sec_reader,
                    grid,
                    pcfg,
                    device,
                    rep.step(0, 0.3),
                    cfg.prefilter,
                    cfg.prior_offsets,
                )
        for role, path in (("reference", reference), ("secondary", secondary)):
            if prior.valid_pixels is not None and prior.valid_pixels[role] == 0:
                raise GeohazardError(
                    f"The {role} raster '{os.path.basename(path)}' is all nodata in band "
                    f"{cfg.band}" + (" over the reference area." if role == "secondary" else ".")
                )
        prior_grid = prior.grid.output_grid(grid)
        _write_memory_raster(prior_path, prior.channels, prior_grid, channel_names(pcfg))
        trained_max = float(card.normalisation.params.get("trained_max_px", np.inf))
        beyond = float((np.hypot(prior.channels[0], prior.channels[1]) > trained_max).mean())
        if beyond > 0.01:
            rep.warning(
                f"{100 * beyond:.0f}% of the ground moves more than the {trained_max:.0f} px the "
                "model was trained on; its uncertainty there is raised, and the classical "
                "offset tracker may serve better."
            )
        rep.info(
            f"NCC prior measured on a {prior_grid.width} x {prior_grid.height} grid "
            f"(windows {list(pcfg.window_sizes)} px, step {pcfg.step}, search {pcfg.search})."
        )
        tags = {
            "GEOHAZARD_ALGORITHM": "deepoffsettracking",
            "GEOHAZARD_MODEL": card.name,
            "CONVENTION": "offset of the secondary relative to the reference; east and north "
            "positive",
            "REFERENCE": os.path.basename(reference),
            "SECONDARY": os.path.basename(secondary),
        }
        run_task = replace(TASK, grid=grid)
        if extras.needed:
            workdir = tempfile.mkdtemp(prefix=".geohazard_dense.", dir=output_folder(output))
            written = os.path.join(workdir, "dense.tif")
        else:
            written = output
        summary = run_tiled(
            run_task,
            loaded,
            [
                RasterInput(reference, (cfg.band,), "reference"),
                RasterInput(secondary, (cfg.band,), "secondary"),
                RasterInput(prior_path, None, "NCC prior", announce=False),
            ],
            written,
            cfg.tiles,
            opts,
            rep.step(0.3, 0.9 if extras.needed else 1.0),
            tags,
        )
        if extras.needed:
            summary["stable"] = finish_dense_output(written, output, extras, rep.step(0.9, 1.0))
            summary["output"] = output
            if velocity_output and days:
                summary["velocity_output"] = velocity_output
                rep.info(f"Velocities over {days:.0f} days written (offsets x 365.25 / days).")
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        try:
            rasterio.shutil.delete(prior_path)
        except rasterio.errors.RasterioIOError:
            pass  # nothing was written: the prior failed or was cancelled
    summary["prior_grid"] = (prior_grid.width, prior_grid.height)
    return summary
