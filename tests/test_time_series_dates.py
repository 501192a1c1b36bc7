"""Acquisition dates and the pair network of a stack: found, and refused in one clear sentence."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import pytest
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.timeseries.dates import stack_dates
from geohazard.engine.timeseries.network import network_gaps, pair_network
from time_series_stack import write_tif

ROOT = Path(__file__).resolve().parents[1]


def images(folder: Path, names: list[str], tags: list[dict] | None = None) -> list[str]:
    rng = np.random.default_rng(0)
    paths = []
    for k, name in enumerate(names):
        path = str(folder / name)
        write_tif(path, rng.gamma(4.0, 1.0, (64, 64)), tags[k] if tags else None)
        paths.append(path)
    return paths


def test_dates_from_names_tags_and_text(tmp_path) -> None:
    paths = images(
        tmp_path,
        ["S1A_IW_20240105T053012_x.tif", "b_20240117.tif", "c.tif"],
        [{}, {}, {"ACQUISITION_DATE": "2024-01-29T05:30:12"}],
    )
    assert stack_dates(paths) == [dt.date(2024, 1, 5), dt.date(2024, 1, 17), dt.date(2024, 1, 29)]
    given = stack_dates(paths, "2023-12-01, 2023-12-13,2023-12-25")
    assert given[0] == dt.date(2023, 12, 1) and given[2] == dt.date(2023, 12, 25)


@pytest.mark.parametrize(
    ("names", "text", "message"),
    [
        (
            ["a_20240105.tif", "b.tif", "c_20240129.tif"],
            None,
            "No acquisition date found for 'b.tif'",
        ),
        (
            ["a_20240105.tif", "b_20240105.tif", "c_20240129.tif"],
            None,
            "have the same date 2024-01-05",
        ),
        (
            ["a_20240117.tif", "b_20240105.tif", "c_20240129.tif"],
            None,
            "The dates are out of order",
        ),
        (["a.tif", "b.tif", "c.tif"], "2024-01-05,2024-01-17", "DATES holds 2 date"),
        (
            ["a.tif", "b.tif", "c.tif"],
            "2024-01-05,17/01/2024,2024-01-29",
            "'17/01/2024' is not a date",
        ),
        (["a.tif", "b.tif", "c.tif"], "2024-01-05,2024-01-29,2024-01-17", "out of order"),
    ],
)
def test_bad_dates_refused(tmp_path, names, text, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GeohazardError, match=message):
        stack_dates(images(tmp_path, names), text)


def test_network_next_k_within_span_and_gaps() -> None:
    dates = [dt.date(2024, 1, 1) + dt.timedelta(days=12 * k) for k in range(6)]
    assert pair_network(dates, 2) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (1, 3),
        (2, 3),
        (2, 4),
        (3, 4),
        (3, 5),
        (4, 5),
    ]
    assert len(pair_network([dates[0] + dt.timedelta(30 * k) for k in range(12)], 3)) == 30
    gapped = dates[:3] + [d + dt.timedelta(days=100) for d in dates[3:]]
    pairs = pair_network(gapped, 3, max_span_days=50)
    assert network_gaps(len(gapped), pairs) == [2]
    with pytest.raises(GeohazardError, match="at least 3 images"):
        pair_network(dates[:2])


def test_qgis_process_refuses_duplicated_dates_clearly(tmp_path) -> None:
    images(tmp_path, ["a.tif", "b.tif", "c.tif"])
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            "geohazard:displacementtimeseries",
            "--",
            f"INPUT={tmp_path}",  # a folder: its .tif files in name order
            "DATES=2024-01-05,2024-01-05,2024-01-29",
            f"OUTPUT={tmp_path / 'out.tif'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "'a.tif' and 'b.tif' have the same date 2024-01-05" in proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "b.tif", "c.tif"]
