#!/usr/bin/env python3
"""Print the held-out table of DEM super-resolution model cards as Markdown.

    .venv/bin/python scripts/dem_sr_card_table.py models/dem_sr_x2.json models/dem_sr_x4.json

One table per card and degradation: per held-out DEM (terrain kind), elevation RMSE, PSNR, SSIM
and slope RMSE of the model, the cubic spline with back-projection, GDAL cubic and nearest
neighbour, and whether the model beats the spline in both elevation and slope RMSE.
"""

from __future__ import annotations

import json
import sys

METHODS = (
    ("model", "model"),
    ("spline_bp", "spline + BP"),
    ("gdal_cubic", "GDAL cubic"),
    ("nearest", "nearest"),
)


def table(card: dict, degradation: str) -> str:
    lines = [
        "| held-out DEM | terrain | method | RMSE (m) | PSNR (dB) | SSIM | slope RMSE (deg) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in card["held_out"].get("by_area", []):
        if row["degradation"] != degradation:
            continue
        m = row["metrics"]
        for key, label in METHODS:
            v = m[key]
            name = f"**{label}**" if key == "model" else label
            lines.append(
                f"| {row['dem']} | {row['terrain']} | {name} | {v['rmse_m']:.3f} | "
                f"{v['psnr_db']:.2f} | {v['ssim']:.4f} | {v['slope_rmse_deg']:.3f} |"
            )
        wins = (
            m["model"]["rmse_m"] < m["spline_bp"]["rmse_m"]
            and m["model"]["slope_rmse_deg"] < m["spline_bp"]["slope_rmse_deg"]
        )
        gain = 100 * (1 - m["model"]["rmse_m"] / m["spline_bp"]["rmse_m"])
        slope_gain = 100 * (1 - m["model"]["slope_rmse_deg"] / m["spline_bp"]["slope_rmse_deg"])
        lines.append(
            f"| | | model vs spline + BP | {gain:+.1f}% | | | {slope_gain:+.1f}% "
            f"({'beats' if wins else 'does NOT beat'}) |"
        )
    return "\n".join(lines)


def main() -> int:
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
        for degradation in ("block mean", "sensor blur"):
            print(f"\n**{card['name']}**, LR by {degradation}:\n")
            print(table(card, degradation))
    return 0


if __name__ == "__main__":
    sys.exit(main())
