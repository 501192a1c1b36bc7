"""Training scenes for the deep offset tracker: simulated pairs with their NCC prior, and batches.

A scene is a simulated pair (simulate/pair_sampler.py) of ``size`` px with the classical NCC
prior measured on the whole pair exactly as at inference (offsets/dense_prior.py), cropped to the
part where the prior's windows were centred (``size - 2 * margin`` px), so the network never
learns from extrapolated prior edges that a large image hardly has. Scenes are reproducible from
their seed and cached as ``.npz`` files, so a resumed or repeated run does not recompute them.
Batches are random crops of random scenes under a random flip/rotation (augment.py), drawn from
a generator whose state is saved with the checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...offsets.dense_prior import PriorConfig, dense_prior, vector_channel_pairs
from ...offsets.network_inputs import normalise_amplitude
from ...simulate.pair_sampler import SamplerConfig, draw_pair
from ...simulate.textures import TextureSource
from .augment import dihedral


@dataclass
class Scene:
    """One training or test scene (all arrays cropped to the prior's interior).

    Attributes:
        reference: amplitude, float32 (H, W), NaN for nodata.
        secondary: amplitude, float32 (H, W).
        prior: (C, H, W) float32 prior channels (dense_prior.channel_names order).
        truth: (2, H, W) float32 true dx, dy in pixels.
        valid: (H, W) bool.
        meta: kind, regime, source, region, seed.
    """

    reference: np.ndarray
    secondary: np.ndarray
    prior: np.ndarray
    truth: np.ndarray
    valid: np.ndarray
    meta: dict[str, str | float] = field(default_factory=dict)


def make_scene(
    sources: Sequence[TextureSource],
    seed: int,
    sampler: SamplerConfig,
    prior_cfg: PriorConfig,
    kind: str | None = None,
    regime: str | None = None,
) -> Scene:
    """Simulate a pair, measure its prior on the whole pair, crop to the prior's interior."""
    pair = draw_pair(list(sources), seed, sampler, kind, regime)
    prior = dense_prior(pair.reference, pair.secondary, prior_cfg)
    m = prior_cfg.margin
    inner = (slice(m, sampler.size - m), slice(m, sampler.size - m))
    meta: dict[str, str | float] = {
        "kind": pair.kind,
        "regime": str(pair.params.get("regime", "")),
        "source": pair.source,
        "region": str(pair.params.get("region", "")),
        "seed": float(seed),
    }
    return Scene(
        pair.reference[inner].copy(),
        pair.secondary[inner].copy(),
        prior[:, inner[0], inner[1]].copy(),
        np.stack([pair.dx[inner], pair.dy[inner]]).astype(np.float32),
        pair.valid[inner].copy(),
        meta,
    )


def save_scene(path: str, scene: Scene) -> None:
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(
        tmp,
        reference=scene.reference,
        secondary=scene.secondary,
        prior=scene.prior.astype(np.float16),
        truth=scene.truth,
        valid=scene.valid,
        meta=np.array(repr(scene.meta)),
    )
    os.replace(tmp, path)


def load_scene(path: str) -> Scene:
    import ast

    with np.load(path) as z:
        return Scene(
            z["reference"],
            z["secondary"],
            z["prior"].astype(np.float32),
            z["truth"],
            z["valid"],
            ast.literal_eval(str(z["meta"])),
        )


_WORKER: dict[str, object] = {}


def _init_worker(
    sources: list[TextureSource], sampler: SamplerConfig, prior_cfg: PriorConfig
) -> None:
    """Each worker process keeps its own sources (loaded once, then reused by every scene)."""
    import torch

    torch.set_num_threads(1)
    _WORKER.update(sources=sources, sampler=sampler, prior=prior_cfg)


def _scene_job(job: tuple[int, str | None, str | None, str]) -> str:
    seed, kind, regime, path = job
    if not os.path.exists(path):
        scene = make_scene(
            _WORKER["sources"],  # type: ignore[arg-type]
            seed,
            _WORKER["sampler"],  # type: ignore[arg-type]
            _WORKER["prior"],  # type: ignore[arg-type]
            kind,
            regime,
        )
        save_scene(path, scene)
    return path


def build_scenes(
    sources: Sequence[TextureSource],
    design: Sequence[tuple[int, str | None, str | None]],
    sampler: SamplerConfig,
    prior_cfg: PriorConfig,
    cache_dir: str,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
) -> list[Scene]:
    """Scenes for a design of (seed, kind or None, regime or None), cached in ``cache_dir``.

    Args:
        sources: texture sources of one split.
        design: one entry per scene.
        sampler: pair distribution.
        prior_cfg: how the prior is measured.
        cache_dir: folder of the ``.npz`` cache (created).
        workers: processes simulating in parallel.
        log: optional callable for progress lines.
    """
    os.makedirs(cache_dir, exist_ok=True)
    jobs = [
        (seed, kind, regime, _cache_name(cache_dir, seed, kind, regime))
        for seed, kind, regime in design
    ]
    to_simulate = [j for j in jobs if not os.path.exists(j[-1])]
    if to_simulate and log is not None:
        log(f"simulating {len(to_simulate)} scenes with {workers} worker(s) into {cache_dir}")
    init = (list(sources), sampler, prior_cfg)
    if to_simulate and workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers, _init_worker, init) as pool:
            for i, _ in enumerate(pool.imap_unordered(_scene_job, to_simulate, chunksize=2)):
                if log is not None and (i + 1) % 200 == 0:
                    log(f"  {i + 1}/{len(to_simulate)} scenes")
    elif to_simulate:
        import torch

        threads = torch.get_num_threads()
        _init_worker(*init)
        try:
            for job in to_simulate:
                _scene_job(job)
        finally:
            torch.set_num_threads(threads)
    return [load_scene(j[-1]) for j in jobs]


