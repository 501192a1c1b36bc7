"""A model card as HTML for the training dialog and the model manager (display only)."""

from __future__ import annotations

import html
from typing import Any

from qgis.PyQt.QtCore import QCoreApplication


def tr(text: str) -> str:
    return QCoreApplication.translate("ModelCard", text)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def card_html(card: Any, source: str = "") -> str:
    """Name, task, description, architecture, training summary, held-out metrics, limits."""
    arch = card.architecture
    rows = [
        (tr("Task"), card.task),
        (tr("Source"), source),
        (tr("Architecture"), arch.get("type", "")),
        (tr("Weights"), f"{card.parameters:,}" if card.parameters else ""),
        (tr("Scale"), f"x{card.scale}" if card.scale != 1 else ""),
    ]
    training = card.training or {}
    for key, label in (
        ("base_model", tr("Base model")),
        ("data", tr("Training data")),
        ("steps", tr("Optimiser steps")),
        ("device", tr("Device")),
        ("minutes", tr("Minutes")),
    ):
        if key in training:
            value = training[key]
            rows.append((label, ", ".join(map(str, value)) if isinstance(value, list) else value))
    parts = [f"<h3>{html.escape(card.name)}</h3>", f"<p>{html.escape(card.description)}</p>"]
    parts.append("<table>")
    for label, value in rows:
        if value not in ("", None):
            parts.append(f"<tr><td><b>{html.escape(label)}</b></td><td>{_value(value)}</td></tr>")
    parts.append("</table>")
    held = card.held_out
    if held is None:
        parts.append(f"<p><i>{html.escape(tr('Not measured on held-out data.'))}</i></p>")
    else:
        parts.append(f"<p><b>{html.escape(tr('Held-out data'))}</b>: {html.escape(held.data)}</p>")
        names = sorted({k for m in held.metrics.values() for k in m})
        head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
        parts.append(f"<table border='1' cellspacing='0' cellpadding='3'><tr><th></th>{head}</tr>")
        for who, metrics in held.metrics.items():
            cells = "".join(f"<td>{_value(metrics.get(n, ''))}</td>" for n in names)
            parts.append(f"<tr><td><b>{html.escape(who)}</b></td>{cells}</tr>")
        parts.append("</table>")
        beats = tr("yes") if held.model_beats_baseline else tr("no")
        parts.append(
            "<p>"
            + html.escape(
                tr("Beats {baseline}: {beats}").format(baseline=held.baseline, beats=beats)
            )
            + "</p>"
        )
        if held.notes:
            parts.append(f"<p><i>{html.escape(held.notes)}</i></p>")
    if card.limitations:
        parts.append(
            f"<p><b>{html.escape(tr('Limitations'))}</b>: {html.escape(card.limitations)}</p>"
        )
    return "\n".join(parts)
