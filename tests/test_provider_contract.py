"""The public contract (../shared/DESIGN.md) holds: every algorithm id, parameter name, type,
default, range, enum option and output name of the provider equals the recorded one."""

from __future__ import annotations

import pytest
from fixtures_io import recorded
from provider_contract import provider_contract


@pytest.fixture(scope="module")
def contract(plugin):  # type: ignore[no-untyped-def]
    live = provider_contract()
    return live, recorded("provider_contract.json", live)


def test_algorithm_ids_are_the_recorded_ones(contract) -> None:
    live, expected = contract
    assert sorted(live) == sorted(expected)


def test_every_parameter_and_output_is_the_recorded_one(contract) -> None:
    live, expected = contract
    for alg_id, entry in expected.items():
        assert live[alg_id]["parameters"] == entry["parameters"], alg_id
        assert live[alg_id]["order"] == entry["order"], alg_id
        assert live[alg_id]["outputs"] == entry["outputs"], alg_id