def _cache_name(folder: str, seed: int, kind: str | None, regime: str | None) -> str:
    return os.path.join(folder, f"scene_{seed}_{kind or 'any'}_{regime or 'any'}.npz")


class BatchSampler:
    """Random augmented crops of scenes as network-ready arrays.

    Args:
        scenes: the training scenes.
        prior_cfg: to know which prior channels are offset vectors.
        patch: crop side, pixels (at most the scenes' side).
        seed: seed of the generator (its state is :attr:`rng`).
    """

    def __init__(
        self, scenes: Sequence[Scene], prior_cfg: PriorConfig, patch: int, seed: int
    ) -> None:
        if not scenes:
            raise ValueError("no training scenes")
        side = min(min(s.reference.shape) for s in scenes)
        if patch > side:
            raise ValueError(f"patch {patch} px is larger than the scenes ({side} px)")
        self.scenes, self.patch = list(scenes), patch
        self.pairs = vector_channel_pairs(prior_cfg)
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> dict[str, np.ndarray]:
        """``reference``, ``secondary`` (N,1,P,P), ``prior`` (N,C,P,P), ``truth`` (N,2,P,P),
        ``valid`` (N,1,P,P) float32."""
        out: dict[str, list[np.ndarray]] = {
            k: [] for k in ("ref", "sec", "prior", "truth", "valid")
        }
        p = self.patch
        for _ in range(size):
            s = self.scenes[int(self.rng.integers(len(self.scenes)))]
            h, w = s.reference.shape
            r, c = int(self.rng.integers(h - p + 1)), int(self.rng.integers(w - p + 1))
            k = int(self.rng.integers(8))
            win = (slice(r, r + p), slice(c, c + p))
            out["ref"].append(dihedral(normalise_amplitude(s.reference[win]), k)[None])
            out["sec"].append(dihedral(normalise_amplitude(s.secondary[win]), k)[None])
            out["prior"].append(dihedral(s.prior[:, win[0], win[1]], k, self.pairs))
            out["truth"].append(dihedral(s.truth[:, win[0], win[1]], k, [(0, 1)]))
            ok = s.valid[win] & np.isfinite(s.reference[win]) & np.isfinite(s.secondary[win])
            out["valid"].append(dihedral(ok.astype(np.float32), k)[None])
        return {
            "reference": np.stack(out["ref"]),
            "secondary": np.stack(out["sec"]),
            "prior": np.stack(out["prior"]).astype(np.float32),
            "truth": np.stack(out["truth"]).astype(np.float32),
            "valid": np.stack(out["valid"]),
        }
