"""Sharp-edged displacement fields for the deep tracker's training, and the error measured near
discontinuities: faults that rupture the surface, landslide blocks with sharp flanks, plug-flow
glaciers; the edge distance that splits the held-out errors into near and away."""

from __future__ import annotations

import numpy as np
import pytest
from geohazard.engine.families.deep_offsets.evaluate import (
    FAR_FROM_EDGE_PX,
    NEAR_EDGE_PX,
    edge_distance,
    where_it_loses,
)
from geohazard.engine.simulate import displacement_kinds as kinds
from geohazard.engine.simulate import warp
from geohazard.engine.simulate.pair_sampler import SamplerConfig, draw_pair
from geohazard.engine.simulate.textures import SimulatedSource


def _largest_gradient(fld: kinds.Field) -> float:
    return max(float(np.hypot(*np.gradient(c)).max()) for c in (fld.dy, fld.dx))


@pytest.mark.parametrize("kind", ["glacier", "fault", "landslide"])
def test_sharp_fields_have_discontinuities_that_smooth_ones_lack(kind: str) -> None:
    sharp = kinds.random_field(kind, (192, 192), 6.0, np.random.default_rng(3), None, 1.0)
    assert sharp.params.get("sharp") == 1.0
    assert float(sharp.magnitude.max()) == pytest.approx(6.0, rel=1e-2)
    # a change of more than 1 px between neighbouring pixels: a window cannot follow it
    assert _largest_gradient(sharp) > 1.0
    assert np.isfinite(edge_distance(np.stack([sharp.dx, sharp.dy]))).all()


def test_no_sharp_share_draws_exactly_the_smooth_fields() -> None:
    for kind in kinds.KINDS:
        a = kinds.random_field(kind, (96, 96), 3.0, np.random.default_rng(7))
        b = kinds.random_field(kind, (96, 96), 3.0, np.random.default_rng(7), None, 0.0)
        assert np.array_equal(a.dx, b.dx) and np.array_equal(a.dy, b.dy)
        assert "sharp" not in b.params


def test_sharp_body_moves_as_a_block_with_a_tapered_toe() -> None:
    # moving east: flanks (north and south) fall within 2 px, the toe (east) over the length that
    # keeps compression under MAX_COMPRESSION
    dy, dx = kinds.sharp_body_field((160, 160), (80.0, 80.0), (50.0, 30.0), 90.0, 4.0, 1.0)
    assert np.abs(dy).max() < 1e-5
    assert dx[80, 80] == pytest.approx(4.0)
    flank = dx[80 - 32 : 80 - 26, 80]  # across the northern flank
    assert flank.max() - flank.min() == pytest.approx(4.0, abs=0.05)
    along = np.gradient(dx[70:91].astype(np.float64), axis=1)  # d(dx)/d(col) along the motion
    assert along[:, 80:].min() > -kinds.MAX_COMPRESSION - 0.05  # the toe: a taper it can hold
    assert along[:, :80].max() > 1.0  # the head scarp: sharp
    inverse = warp.inverse_map(dy, dx)
    assert warp.consistent(dy, dx, inverse).mean() > 0.9


def test_the_sampler_draws_sharp_scenes_at_its_share() -> None:
    sources = [SimulatedSource("simulated-0", 0)]
    cfg = SamplerConfig(size=64, kinds=("fault",), sharp_share=1.0)
    pair = draw_pair(sources, 5, cfg)
    assert pair.params["field_sharp"] == 1.0
    smooth = draw_pair(sources, 5, SamplerConfig(size=64, kinds=("fault",)))
    assert "field_sharp" not in smooth.params


def test_edge_distance_splits_near_and_away() -> None:
    step = np.zeros((2, 100, 100), np.float32)
    step[1, :, 50:] = 3.0  # a fault along column 50: dy jumps by 3 px
    dist = edge_distance(step)
    assert dist[:, 49:51].max() == 0.0
    assert dist[0, 50 - int(NEAR_EDGE_PX)] <= NEAR_EDGE_PX
    assert dist[0, 0] > FAR_FROM_EDGE_PX
    assert np.isinf(edge_distance(np.zeros((2, 8, 8), np.float32))).all()


def test_where_it_loses_names_the_group_and_zone() -> None:
    row = {
        "model_dense_near_edges_rmse_px": 0.5,
        "ncc_prior_dense_near_edges_rmse_px": 1.0,
        "model_at_step8_centres_near_edges_rmse_px": 0.6,
        "classical_step8_near_edges_rmse_px": 0.9,
        "model_dense_away_from_edges_rmse_px": 0.2,
        "ncc_prior_dense_away_from_edges_rmse_px": 0.1,
        "model_at_step8_centres_away_from_edges_rmse_px": 0.1,
        "classical_step8_away_from_edges_rmse_px": 0.1,
    }
    losses = where_it_loses({"fault/multipixel": row})
    assert losses == ["fault/multipixel, away_from_edges: 0.200 px against the prior's 0.100 px"]
