"""docs/architecture.md stays true: every module is in its table, and each imports only the
modules listed below it (so there is no cycle and the layers read top to bottom)."""

from __future__ import annotations

import ast
import re

from helpers import REPO

SOURCE = REPO / "src" / "kam_anki"
_ROW = re.compile(r"^\| ((?:`[a-z_]+`(?:, )?)+) \|")


def documented_order() -> list[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    order: list[str] = []
    for line in text.splitlines():
        row = _ROW.match(line)
        if row:
            order += re.findall(r"`([a-z_]+)`", row.group(1))
    return order


def own_imports(module: str) -> set[str]:
    """The kam_anki modules ``module`` imports, wherever in it (lazy imports too)."""
    tree = ast.parse((SOURCE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "kam_anki":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kam_anki."):
            found.add(str(node.module).split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("kam_anki.")}
    return found - {module, "__version__"}


def test_every_module_is_in_the_table_once() -> None:
    order = documented_order()
    modules = {path.stem for path in SOURCE.glob("*.py")} - {"__init__", "__main__"}
    assert sorted(order) == sorted(modules)


def test_each_module_imports_only_modules_below_it() -> None:
    order = documented_order()
    rank = {name: index for index, name in enumerate(order)}
    upward = [
        f"{module} imports {imported}, listed above it"
        for module in order
        for imported in sorted(own_imports(module))
        if rank[imported] < rank[module]
    ]
    assert upward == []
