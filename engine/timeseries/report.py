"""The HTML report of a time series: per landslide area the mean and spread of the cumulative
displacement over the dates, the user's points with their 1-sigma, and the pair network."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Area:
    """A landslide area: its name and the grid points inside it."""

    name: str
    mask: np.ndarray


@dataclass
class Point:
    """A point the user gave: its name and (row, column) on the output grid."""

    name: str
    row: int
    col: int


def magnitude_sigma(
    east: np.ndarray, north: np.ndarray, sig_e: np.ndarray, sig_n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude of (east, north) and its 1-sigma by first-order propagation."""
    mag = np.hypot(east, north)
    with np.errstate(invalid="ignore", divide="ignore"):
        sig = np.sqrt((east * sig_e) ** 2 + (north * sig_n) ** 2) / mag
    sig = np.where(mag > 0, sig, np.hypot(sig_e, sig_n) / np.sqrt(2))
    return mag, sig


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def time_series_plot(
    dates: Sequence[dt.date],
    east: np.ndarray,
    north: np.ndarray,
    sig_e: np.ndarray,
    sig_n: np.ndarray,
    areas: Sequence[Area],
    points: Sequence[Point],
) -> str:
    """A PNG (base64) of cumulative displacement magnitude against date: each area's mean
    with its spread (standard deviation over its points) shaded, each point with 1-sigma bars."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    days = np.array(dates, dtype="datetime64[D]")
    mag, sig = magnitude_sigma(east, north, sig_e, sig_n)
    for area in areas:
        values = mag[:, area.mask]
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(values, axis=1) if values.size else np.full(len(dates), np.nan)
            spread = np.nanstd(values, axis=1) if values.size else np.full(len(dates), np.nan)
        line = ax.plot(days, mean, marker="o", label=f"{area.name} (mean, {values.shape[1]} pts)")
        ax.fill_between(days, mean - spread, mean + spread, alpha=0.25, color=line[0].get_color())
    for point in points:
        ax.errorbar(
            days,
            mag[:, point.row, point.col],
            yerr=sig[:, point.row, point.col],
            marker="s",
            capsize=3,
            linestyle="--",
            label=f"point {point.name}",
        )
    ax.set_ylabel("cumulative displacement (m)")
    ax.set_xlabel("acquisition date")
    ax.grid(True, alpha=0.3)
    if areas or points:
        ax.legend(loc="upper left", fontsize="small")
    ax.tick_params(axis="x", labelrotation=30)
    return _png(fig)


def report_html(
    title: str,
    dates: Sequence[dt.date],
    plot_png: str,
    summary: Sequence[tuple[str, str]],
    pair_rows: Sequence[dict[str, object]],
    area_rows: Sequence[tuple[str, int, float, float]],
) -> str:
    """The whole report as one self-contained HTML page (the plot inline)."""
    esc = html.escape
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary)
    pairs = "".join(
        f"<tr><td>{esc(str(r['reference']))}</td><td>{esc(str(r['secondary']))}</td>"
        f"<td>{100 * float(str(r['measured'])):.1f}%</td>"
        f"<td>{100 * float(str(r['rejected'])):.1f}%</td></tr>"
        for r in pair_rows
    )
    areas = "".join(
        f"<tr><td>{esc(n)}</td><td>{p}</td><td>{last:.3f}</td><td>{vel:.3f}</td></tr>"
        for n, p, last, vel in area_rows
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:2px 8px;text-align:left}}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{len(dates)} dates from {dates[0].isoformat()} to {dates[-1].isoformat()}. Cumulative
displacement since the first date; areas: mean over their points with the standard deviation
shaded; points: with their 1-sigma.</p>
<img alt="Cumulative displacement against date" src="data:image/png;base64,{plot_png}">
<h2>Landslide areas</h2>
<table><tr><th>area</th><th>points</th><th>mean displacement at the last date (m)</th>
<th>mean velocity (m/yr)</th></tr>{areas}</table>
<h2>Run</h2><table>{facts}</table>
<h2>Pairs</h2>
<p>Measured: share of grid points where the pair gave an offset. Rejected: share of those where
the robust inversion found that the pair contradicts the others and gave it no weight.</p>
<table><tr><th>reference</th><th>secondary</th><th>measured</th><th>rejected</th></tr>{pairs}
</table></body></html>
"""
