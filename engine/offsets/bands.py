"""The band layout shared by both offset trackers (DESIGN.md): bands are only ever appended."""

from __future__ import annotations

OUTPUT_BANDS = (
    "east offset (m)",
    "north offset (m)",
    "magnitude (m)",
    "quality (peak NCC)",
    "east 1-sigma uncertainty (m)",
    "north 1-sigma uncertainty (m)",
)
VELOCITY_BANDS = (
    "east velocity (m/yr)",
    "north velocity (m/yr)",
    "speed (m/yr)",
    "quality (peak NCC)",
    "east 1-sigma uncertainty (m/yr)",
    "north 1-sigma uncertainty (m/yr)",
)
