"""The README's sample demo lines are lines the demo prints (their figures vary, as the README
says), not lines of an older demo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sources() -> str:
    files = sorted((ROOT / "scripts").glob("demo*.py")) + sorted((ROOT / "engine").rglob("*.py"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def test_each_sample_line_starts_as_the_demo_prints_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    samples = re.findall(r"(?m)^\[demo\] (.+)$", readme)
    assert len(samples) >= 5
    code = _sources()
    for line in samples:
        # the words just before the first figure or path the demo fills in (a label may come
        # before them, e.g. "offset tracking" in "{label} vs known field: RMSE")
        prefix = re.split(r"[0-9]|demo_output", line, maxsplit=1)[0].strip()[-16:]
        assert len(prefix) >= 10, line
        assert prefix in code, f"no demo print has: {prefix!r}"


def test_the_readme_says_the_figures_vary() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "figures in these sample lines" in readme
