"""Sub-pixel accuracy of the classical tracker on a real texture with speckle.

Texture: radar brightness of the real Jacksboro fault DEM (matplotlib's sample data, always
installed; engine.simulate.offset_cases.real_texture) with 4-look speckle at 0.9 coherence
(engine.simulate.speckle_pair). Offsets come from the tracker's own correlation
(engine.offsets.tracking.correlate) with 32 and 64 px windows on a grid of 8 px.

Each fraction 0, 0.1, ..., 0.9 px is seen on both axes, in two pairs (rows in one, columns in
another); its bias is the mean signed error of both. Measured (docs/DECISIONS.md, "Sub-pixel
offsets: window deformation"): the first pass's 3-point peak fits lock onto whole pixels with a
bias of up to 0.05 px; with the default window-deformation pass the worst is 0.013 px (a
single pair and axis: 0.016 px, mostly the sampling noise of one pair). Asserted: bias
below 0.015 px at every fraction and below 0.025 px on every pair and axis, and the first pass
alone above 0.035 px, so the sweep tells the two estimators apart.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from affine import Affine
from geohazard.engine.core.progress import Reporter
from geohazard.engine.io.raster_io import Grid
from geohazard.engine.offsets.pixel_offsets import PixelOffsets
from geohazard.engine.offsets.strip_preparation import ArrayReader
from geohazard.engine.offsets.tracking import correlate
from geohazard.engine.simulate import displacement
from geohazard.engine.simulate.offset_cases import real_texture
from geohazard.engine.simulate.speckle_pair import SpeckleConfig, simulate_pair

SIZES = (32, 64)


def _track(ref: np.ndarray, sec: np.ndarray, search: int, passes: int | None) -> PixelOffsets:
    image = Grid(None, Affine.identity(), ref.shape[1], ref.shape[0])
    extra = {} if passes is None else {"passes": passes}
    return correlate(
        ArrayReader(ref),  # type: ignore[arg-type]
        ArrayReader(sec),  # type: ignore[arg-type]
        image,
        SIZES,
        8,
        search,
        torch.device("cpu"),
        128,
        Reporter(),
        **extra,
    )


def _pair(dy: np.ndarray, dx: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    refl = real_texture(dy.shape, seed)
    pair = simulate_pair(
        refl, dy, dx, SpeckleConfig(looks=4, coherence=0.9), np.random.default_rng(seed + 100)
    )
    return pair.reference, pair.secondary


def _centre_truth(pixel: PixelOffsets, f: np.ndarray) -> np.ndarray:
    """The true offset at each centre (a pixel corner): mean of the four pixels around it."""
    g = pixel.grid
    rows = g.first_row + np.arange(g.rows) * g.step
    cols = g.first_col + np.arange(g.cols) * g.step
    quad = (f[:-1, :-1] + f[1:, :-1] + f[:-1, 1:] + f[1:, 1:]) / 4
    return quad[np.ix_(rows - 1, cols - 1)]


@pytest.fixture(scope="module")
def sweep() -> dict[str, dict[int, np.ndarray]]:
    """Mean signed error (rows, columns) per fraction, and RMSE, per window size, for the first
    pass alone ("locked") and the default passes ("deformed")."""
    shape = (256, 256)
    out: dict[str, dict[int, list]] = {
        "locked": {w: [] for w in SIZES},
        "deformed": {w: [] for w in SIZES},
    }
    for k, frac in enumerate(np.arange(0.0, 1.0, 0.1)):
        fy, fx = 1.0 + frac, 1.0 + (frac + 0.5) % 1.0  # each fraction on each axis
        ref, sec = _pair(*displacement.uniform_field(shape, fy, fx), seed=k)
        for name, passes in (("locked", 0), ("deformed", None)):
            pixel = _track(ref, sec, 4, passes)
            for w in SIZES:
                ey, ex = pixel.dy[w] - fy, pixel.dx[w] - fx
                ok = np.isfinite(ey) & np.isfinite(ex)
                assert ok.mean() > 0.5
                out[name][w].append(
                    (ey[ok].mean(), ex[ok].mean(), float(np.mean(ey[ok] ** 2 + ex[ok] ** 2) / 2))
                )
    return {name: {w: np.array(v) for w, v in per.items()} for name, per in out.items()}


@pytest.mark.parametrize("size", SIZES)
def test_no_pixel_locking_in_a_sweep_of_fractional_shifts(sweep, size: int) -> None:
    locked, deformed = sweep["locked"][size], sweep["deformed"][size]

    def bias(res: np.ndarray) -> np.ndarray:
        """Per fraction k/10: rows of pair k and columns of pair k + 5 (see the fixture)."""
        return (res[:, 0] + np.roll(res[:, 1], -5)) / 2

    worst_locked = float(np.abs(bias(locked)).max())
    worst = float(np.abs(bias(deformed)).max())
    worst_single = float(np.abs(deformed[:, :2]).max())
    rmse = float(np.sqrt(deformed[:, 2].mean()))
    rmse_locked = float(np.sqrt(locked[:, 2].mean()))
    print(
        f"{size} px: worst bias per fraction {worst_locked:.3f} -> {worst:.3f} px "
        f"(single pair and axis {worst_single:.3f}), RMSE {rmse_locked:.3f} -> {rmse:.3f} px"
    )
    assert worst_locked > 0.035, "the first pass alone should show pixel locking"
    assert worst < 0.015, f"bias up to {worst:.3f} px at one fraction"
    assert worst_single < 0.025, f"mean signed error up to {worst_single:.3f} px in one pair"
    assert rmse < {32: 0.045, 64: 0.03}[size] and rmse < 0.85 * rmse_locked


def test_smooth_three_pixel_field_with_32_and_64_px_windows() -> None:
    """A smooth field of up to 3 px (wavelengths 240-600 px) on the real texture: RMSE at the
    window centres within the issue's 0.12 px with both window sizes at a step of 8, asserted
    tighter (0.075 px with 32 px windows, 0.10 px with 64 px) so that the first pass alone
    (0.094 and 0.144 px) fails; measured with the default pass: 0.054 and 0.071 px."""
    shape = (384, 384)
    dy, dx = displacement.smooth_random_field(shape, 3.0, 300.0, seed=1)
    ref, sec = _pair(dy, dx, seed=1)
    pixel = _track(ref, sec, 6, None)
    ty, tx = _centre_truth(pixel, dy), _centre_truth(pixel, dx)
    for w in SIZES:
        ok = np.isfinite(pixel.dy[w])
        err2 = ((pixel.dy[w] - ty) ** 2 + (pixel.dx[w] - tx) ** 2)[ok] / 2
        rmse = float(np.sqrt(err2.mean()))
        print(f"{w} px windows: RMSE {rmse:.3f} px over {ok.sum()} centres")
        assert ok.sum() > 1000
        assert rmse <= {32: 0.075, 64: 0.10}[w], f"{w} px windows: RMSE {rmse:.3f} px"
