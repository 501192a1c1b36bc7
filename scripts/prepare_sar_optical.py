#!/usr/bin/env python3
"""Prepare SAR/DEM/optical training patches (Sentinel-1 VV/VH, a DEM, Sentinel-2 RGB).

    .venv/bin/python scripts/prepare_sar_optical.py --manifest areas.json --out out/sar_optical
    .venv/bin/python scripts/prepare_sar_optical.py --out out/p \\
        --area alps1 s1.tif dem.tif s2_rgb.tif --area alps2 s1b.tif dem.tif s2b.tif cloud.tif

Each area is aligned on its SAR grid (DEM, optical and mask resampled onto it, whatever their
grid and CRS), SAR log-compressed, DEM divided by --dem-max, optical stretched channel-wise,
nodata and masked pixels set to 0, and cut into --patch px patches. Whole areas go to
train/validation/test (by the manifest's "split", else about 80/10/10 by --seed). Writes
<out>/train.npz, validation.npz, test.npz and dataset.json; training reads them with
engine.families.sar_to_optical.data.load_split.

SAR, as downloaded (engine/families/sar_to_optical/inputs.py):
  - a two-band raster: a SNAP GeoTIFF export (band names Sigma0_VV, Sigma0_VH in any order
    decide which is which; unnamed bands are band 1 VV, band 2 VH);
  - SNAP BEAM-DIMAP: the .dim file, its .data folder, or Sigma0_VV.img in it (ENVI);
  - an RTC product (ASF HyP3, OPERA RTC-S1): the ..._VV.tif, or the product folder;
  - a VV file finds its VH twin beside it by name (..._VV -> ..._VH); the manifest's "sar_vh"
    names it otherwise;
  - --sar-units (or the manifest's "sar_units"): auto (from the names, e.g. Sigma0_VV_db or
    HyP3's gpuned/gduned/gauned scale letter, else dB when most values are negative), linear,
    db or amplitude. Uncalibrated images and values contradicting the units are refused.
Optical (red, green, blue):
  - one raster: bands picked by name (B04/B03/B02, red/green/blue) in any order, else 1-3;
  - one Sentinel-2 band file (T32TLR_20230801T103631_B04_10m.jp2, JP2 or GeoTIFF) with the
    other two beside it, or a .SAFE / IMG_DATA folder;
  - Sentinel-2 L2A 16-bit digital numbers become reflectance ((DN + BOA_ADD_OFFSET) / 10000,
    the offset from MTD_MSIL2A.xml or the .SAFE name's baseline) and 0 is no data.
Mask: non-zero pixels are cloud, snow or unusable. A Sentinel-2 L2A scene classification
(SCL, 20 m; as MASK it is recognised by "SCL" in its name, or the manifest's "scl") masks
classes 0 no data, 1 saturated/defective, 3 cloud shadow, 8-9 cloud, 10 thin cirrus and
11 snow/ice; it is refused with a Level-1C image or another scene's image.
Each mismatch (no overlap, a missing band or twin, VV/VH ambiguous, wrong units...) is one
sentence on stderr and exit status 2.

Manifest: {"areas": [{"name": "alps1", "sar": "s1.tif", "dem": "dem.tif", "optical": "s2.tif",
"mask": null, "split": "train", "incidence_deg": 39, "heading_deg": -168, "look": "right",
"sar_vh": null, "scl": null, "sar_units": null}]}
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--manifest", help="JSON manifest of areas")
    parser.add_argument(
        "--area",
        nargs="+",
        action="append",
        metavar="NAME SAR DEM OPTICAL [MASK or SCL]",
        help="an area given on the command line (repeatable)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--stride", type=int, default=None, help="default: the patch size")
    parser.add_argument("--min-valid", type=float, default=0.5)
    parser.add_argument("--dem-max", type=float, default=None, help="metres (default 4808)")
    parser.add_argument("--shares", type=float, nargs=3, default=(0.8, 0.1, 0.1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sar-units",
        choices=("auto", "linear", "db", "amplitude"),
        default="auto",
        help="units of the SAR values (default auto: from the names, else the values)",
    )
    args = parser.parse_args(argv)

    from geohazard.engine.core.errors import GeohazardError
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.families.sar_to_optical.data import (
        DEM_MAX_M,
        AreaSpec,
        PrepConfig,
        prepare_dataset,
        read_manifest,
    )

    try:
        areas = read_manifest(args.manifest) if args.manifest else []
        for item in args.area or []:
            if len(item) not in (4, 5):
                raise GeohazardError("--area needs NAME SAR DEM OPTICAL [MASK].")
            areas.append(AreaSpec(*item[:4], mask=item[4] if len(item) == 5 else None))
        if not areas:
            raise GeohazardError("Give --manifest or at least one --area.")
        config = PrepConfig(
            patch=args.patch,
            stride=args.stride or args.patch,
            min_valid=args.min_valid,
            dem_max_m=args.dem_max or DEM_MAX_M,
            sar_units=args.sar_units,
        )
        reporter = Reporter(info=print, warning=lambda m: print(f"warning: {m}"))
        counts = prepare_dataset(areas, args.out, config, tuple(args.shares), args.seed, reporter)
    except GeohazardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"patches: train {counts['train']}, validation {counts['validation']}, "
        f"test {counts['test']} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
