"""Makes the modules named in GEOHAZARD_BLOCK_MODULES (comma-separated) unimportable.

Put this folder first on PYTHONPATH of a child process (python or qgis_process): Python imports
``sitecustomize`` at start-up, and from then on ``import torch`` fails exactly as if torch were
not installed (ModuleNotFoundError), for the module and all its submodules.
"""

import os
import sys

_BLOCKED = tuple(
    m.strip() for m in os.environ.get("GEOHAZARD_BLOCK_MODULES", "").split(",") if m.strip()
)


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


if _BLOCKED:
    sys.meta_path.insert(0, _Blocker())
