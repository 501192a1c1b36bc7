#!/usr/bin/env python3
"""List enum members reached without their enum's name, which PyQt6 (QGIS 4) refuses.

    .venv/bin/python scripts/qt6_enum_check.py FILE.py ...

``QgsProcessingParameterNumber.Integer`` is such a use (the enum is ``Type``); QGIS 4 accepts
only ``QgsProcessingParameterNumber.Type.Integer`` or the newer ``Qgis.*`` enum. Each
``Class.Member`` in the code (read with ``ast``, so docstrings and comments are not code) is
looked up in the installed QGIS and Qt modules, so only real enum members are reported.
Exit status 1 when any is found. Use processing_provider/qgis_compat.py for values whose
spelling differs between QGIS 3.22 and 4.
"""

from __future__ import annotations

import ast
import os
import sys
from types import ModuleType

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _modules() -> list[ModuleType]:
    import qgis.core
    import qgis.gui
    from qgis.PyQt import QtCore, QtGui, QtWidgets

    return [qgis.core, qgis.gui, QtCore, QtGui, QtWidgets]


def _owner_name(node: ast.expr) -> str | None:
    """``QgsX`` for ``QgsX.Member`` and for ``qgis.core.QgsX.Member``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def unscoped_uses(path: str, modules: list[ModuleType]) -> list[str]:
    """``path:line: Class.Member -> Class.Enum.Member`` for each unscoped enum use."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = _owner_name(node.value)
        if owner is None or not owner.startswith("Q"):
            continue
        cls = next((getattr(m, owner) for m in modules if hasattr(m, owner)), None)
        if cls is None or not isinstance(cls, type) or not hasattr(cls, node.attr):
            continue
        value = getattr(cls, node.attr)
        kind = type(value)
        if isinstance(value, type) or kind in (int, float, str, bool) or callable(value):
            continue
        if kind.__name__ != node.attr and getattr(cls, kind.__name__, None) is kind:
            found.append(
                (
                    node.lineno,
                    f"{path}:{node.lineno}: {owner}.{node.attr} -> "
                    f"{owner}.{kind.__name__}.{node.attr}",
                )
            )
    return [text for _, text in sorted(found)]


def main(argv: list[str]) -> int:
    modules = _modules()
    found = [line for path in argv for line in unscoped_uses(path, modules)]
    for line in found:
        print(line)
    print(f"{len(found)} unscoped enum uses in {len(argv)} files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
