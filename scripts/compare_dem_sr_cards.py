#!/usr/bin/env python3
"""Compare two DEM super-resolution cards of one scale on the held-out table; say which to ship.

    .venv/bin/python scripts/compare_dem_sr_cards.py models/dem_sr_x4.json \\
        out/models_long_x4/dem_sr_x4.json

Prints, per held-out DEM and degradation, each card's gain over the cubic spline with
back-projection (elevation and slope RMSE, percent; positive = model better), then the mean
gains over the block-mean rows. The rule for replacing a bundled model (docs/DECISIONS.md): the
candidate replaces it when its mean block-mean gains over the spline, in elevation RMSE and in
slope RMSE, are both at least the bundled model's (the spline, being deterministic, is the same
yardstick in both cards).
"""

from __future__ import annotations

import json
import sys


def gains(card: dict) -> dict[tuple[str, str], tuple[float, float]]:
    """(DEM, degradation) -> (elevation RMSE gain %, slope RMSE gain %) over spline_bp."""
    out = {}
    for row in card["held_out"]["by_area"]:
        m, s = row["metrics"]["model"], row["metrics"]["spline_bp"]
        out[(row["dem"], row["degradation"])] = (
            100 * (1 - m["rmse_m"] / s["rmse_m"]),
            100 * (1 - m["slope_rmse_deg"] / s["slope_rmse_deg"]),
        )
    return out


def mean_block_mean(g: dict[tuple[str, str], tuple[float, float]]) -> tuple[float, float]:
    rows = [v for (_, deg), v in g.items() if deg == "block mean"]
    return (sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows))


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    cards = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            cards.append(json.load(f))
    old, new = (gains(c) for c in cards)
    print("| held-out DEM | LR | bundled: elev / slope vs spline | candidate: elev / slope |")
    print("|---|---|---|---|")
    for key in old:
        o, n = old[key], new.get(key, (float("nan"), float("nan")))
        print(
            f"| {key[0]} | {key[1]} | {o[0]:+.1f}% / {o[1]:+.1f}% | {n[0]:+.1f}% / {n[1]:+.1f}% |"
        )
    mo, mn = mean_block_mean(old), mean_block_mean(new)
    print(
        f"| mean, block means | | {mo[0]:+.2f}% / {mo[1]:+.2f}% | {mn[0]:+.2f}% / {mn[1]:+.2f}% |"
    )
    replace = mn[0] >= mo[0] and mn[1] >= mo[1]
    print(f"replace the bundled model: {'yes' if replace else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
