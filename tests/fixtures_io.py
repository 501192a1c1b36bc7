"""Recorded fixtures under tests/data: read them, or rewrite them on request.

A test compares a live value with a recorded one through :func:`recorded`. With the environment
variable ``GEOHAZARD_WRITE_FIXTURES=1`` it writes the live value instead (after a deliberate
change, said in the commit) and the test is skipped, so a rewrite never passes as a check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data"


def recorded(name: str, live: Any) -> Any:
    """The recorded value of fixture ``name`` (a JSON file in tests/data)."""
    path = DATA / name
    if os.environ.get("GEOHAZARD_WRITE_FIXTURES") == "1":
        path.write_text(json.dumps(live, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"wrote {path.name}")
    return json.loads(path.read_text())
