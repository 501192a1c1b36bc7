#!/usr/bin/env python3
"""List translation calls whose text is built before it is translated: such a text never
matches a translation (Qt's lupdate extracts literals, and a translator sees the template).

    .venv/bin/python scripts/tr_check.py FILE.py ...

Flags ``self.tr(f"...")``, ``self.tr("..." % x)``, ``self.tr("a" + b)``,
``self.tr("...".format(x))`` and the same for ``QCoreApplication.translate(context, text)``;
write ``self.tr("... {n}").format(n=...)`` instead. A fixed text named by a constant
(``self.tr(self.HELP)``) is not flagged, nor the ``tr`` wrapper's own call to ``translate``.
Exit status 1 when any is found.
"""

from __future__ import annotations

import ast
import sys


def _text_argument(call: ast.Call) -> ast.expr | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name == "tr" and call.args:
        return call.args[0]
    if name == "translate" and len(call.args) >= 2:
        return call.args[1]
    return None


def non_literal_translations(path: str) -> list[str]:
    """``path:line: tr(<what>)`` for each translation of a non-literal text."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    wrappers = {
        id(call)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef) and fn.name == "tr"
        for call in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in wrappers:
            continue
        text = _text_argument(node)
        if not isinstance(text, (ast.JoinedStr, ast.BinOp, ast.Call)):
            continue  # a literal, or a fixed text named by a constant
        found.append((node.lineno, f"{path}:{node.lineno}: translates {ast.unparse(text)[:60]}"))
    return [line for _, line in sorted(found)]


def main(argv: list[str]) -> int:
    found = [line for path in argv for line in non_literal_translations(path)]
    for line in found:
        print(line)
    print(f"{len(found)} translations of non-literal text in {len(argv)} files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
