"""Random displacement pairs: a texture from a source, a field of a kind, speckle of few looks.

Every pair is reproducible from one integer seed, so training data can be drawn in parallel
workers and a held-out set is a fixed list of seeds. Magnitudes come in two regimes, drawn
log-uniformly: ``subpixel`` (peak motion 0.05-1 px, where the paper says deep models struggle)
and ``multipixel`` (1 px up to ``max_px``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .displacement_kinds import KINDS, random_field
from .speckle_pair import DisplacementPair, SpeckleConfig, simulate_pair
from .textures import TextureSource

REGIMES = ("subpixel", "multipixel")


@dataclass(frozen=True)
class SamplerConfig:
    """Distribution of the drawn pairs.

    Args:
        size: side of the square pairs, pixels.
        kinds: displacement kinds drawn (uniformly).
        subpixel_share: probability of the sub-pixel regime.
        subpixel_range: (min, max) peak motion of the sub-pixel regime, pixels.
        max_px: largest peak motion of the multi-pixel regime, pixels.
        looks: (min, max) number of looks, drawn uniformly (integers).
        coherence: (min, max) speckle coherence between the dates.
        psf_sigma: (min, max) impulse response, pixels.
        change: (min, max) standard deviation of the log brightness change between dates.
        background_px: largest uniform offset added to every field (a co-registration residual),
            pixels; 0 for none.
        sharp_share: share of glacier, fault and landslide fields drawn with sharp
            discontinuities (displacement_kinds.random_field).
    """

    size: int = 320
    kinds: tuple[str, ...] = KINDS
    subpixel_share: float = 0.35
    subpixel_range: tuple[float, float] = (0.05, 1.0)
    max_px: float = 12.0
    looks: tuple[int, int] = (1, 5)
    coherence: tuple[float, float] = (0.5, 0.98)
    psf_sigma: tuple[float, float] = (0.6, 1.2)
    change: tuple[float, float] = (0.0, 0.3)
    background_px: float = 0.3
    sharp_share: float = 0.0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; use {KINDS}")
        if self.size < 32:
            raise ValueError("size must be at least 32 px")
        if self.max_px <= self.subpixel_range[1]:
            raise ValueError("max_px must exceed the sub-pixel range")


def draw_pair(
    sources: list[TextureSource],
    seed: int,
    config: SamplerConfig | None = None,
    kind: str | None = None,
    regime: str | None = None,
) -> DisplacementPair:
    """One pair, reproducible from ``seed``.

    Args:
        sources: texture sources to draw from (uniformly); e.g. ``splits.sources_for("train")``.
        seed: the pair's seed.
        config: the distribution.
        kind: force a displacement kind (default: drawn from ``config.kinds``).
        regime: force ``subpixel`` or ``multipixel`` (default: drawn).
    """
    cfg = config or SamplerConfig()
    if not sources:
        raise ValueError("no texture sources to draw from")
    rng = np.random.default_rng(seed)
    source = sources[int(rng.integers(len(sources)))]
    texture = source.draw(rng, cfg.size)
    kind = kind or str(rng.choice(cfg.kinds))
    regime = regime or ("subpixel" if rng.uniform() < cfg.subpixel_share else "multipixel")
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; use {REGIMES}")
    lo, hi = cfg.subpixel_range if regime == "subpixel" else (cfg.subpixel_range[1], cfg.max_px)
    peak = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    fld = random_field(kind, (cfg.size, cfg.size), peak, rng, texture.slope, cfg.sharp_share)
    dy, dx = fld.dy, fld.dx
    shift = (0.0, 0.0)
    if cfg.background_px > 0 and kind != "none":
        sy, sx = rng.uniform(-1, 1, 2) * cfg.background_px * min(1, peak)
        shift = (float(sy), float(sx))
        dy, dx = dy + shift[0], dx + shift[1]
    speckle = SpeckleConfig(
        looks=int(rng.integers(cfg.looks[0], cfg.looks[1] + 1)),
        coherence=float(rng.uniform(*cfg.coherence)),
        psf_sigma=float(rng.uniform(*cfg.psf_sigma)),
        change=float(rng.uniform(*cfg.change)),
    )
    pair = simulate_pair(texture.reflectivity, dy, dx, speckle, rng)
    pair.kind, pair.source = kind, source.name
    pair.params.update({f"field_{k}": v for k, v in fld.params.items()})
    pair.params.update({f"texture_{k}": v for k, v in texture.params.items()})
    pair.params.update(
        {"regime": regime, "peak_px": peak, "seed": float(seed), "region": source.region}
    )
    pair.params.update({"background_dy": shift[0], "background_dx": shift[1]})
    return pair


def held_out_seeds(seed: int, kinds: tuple[str, ...], per_cell: int) -> list[tuple[int, str, str]]:
    """A fixed design of (seed, kind, regime): ``per_cell`` pairs per kind and regime
    (``none`` once per cell count, it has no magnitude)."""
    design = []
    k = 0
    for kind in kinds:
        for regime in REGIMES if kind != "none" else ("multipixel",):
            for _ in range(per_cell):
                design.append((seed * 100_003 + k, kind, regime))
                k += 1
    return design
