"""Displacement-pair simulator of the deep offset tracker: warping, speckle, fields, sources, split,
augmentation and the dense NCC prior. Small seeded cases on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from geohazard.engine.families.deep_offsets.augment import dihedral, inverse
from geohazard.engine.offsets.dense_prior import (
    PriorConfig,
    channel_names,
    dense_prior,
    vector_channel_pairs,
)
from geohazard.engine.offsets.ncc import ncc_offsets
from geohazard.engine.simulate import displacement_kinds as kinds
from geohazard.engine.simulate import pair_sampler, real_sources, splits, warp
from geohazard.engine.simulate.speckle_pair import SpeckleConfig, _complex_speckle, simulate_pair
from geohazard.engine.simulate.textures import DemSource, OpticalSource, SarSource
from rasterio.crs import CRS


def band_limited(shape: tuple[int, int], cutoff: float, seed: int) -> np.ndarray:
    """A periodic random image whose spectrum is zero beyond ``cutoff`` cycles per pixel."""
    rng = np.random.default_rng(seed)
    spec = np.fft.fft2(rng.standard_normal(shape))
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    spec[np.hypot(fy, fx) > cutoff] = 0
    return np.fft.ifft2(spec).real


def fourier_shift(image: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The periodic image moved by (dy, dx): out(q) = image(q - d), exactly."""
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    ramp = np.exp(-2j * np.pi * (fy * dy + fx * dx))
    out = np.fft.ifft2(np.fft.fft2(image) * ramp)
    return out if np.iscomplexobj(image) else out.real


INNER = (slice(16, -16), slice(16, -16))


# --- warping -------------------------------------------------------------------------------------


def test_warp_whole_pixel_shift_returns_the_pixels_unchanged() -> None:
    img = band_limited((96, 96), 0.45, 1)
    dy, dx = np.full(img.shape, 2.0), np.full(img.shape, -3.0)
    moved = warp.warp(img, dy, dx)
    # the feature at p is found at p + d: moved[r, c] = img[r - 2, c + 3]
    np.testing.assert_allclose(moved[10:90, 10:90], img[8:88, 13:93], atol=1e-9)


@pytest.mark.parametrize("shift", [(0.37, -0.61), (1.5, 0.25), (-2.75, 3.1)])
def test_warp_subpixel_shift_of_band_limited_texture_matches_the_exact_shift(shift) -> None:
    img = band_limited((128, 128), 0.25, 2)
    moved = warp.warp(img, np.full(img.shape, shift[0]), np.full(img.shape, shift[1]))
    err = (moved - fourier_shift(img, *shift))[INNER] / img.std()
    assert np.sqrt(np.mean(err**2)) < 1e-3 and np.abs(err).max() < 5e-3


def gaussian_sum(w: np.ndarray, rows: np.ndarray, cols: np.ndarray, sigma: float) -> np.ndarray:
    """The continuous speckle field sum_k w_k h(p - k) at positions p (periodic w)."""
    out = np.zeros(rows.shape, complex)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    for i in range(-6, 8):
        hr = np.exp(-0.5 * ((rows - r0 - i) / sigma) ** 2)
        for j in range(-6, 8):
            hc = np.exp(-0.5 * ((cols - c0 - j) / sigma) ** 2)
            out += w[(r0 + i) % w.shape[0], (c0 + j) % w.shape[1]] * hr * hc
    return out


def test_warp_of_complex_speckle_matches_the_continuous_field() -> None:
    """Speckle is a Gaussian-blurred complex white noise; moved by a fraction of a pixel, the
    warped samples match the blur evaluated exactly at the moved positions within 0.5%."""
    sigma, shape, d = 0.8, (64, 64), (0.43, -1.29)
    rng = np.random.default_rng(3)
    g = _complex_speckle(shape, sigma, rng)
    w = np.random.default_rng(3).standard_normal((2, *shape))
    w = w[0] + 1j * w[1]
    rows, cols = warp.pixel_grid(shape)
    scale = np.abs(gaussian_sum(w, rows, cols, sigma)).mean() / np.abs(g).mean()
    np.testing.assert_allclose(gaussian_sum(w, rows, cols, sigma) / scale, g, atol=1e-3)
    moved = warp.warp(g, np.full(shape, d[0]), np.full(shape, d[1]))
    exact = gaussian_sum(w, rows - d[0], cols - d[1], sigma) / scale
    rel = np.sqrt(np.mean(np.abs(moved - exact)[INNER] ** 2) / np.mean(np.abs(exact) ** 2))
    assert rel < 5e-3, f"relative RMS error {rel:.2e}"


