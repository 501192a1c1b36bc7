#!/usr/bin/env python3
"""List the files of the plugin itself: what scripts/make_zip.py puts in the zip.

    scripts/plugin_files.py             # every plugin file, one per line
    scripts/plugin_files.py --suffix .py

A file belongs to the plugin when git knows it (tracked, or untracked and not ignored) and
neither it nor a folder above it is marked ``export-ignore`` in .gitattributes: the same rule
``git archive`` applies when make_zip.py builds the zip, asked of git itself with
``git check-attr``. scripts/lint.sh runs the QGIS, Bandit and detect-secrets checks on this
list, so they see exactly what plugins.qgis.org will. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import subprocess  # nosec B404  # runs git with fixed arguments; no shell
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(  # nosec B603 B607  # git from PATH, fixed arguments, no shell
        ["git", *args], cwd=ROOT, input=stdin, check=True, capture_output=True, text=True
    ).stdout


def _ancestors(path: str) -> list[str]:
    """``a/b/c.py`` -> ``["a/", "a/b/"]`` (git matches folder patterns against ``folder/``)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def plugin_files(suffix: str = "") -> list[str]:
    """Paths relative to the repository root, sorted, of the files that ship in the zip."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    files = sorted({f for f in listed if f and os.path.isfile(os.path.join(ROOT, f))})
    asked = sorted({p for f in files for p in [f, *_ancestors(f)]})
    out = _git("check-attr", "-z", "--stdin", "export-ignore", stdin="\0".join(asked) + "\0")
    fields = out.split("\0")
    ignored = {
        fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] not in ("unspecified",)
    }
    return [
        f
        for f in files
        if f.endswith(suffix) and f not in ignored and not ignored.intersection(_ancestors(f))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suffix", default="", help="only files whose name ends so, e.g. .py")
    args = parser.parse_args(argv)
    for path in plugin_files(args.suffix):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
