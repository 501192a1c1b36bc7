#!/usr/bin/env python3
"""SHA-256 of the tensors of safetensors files: did a training run reproduce the bundled weights?

    .venv/bin/python scripts/weights_sha256.py models/dem_sr_x4.safetensors \\
        out/models_x4/dem_sr_x4.safetensors

Hashes every tensor's name, dtype, shape and bytes in name order and leaves the header's
metadata out: the embedded model card records the run's wall minutes, which differ between two
runs that produce the same weights. Equal hashes mean equal weights.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys


def tensor_sha256(path: str) -> tuple[str, int]:
    """(hex digest over the tensors, number of tensors) of one safetensors file."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    names = sorted(k for k in header if k != "__metadata__")
    digest = hashlib.sha256()
    for name in names:
        entry = header[name]
        start, end = entry["data_offsets"]
        digest.update(f"{name}|{entry['dtype']}|{entry['shape']}|".encode())
        digest.update(data[start:end])
    return digest.hexdigest(), len(names)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    digests = set()
    for path in sys.argv[1:]:
        digest, count = tensor_sha256(path)
        digests.add(digest)
        print(f"{digest}  {path} ({count} tensors)")
    if len(sys.argv) > 2:
        print("same weights" if len(digests) == 1 else "DIFFERENT weights")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