def test_inverse_map_round_trips_a_smooth_field() -> None:
    fld = kinds.random_field("volcano", (128, 128), 6.0, np.random.default_rng(4))
    pr, pc = warp.inverse_map(fld.dy, fld.dx)
    # q = p + d(p) at the inverse positions gives back the pixel grid
    back_r = pr + warp.sample(fld.dy, pr, pc, order=1)
    back_c = pc + warp.sample(fld.dx, pr, pc, order=1)
    rows, cols = warp.pixel_grid(fld.dy.shape)
    assert np.abs(back_r - rows)[INNER].max() < 1e-3
    assert np.abs(back_c - cols)[INNER].max() < 1e-3


def test_validity_excludes_features_that_leave_the_frame() -> None:
    dy, dx = np.zeros((64, 64)), np.full((64, 64), 5.0)
    ok = warp.consistent(dy, dx, warp.inverse_map(dy, dx))
    assert ok[1:-1, :58].all() and not ok[:, 58:].any()  # and 1 px off the top and bottom


# --- the pair ------------------------------------------------------------------------------------


def flat(shape: tuple[int, int] = (128, 128)) -> np.ndarray:
    return np.ones(shape, np.float32)


def test_coherent_single_look_pair_is_the_reference_moved() -> None:
    refl = np.exp(band_limited((128, 128), 0.2, 5)).astype(np.float32)
    dy, dx = np.full(refl.shape, -1.0), np.full(refl.shape, 3.0)
    pair = simulate_pair(
        refl, dy, dx, SpeckleConfig(looks=1, coherence=1.0), np.random.default_rng(6)
    )
    np.testing.assert_allclose(
        pair.secondary[20:100, 20:100], pair.reference[21:101, 17:97], rtol=1e-4
    )
    ref, sec, true_dx, true_dy, valid = pair.as_tuple()
    assert ref.dtype == sec.dtype == np.float32 and ref.shape == sec.shape == valid.shape
    assert np.all(true_dx == 3.0) and np.all(true_dy == -1.0)


@pytest.mark.parametrize("shift", [(0.3, -0.45), (2.6, 1.15)])
def test_subpixel_shift_is_measured_by_ncc(shift) -> None:
    refl = np.exp(0.5 * band_limited((160, 160), 0.1, 7)).astype(np.float32)
    dy, dx = np.full(refl.shape, shift[0]), np.full(refl.shape, shift[1])
    pair = simulate_pair(
        refl, dy, dx, SpeckleConfig(looks=4, coherence=0.95), np.random.default_rng(8)
    )
    t = torch.from_numpy(pair.reference[48:112, 48:112].copy())[None]
    s = torch.from_numpy(pair.secondary[40:120, 40:120].copy())[None]
    res = ncc_offsets(t, s)
    assert abs(float(res.dy) - shift[0]) < 0.03 and abs(float(res.dx) - shift[1]) < 0.03


@pytest.mark.parametrize("gamma", [0.5, 0.9])
def test_coherence_sets_the_intensity_correlation_between_dates(gamma: float) -> None:
    z = np.zeros((192, 192))
    pair = simulate_pair(
        flat((192, 192)), z, z, SpeckleConfig(looks=1, coherence=gamma), np.random.default_rng(9)
    )
    corr = np.corrcoef(pair.reference.ravel() ** 2, pair.secondary.ravel() ** 2)[0, 1]
    assert abs(corr - gamma**2) < 0.05, f"intensity correlation {corr:.3f}, expected {gamma**2}"


