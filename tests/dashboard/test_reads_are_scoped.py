"""No page reads the warehouse around the scope: a static check of the dashboard's code.

A warehouse read is a function whose first parameter is the connection (``con``). Every
such function the dashboard imports must be declared in ``warehouse.reads.READS`` (which
``tests/warehouse/test_scope.py`` tests read by read) and be called only through
``data.fetch``; nothing in the dashboard but ``dashboard/data.py`` opens DuckDB.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from warehouse.reads import READS
from warehouse.settings import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "dashboard"
MODULES = sorted(DASHBOARD.rglob("*.py"))
# The one module that applies the scope (it calls the scope's own lookup of an outlet's
# people), and the writes a page may make, each behind its own permission check.
GATEKEEPER = DASHBOARD / "data.py"
WRITES = {"publish_month"}


def _warehouse_imports(tree: ast.AST) -> dict[str, object]:
    """Names imported from ``warehouse.*`` in a module, resolved to their objects."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("warehouse"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                found[alias.asname or alias.name] = getattr(module, alias.name)
    return found


def _is_read(obj: object) -> bool:
    """A function of the warehouse taking the connection first."""
    if not callable(obj) or inspect.isclass(obj):
        return False
    try:
        params = list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "con"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_every_warehouse_read_is_declared_and_goes_through_fetch(path: Path) -> None:
    if path == GATEKEEPER:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = _warehouse_imports(tree)
    reads = {name for name, obj in imported.items() if _is_read(obj) and name not in WRITES}
    undeclared = sorted(name for name in reads if imported[name] not in READS)
    assert not undeclared, f"{path.name} imports reads without a declared scope: {undeclared}"
    through_fetch = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "fetch"
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            through_fetch.add(id(node.args[0]))
    direct = sorted(
        {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in reads
        }
    )
    assert not direct, f"{path.name} calls {direct} directly instead of through data.fetch"
    passed = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
        and node.id in reads
        and id(node) not in through_fetch
        and not isinstance(getattr(node, "ctx", None), ast.Store)
    ]
    assert not passed, f"{path.name} uses {sorted({n.id for n in passed})} outside data.fetch"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_only_the_data_module_opens_the_warehouse(path: Path) -> None:
    if path.name == "data.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert "duckdb" not in {a.name for a in node.names}, path.name
        if isinstance(node, ast.ImportFrom):
            assert node.module != "duckdb", path.name


def test_the_check_recognises_a_read_and_a_helper() -> None:
    from warehouse.kpi import service_summary
    from warehouse.settings import load_config

    assert _is_read(service_summary) and service_summary in READS
    assert not _is_read(load_config)
