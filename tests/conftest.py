"""Shared fixtures: one small synthetic county, generated and loaded once per test session."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from etl.pipeline import LoadOptions, load_paths
from rccdash.synthetic.generate import GenerateOptions, GenerateResult, generate_county
from warehouse.settings import load_config


@dataclass(frozen=True)
class SmallCounty:
    """Exports of a 10-outlet county over December-February, and the county behind them."""

    exports: Path
    result: GenerateResult
    config: dict
    options: GenerateOptions


def small_county_config() -> dict:
    """The demo configuration with the self-service devices arriving in the second month."""
    cfg = copy.deepcopy(load_config("synthetic_county"))
    cfg["channels"]["mid_year_devices"]["month"] = 1
    return cfg


@pytest.fixture(scope="session")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> SmallCounty:
    out = tmp_path_factory.mktemp("county")
    options = GenerateOptions(
        out, outlets=10, months=3, start="2025-12", seed=11, volume=0.5, workers=1
    )
    cfg = small_county_config()
    return SmallCounty(out, generate_county(options, config=cfg), cfg, options)


@pytest.fixture(scope="session")
def small_warehouse(small_county: SmallCounty, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    outcomes = load_paths(db, [small_county.exports], LoadOptions(report=False))
    assert all(o.status == "loaded" for o in outcomes), [(o.path.name, o.message) for o in outcomes]
    return db