@pytest.mark.parametrize("looks", [1, 4])
def test_looks_set_the_equivalent_number_of_looks(looks: int) -> None:
    z = np.zeros((192, 192))
    pair = simulate_pair(
        flat((192, 192)), z, z, SpeckleConfig(looks=looks), np.random.default_rng(10)
    )
    inten = pair.reference.astype(np.float64) ** 2
    enl = inten.mean() ** 2 / inten.var()
    assert abs(enl - looks) < 0.2 * looks, f"ENL {enl:.2f} for {looks} looks"


def test_nodata_stays_nodata_and_invalid() -> None:
    refl = flat()
    refl[40:60, 40:60] = np.nan
    dy, dx = np.zeros(refl.shape), np.full(refl.shape, 2.0)
    pair = simulate_pair(refl, dy, dx, rng=np.random.default_rng(11))
    assert np.isnan(pair.reference[40:60, 40:60]).all()
    assert np.isnan(pair.secondary[45:55, 43:61]).all()  # the hole moved 2 px right
    # valid where the reference has data at p and the secondary at p + d
    assert not pair.valid[40:60, 40:60].any()
    assert pair.valid[40:60, 30:38].all() and pair.valid[40:60, 62:70].all()


def test_speckle_config_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="coherence"):
        SpeckleConfig(coherence=1.5)
    with pytest.raises(ValueError, match="looks"):
        SpeckleConfig(looks=0)


# --- displacement fields -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", kinds.KINDS)
@pytest.mark.parametrize("max_px", [0.4, 6.0])
def test_every_kind_has_its_shape_and_peak(kind: str, max_px: float) -> None:
    fld = kinds.random_field(kind, (160, 128), max_px, np.random.default_rng(12))
    assert fld.dy.shape == fld.dx.shape == (160, 128)
    assert fld.dy.dtype == np.float32
    peak = float(fld.magnitude.max())
    if kind == "none":
        assert peak == 0.0
    elif kind == "volcano":  # the ring of peak motion may fall partly outside the frame
        assert 0.5 * max_px <= peak <= max_px * 1.0001
    else:
        assert abs(peak - max_px) < 1e-3 * max_px
    if kind != "fault":  # a fault's trace is a discontinuity; everything else never folds
        assert kinds.min_area_ratio(fld.dy, fld.dx) > 1 - kinds.MAX_COMPRESSION - 0.05


def test_glacier_flows_along_its_channel_with_a_plug_profile() -> None:
    dy, dx = kinds.glacier_field((128, 128), (64, 64), 90.0, 20.0, 5.0, 3.0)
    # flowing east: motion is along +x only, fastest on the centreline, still outside the channel
    assert np.abs(dy).max() < 1e-6
    assert dx[64, 64] == pytest.approx(5.0, abs=1e-4)
    assert dx[64 - 10, 64] == pytest.approx(5.0 * (1 - 0.5**3), abs=0.05)
    assert np.all(dx[:40] == 0) and np.all(dx[90:] == 0)


def test_fault_is_a_step_across_the_trace_decaying_away() -> None:
    dy, dx = kinds.fault_field((128, 128), (64, 64), 0.0, 4.0, 10.0, 500.0)
    # north-striking right-lateral fault: the east side moves south (+dy), the west side north
    assert dy[64, 65] - dy[64, 62] == pytest.approx(
        4.0 * (np.arctan(10) / np.pi) * 2 - 0.0, abs=0.3
    )
    assert dy[64, 64] > 1.5 and dy[64, 63] < -1.5
    assert abs(dy[64, 127]) < 0.5 * abs(dy[64, 70]) and np.abs(dx).max() < 1e-6


def test_mogi_inflation_is_radial_and_peaks_at_depth_over_root_two() -> None:
    d = 30.0
    dy, dx = kinds.mogi_field((129, 129), (64, 64), d, 2.0)
    mag = np.hypot(dy, dx)
    r = np.hypot(*np.mgrid[-64:65, -64:65])
    ring = np.abs(r - d / np.sqrt(2)) < 0.5
    assert mag[ring].max() == pytest.approx(2.0, abs=0.01)
    assert dx[64, 100] > 0 and dy[100, 64] > 0 and mag[64, 64] == 0  # outward


