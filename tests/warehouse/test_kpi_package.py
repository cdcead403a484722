"""The KPI package's public names, imported on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import warehouse.kpi as kpi

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_to_its_module_attribute() -> None:
    assert sorted(kpi.__all__) == sorted(kpi._WHERE)
    for name, module in kpi._WHERE.items():
        assert getattr(kpi, name) is getattr(importlib.import_module(module), name)
    assert set(kpi.__all__) <= set(dir(kpi))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        kpi.no_such_kpi  # noqa: B018
    except AttributeError as exc:
        assert "no_such_kpi" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_mart_refresh_does_not_import_the_whole_layer() -> None:
    # The ETL imports warehouse.marts at every load: it needs the relations, not pandas.
    code = "import sys, warehouse.marts; print('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["False"]


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    # Importing a submodule sets it as an attribute of the package; a public name equal to
    # a submodule's would then resolve to the module instead of the function.
    submodules = {m.rsplit(".", 1)[1] for m in kpi._WHERE.values()}
    assert not submodules & set(kpi._WHERE)
    modules = sorted(set(kpi._WHERE.values()))
    code = (
        f"import importlib, warehouse.kpi as k; [importlib.import_module(m) for m in {modules!r}];"
        " print(all(not isinstance(getattr(k, n), type(k)) for n in k.__all__))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["True"]
