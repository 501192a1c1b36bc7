"""geohazard:displacementtimeseries through qgis_process on a simulated stack (issue 23).

The stack (tests/time_series_stack.py): 12 dates over a year, a landslide that starts,
accelerates and stops, seasonal brightness change, one bad pair. One run, shared by the tests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from geohazard.engine.offsets.tracking import OffsetTrackingConfig, track_offsets
from time_series_stack import BAD, DATES, INTERVAL, centre_samples, landslide_stack

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:displacementtimeseries"
WINDOW, STEP, SEARCH = 32, 8, 8
FIRST = WINDOW // 2 + SEARCH  # first window centre, pixels


def qgis_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("stack")
    images = folder / "images"
    images.mkdir()
    stack = landslide_stack(str(images))
    out, vel, report = folder / "series.tif", folder / "velocity.tif", folder / "report.html"
    proc = qgis_process(
        f"INPUT={images}",
        f"WINDOW_SIZES={WINDOW}",
        f"STEP={STEP}",
        f"SEARCH={SEARCH}",
        f"OUTPUT={out}",
        f"VELOCITY_OUTPUT={vel}",
        f"REPORT={report}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as src:
        bands, tags, descriptions = src.read(), src.tags(), src.descriptions
    n = len(DATES)
    truth_e = centre_samples(stack.east, FIRST, STEP, *bands.shape[1:])
    truth_n = centre_samples(stack.north, FIRST, STEP, *bands.shape[1:])
    return {
        "stack": stack,
        "east": bands[0 : 2 * n : 2],
        "north": bands[1 : 2 * n : 2],
        "truth_e": truth_e,
        "truth_n": truth_n,
        "core": centre_samples(stack.body, FIRST, STEP, *bands.shape[1:]),
        "tags": tags,
        "descriptions": descriptions,
        "velocity": vel,
        "report": report,
        "log": proc.stdout,
        "images": images,
    }


def test_output_bands_are_dated_east_north_pairs(run) -> None:  # type: ignore[no-untyped-def]
    n = len(DATES)
    desc = run["descriptions"]
    assert len(desc) == 5 * n
    for k, date in enumerate(DATES):
        assert desc[2 * k] == f"{date.isoformat()} east displacement (m)"
        assert desc[2 * k + 1] == f"{date.isoformat()} north displacement (m)"
    assert all(d[:10] in {x.isoformat() for x in DATES} for d in desc)
    assert run["tags"]["DATES"].split(",") == [d.isoformat() for d in DATES]
    assert np.all(run["east"][0][np.isfinite(run["east"][0])] == 0)  # the first date is zero
    assert sorted(p.name for p in run["images"].iterdir()) == sorted(
        Path(p).name for p in run["stack"].paths
    )  # nothing written beside the inputs (no .aux.xml statistics)


def test_cumulative_rmse_within_1_5x_of_single_pairs(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each date's cumulative displacement against the same displacement measured directly by
    one pair (first date, that date) of geohazard:offsettracking's engine, same windows."""
    paths = run["stack"].paths
    config = OffsetTrackingConfig(window_sizes=(WINDOW,), step=STEP, search=SEARCH)
    cum_sq, single_sq = [], []
    for k in range(1, len(DATES)):
        out = str(tmp_path / f"pair_{k}.tif")
        track_offsets(paths[0], paths[k], out, config)
        with rasterio.open(out) as src:
            single = src.read([1, 2])
        te, tn = run["truth_e"][k], run["truth_n"][k]
        ok = np.isfinite(single[0]) & np.isfinite(run["east"][k])
        single_sq.append(((single[0] - te) ** 2 + (single[1] - tn) ** 2)[ok])
        cum_sq.append(((run["east"][k] - te) ** 2 + (run["north"][k] - tn) ** 2)[ok])
    cum = float(np.sqrt(np.mean(np.concatenate(cum_sq))))
    single = float(np.sqrt(np.mean(np.concatenate(single_sq))))
    assert cum <= 1.5 * single, (cum, single)
    assert cum < 3.0  # metres on 10 m pixels: the series follows a 30 m slide


def _core_series(run, east, north):  # type: ignore[no-untyped-def]
    core = run["core"]
    return np.hypot(np.nanmean(east[:, core], axis=1), np.nanmean(north[:, core], axis=1))


def test_onset_and_peak_velocity_recovered(run) -> None:  # type: ignore[no-untyped-def]
    est = _core_series(run, run["east"], run["north"])
    true = _core_series(run, run["truth_e"], run["truth_n"])
    threshold = 1.0  # m: a tenth of a pixel
    onset_est = int(np.argmax(est > threshold))
    onset_true = int(np.argmax(true > threshold))
    assert abs(onset_est - onset_true) <= 1, (est.round(2), true.round(2))
    peak_est = np.max(np.diff(est)) / INTERVAL * 365.25
    peak_true = np.max(np.diff(true)) / INTERVAL * 365.25
    assert peak_est == pytest.approx(peak_true, rel=0.15)
    assert est[-1] == pytest.approx(true[-1], rel=0.15)  # and it stopped where it stopped


def test_bad_pair_rejected_and_no_other(run) -> None:  # type: ignore[no-untyped-def]
    pairs = json.loads(run["tags"]["PAIRS"])
    assert len(pairs) == 30  # 12 dates, each with its next 3
    core_share = float(run["core"].mean())
    for pair in pairs:
        bad = (pair["reference"], pair["secondary"]) == tuple(DATES[k].isoformat() for k in BAD)
        if bad:
            assert pair["rejected"] > core_share, (pair, core_share)
        else:
            assert pair["rejected"] < 0.05, pair
    assert "rejected at" in run["log"]


def test_log_estimates_the_time_left_over_the_stack(run) -> None:  # type: ignore[no-untyped-def]
    assert "of the stack's tracking after" in run["log"]
    assert "s left." in run["log"]
    assert "30 pairs (each image with its next 3)" in run["log"]


def test_velocity_output_has_the_velocity_layout(run) -> None:  # type: ignore[no-untyped-def]
    with rasterio.open(run["velocity"]) as src:
        assert src.count == 12
        assert src.descriptions[:3] == (
            "east velocity (m/yr)",
            "north velocity (m/yr)",
            "speed (m/yr)",
        )
        assert src.tags()["UNITS"] == "m/yr"
        speed = src.read(3)
    core = run["core"]
    # about 30 m in the year, most of it in the middle: a line fit gives 25-45 m/yr on the body
    assert 20 < float(np.nanmedian(speed[core])) < 50
    assert float(np.nanmedian(speed[~core])) < 5


def test_report_plots_the_series_inline(run) -> None:  # type: ignore[no-untyped-def]
    text = Path(run["report"]).read_text(encoding="utf-8")
    assert "data:image/png;base64," in text
    assert "moving area 1" in text
    assert text.count("<tr><td>2024-") == 30  # one row per pair


def test_landslide_areas_take_the_velocity_output(run, plugin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import processing

    out = str(tmp_path / "areas.gpkg")
    result = processing.run(
        "geohazard:landslideareas",
        {"INPUT": str(run["velocity"]), "THRESHOLD": 10.0, "MIN_AREA": 1000, "OUTPUT": out},
    )
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(result["OUTPUT"], "areas")
    features = list(layer.getFeatures())
    assert len(features) == 1
    assert features[0]["units"] == "m/yr"
    assert features[0]["mean_disp"] > 20  # m/yr, the body's mean speed