def test_landslides_move_downslope() -> None:
    rows, cols = np.mgrid[0:160, 0:160].astype(float)
    z = 2.0 * cols  # ground rising eastwards: downslope is west
    gy, gx = np.gradient(z)
    fld = kinds.random_field("landslide", (160, 160), 3.0, np.random.default_rng(13), (gy, gx))
    moving = fld.magnitude > 0.1
    assert moving.any()
    assert np.all(fld.dx[moving] < 0) and np.abs(fld.dy[moving]).max() < 1e-4


# --- sampler, sources and split ------------------------------------------------------------------


def test_pairs_are_reproducible_and_regimes_hold() -> None:
    sources = splits.sources_for("test", None)
    cfg = pair_sampler.SamplerConfig(size=96, max_px=6.0)
    a = pair_sampler.draw_pair(sources, 21, cfg, kind="glacier", regime="subpixel")
    b = pair_sampler.draw_pair(sources, 21, cfg, kind="glacier", regime="subpixel")
    np.testing.assert_array_equal(a.secondary, b.secondary)
    assert a.kind == "glacier" and a.params["regime"] == "subpixel"
    assert np.hypot(a.dx, a.dy).max() <= 1.0 * 1.31  # sub-pixel peak plus background shift
    c = pair_sampler.draw_pair(sources, 22, cfg, kind="fault", regime="multipixel")
    assert 1.0 <= np.hypot(c.dx, c.dy).max() <= 6.0 * 1.31
    assert not np.array_equal(a.reference, c.reference)


def test_default_split_keeps_regions_apart_and_holds_out_the_demo_region() -> None:
    groups = [splits.sources_for(s, None) for s in ("train", "validation", "test")]
    splits.check_disjoint(*groups)
    assert "tennessee" in {s.region for s in groups[2]}
    assert "tennessee" not in {s.region for s in groups[0] + groups[1]}
    listed = [r for regions in splits.SPLITS.values() for r in regions]
    assert len(listed) == len(set(listed))
    with pytest.raises(ValueError, match="two groups"):
        splits.check_disjoint(groups[0], groups[0][:1])
    with pytest.raises(FileNotFoundError, match="fetch_real_data"):
        splits.sources_for("train", None, require_all=True)


def test_simulated_streams_never_share_a_seed() -> None:
    train, test = splits.sources_for("train", None)[-1], splits.sources_for("test", None)[-1]
    a = train.draw(np.random.default_rng(5), 64)
    b = test.draw(np.random.default_rng(5), 64)
    assert a.params["seed"] % 3 == 0 and b.params["seed"] % 3 == 2
    assert not np.allclose(a.reflectivity, b.reflectivity)


def _write(path: Path, data: np.ndarray, crs: str, transform: Affine) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[-1],
        height=data.shape[-2],
        count=1,
        dtype=data.dtype,
        crs=CRS.from_string(crs),
        transform=transform,
    ) as dst:
        dst.write(data, 1)


def test_sources_read_fetched_rasters_of_every_kind(tmp_path: Path) -> None:
    rng = np.random.default_rng(14)
    optical = (1000 + 500 * rng.random((200, 220))).astype(np.uint16)
    _write(
        Path(real_sources.local_path(str(tmp_path), "l8_b04")),
        optical,
        "EPSG:32616",
        Affine(30, 0, 500000, 0, -30, 4000000),
    )
    dem = (500 + 100 * band_limited((200, 200), 0.05, 15)).astype(np.float32)
    _write(
        Path(real_sources.local_path(str(tmp_path), "copernicus_grenoble")),
        dem,
        "EPSG:4326",
        Affine(0.0009, 0, 5.0, 0, -0.0009, 46.0),
    )
    slc = (rng.standard_normal((120, 120)) + 1j * rng.standard_normal((120, 120))).astype(
        np.complex64
    )
    _write(
        Path(real_sources.local_path(str(tmp_path), "rotterdam_vv")),
        slc,
        "EPSG:32631",
        Affine(2.5, 0, 590000, 0, -2.5, 5750000),
    )
    built = {s.name: s for s in splits.all_sources(str(tmp_path))}
    assert isinstance(built["l8-utm16n"], OpticalSource)
    assert isinstance(built["copernicus_grenoble"], DemSource)
    assert isinstance(built["rotterdam"], SarSource)
    for name in ("l8-utm16n", "copernicus_grenoble", "rotterdam"):
        tex = built[name].draw(np.random.default_rng(1), 96)
        assert tex.reflectivity.shape == (96, 96)
        assert np.isfinite(tex.reflectivity).mean() > 0.9 and np.nanmin(tex.reflectivity) >= 0
    assert built["copernicus_grenoble"].draw(np.random.default_rng(2), 64).slope is not None
    regions = {s.region for s in splits.sources_for("test", str(tmp_path))}
    assert {"l8-utm16n", "rotterdam"} <= regions


