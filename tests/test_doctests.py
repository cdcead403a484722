"""The ``>>>`` examples in docstrings that stand alone run as tests.

The KPI layer's examples call a warehouse connection (``con``) and show no output; they
read as usage notes and are not run here.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

STANDALONE = [
    "dashboard.figures.overview",
    "dashboard.gate",
    "dashboard.i18n",
    "warehouse.kpi.catalogue",
    "warehouse.periods",
    "warehouse.privacy",
]


@pytest.mark.parametrize("name", STANDALONE)
def test_examples_in_docstrings_hold(name: str) -> None:
    results = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{name} has no example left to run"
    assert results.failed == 0
