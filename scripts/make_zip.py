#!/usr/bin/env python3
"""Build the plugin zip that the QGIS plugin repository and "Install from ZIP" expect.

    scripts/make_zip.py                      # dist/geohazard-<version>.zip from HEAD
    scripts/make_zip.py --ref v0.2.0         # from a tag or commit
    scripts/make_zip.py --include-uncommitted --out /tmp   # HEAD plus uncommitted edits

The zip holds one top-level folder ``geohazard/`` (the plugin folder name QGIS uses). It is
made by ``git archive``, so only tracked files go in and every path marked ``export-ignore`` in
.gitattributes (tests, benchmarks, scripts, dev configuration) stays out; bundled weights in
models/ and styles/ are tracked files and go in. The version comes from metadata.txt of the
packaged commit and nowhere else. Standard library only.
"""

from __future__ import annotations

import argparse
import configparser
import io
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_FOLDER = "geohazard"
# Never in a plugin zip, whatever .gitattributes says (checked after archiving).
FORBIDDEN_PARTS = (
    "tests/",
    "benchmarks/",
    "scripts/",
    ".ci/",
    "__pycache__/",
    ".venv/",
    ".git/",
    ".qgis-settings/",
)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def version_at(ref: str) -> str:
    meta = configparser.ConfigParser()
    meta.read_string(git("show", f"{ref}:metadata.txt"))
    version = meta["general"]["version"].strip()
    if not version:
        raise SystemExit("metadata.txt has no version")
    return version


def resolve_ref(ref: str, include_uncommitted: bool) -> str:
    if include_uncommitted:
        # A commit object of HEAD plus the working tree's edits to tracked files; no ref moves.
        stash = git("stash", "create").strip()
        untracked = git("ls-files", "--others", "--exclude-standard").split()
        if untracked:
            print(
                f"note: untracked files are not packaged: {' '.join(untracked[:10])}",
                file=sys.stderr,
            )
        return stash or "HEAD"
    return ref


def check_zip(path: str) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    problems = [n for n in names if not n.startswith(PLUGIN_FOLDER + "/")]
    problems += [
        n
        for n in names
        if any(f"/{part}" in "/" + n[len(PLUGIN_FOLDER) + 1 :] for part in FORBIDDEN_PARTS)
    ]
    for required in ("metadata.txt", "__init__.py"):
        if f"{PLUGIN_FOLDER}/{required}" not in names:
            problems.append(f"missing {required}")
    if problems:
        raise SystemExit(f"{path}: not a clean plugin zip: {problems[:10]}")
    return names


def build(ref: str = "HEAD", out_dir: str | None = None, include_uncommitted: bool = False) -> str:
    commit = resolve_ref(ref, include_uncommitted)
    version = version_at(commit)
    out_dir = os.path.abspath(out_dir or os.path.join(ROOT, "dist"))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{PLUGIN_FOLDER}-{version}.zip")
    data = subprocess.run(
        ["git", "archive", "--format=zip", f"--prefix={PLUGIN_FOLDER}/", commit],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.replace(path + ".part", path)
    names = check_zip(path)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        size = sum(i.file_size for i in zf.infolist())
    print(
        f"{path}: {len(names)} entries, {size / 1e6:.1f} MB unpacked, version {version}", flush=True
    )
    if not any(n.split("/", 1)[1].upper().startswith(("LICENSE", "LICENCE")) for n in names):
        print(
            "warning: no LICENSE file in the plugin folder; plugins.qgis.org refuses uploads "
            "without one (installing the zip by hand works).",
            file=sys.stderr,
        )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ref", default="HEAD", help="commit, branch or tag to package (default HEAD)"
    )
    parser.add_argument("--out", default=None, help="output folder (default dist/)")
    parser.add_argument(
        "--include-uncommitted",
        action="store_true",
        help="package HEAD plus uncommitted edits to tracked files (for testing a working tree)",
    )
    args = parser.parse_args(argv)
    build(args.ref, args.out, args.include_uncommitted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