# --- augmentation --------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(8))
def test_augmentation_commutes_with_the_warp(k: int) -> None:
    """Transforming a pair and its field gives the pair the transformed field would make."""
    img = band_limited((96, 96), 0.3, 16)
    fld = kinds.random_field("landslide", (96, 96), 3.0, np.random.default_rng(17))
    moved = warp.warp(img, fld.dy, fld.dx)
    vec = np.stack([fld.dx, fld.dy])
    t_vec = dihedral(vec, k, [(0, 1)])
    direct = warp.warp(dihedral(img, k), t_vec[1], t_vec[0])
    np.testing.assert_allclose(dihedral(moved, k), direct, atol=1e-6)
    np.testing.assert_array_equal(dihedral(t_vec, inverse(k), [(0, 1)]), vec)


@pytest.mark.parametrize("k", [1, 2, 4, 5, 7])
def test_augmented_truth_is_what_ncc_measures_on_the_augmented_pair(k: int) -> None:
    refl = np.exp(0.5 * band_limited((128, 128), 0.1, 18)).astype(np.float32)
    dy, dx = np.full(refl.shape, 1.3), np.full(refl.shape, -0.6)
    pair = simulate_pair(
        refl, dy, dx, SpeckleConfig(looks=4, coherence=0.95), np.random.default_rng(19)
    )
    ref, sec = dihedral(pair.reference, k), dihedral(pair.secondary, k)
    truth = dihedral(np.stack([pair.dx, pair.dy]), k, [(0, 1)])[:, 64, 64]
    res = ncc_offsets(
        torch.from_numpy(ref[32:96, 32:96].copy())[None],
        torch.from_numpy(sec[24:104, 24:104].copy())[None],
    )
    assert float(res.dx) == pytest.approx(truth[0], abs=0.05)
    assert float(res.dy) == pytest.approx(truth[1], abs=0.05)


def test_augmentation_works_on_torch_batches() -> None:
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    y = dihedral(x, 6, [(0, 1)])
    assert torch.equal(y[:, 2], torch.flip(x[:, 2].transpose(-1, -2), dims=(-1,)))
    assert torch.equal(y[:, 0], -torch.flip(x[:, 1].transpose(-1, -2), dims=(-1,)))
    assert torch.equal(dihedral(y, inverse(6), [(0, 1)]), x)


# --- the dense NCC prior -------------------------------------------------------------------------


def test_dense_prior_recovers_a_uniform_shift_at_every_pixel() -> None:
    refl = np.exp(0.5 * band_limited((160, 160), 0.1, 20)).astype(np.float32)
    dy, dx = np.full(refl.shape, -2.4), np.full(refl.shape, 0.7)
    pair = simulate_pair(
        refl, dy, dx, SpeckleConfig(looks=4, coherence=0.95), np.random.default_rng(21)
    )
    cfg = PriorConfig(window_sizes=(32, 64), step=8, search=8)
    prior = dense_prior(pair.reference, pair.secondary, cfg)
    names = channel_names(cfg)
    assert prior.shape == (len(names), 160, 160) and np.isfinite(prior).all()
    for ix, iy in vector_channel_pairs(cfg):
        assert np.abs(prior[ix] - 0.7).max() < 0.15, names[ix]
        assert np.abs(prior[iy] + 2.4).max() < 0.15, names[iy]
    assert prior[names.index("quality 32 px window")].min() > 0.3
