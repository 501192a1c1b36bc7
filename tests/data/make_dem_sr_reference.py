"""Writes dem_sr_reference.npz: DEM super-resolution outputs of the code before the shared tiled
runner (commit d7b3383), so tests/test_dem_sr_runner_equivalence.py can show that the new
runner gives the same metres within 1e-4 m. Run once from the repository root with the old code:

    git worktree add /tmp/old d7b3383
    .venv/bin/python tests/data/make_dem_sr_reference.py /tmp/old
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

CASES = {
    # name: (raster kind, scale, tile, overlap)
    "utm_x4_default": ("utm", 4, 256, 32),
    "utm_x4_tiled": ("utm", 4, 32, 8),
    "utm_x2_tiled": ("utm", 2, 24, 6),
    "geo_x4_default": ("geo", 4, 256, 32),
    "holes_x2_tiled": ("holes", 2, 32, 8),
}


def main(old_root: str) -> None:
    plugins = tempfile.mkdtemp()
    os.symlink(old_root, os.path.join(plugins, "geohazard"))
    sys.path.insert(0, plugins)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import rasterio
    from dem_rasters import geographic_dem, utm_dem
    from geohazard.engine.superres.inference import SuperResolutionConfig, super_resolve_dem

    out: dict[str, np.ndarray] = {}
    tmp = tempfile.mkdtemp()
    for name, (kind, scale, tile, overlap) in CASES.items():
        src = os.path.join(tmp, f"{name}_in.tif")
        if kind == "geo":
            geographic_dem(src)
        else:
            utm_dem(src)
        if kind == "holes":
            with rasterio.open(src, "r+") as ds:
                a = ds.read(1)
                a[10:14, 20:26] = np.nan
                a[40, 5] = np.nan
                ds.write(a, 1)
        dst = os.path.join(tmp, f"{name}_out.tif")
        cfg = SuperResolutionConfig(scale=scale, tile_size=tile, overlap=overlap, device="cpu")
        super_resolve_dem(src, dst, cfg)
        with rasterio.open(dst) as ds:
            out[name] = ds.read(1)
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dem_sr_reference.npz")
    np.savez_compressed(target, **out)
    print("wrote", target, {k: v.shape for k, v in out.items()})


if __name__ == "__main__":
    main(sys.argv[1])
