"""What counts as "satisfied" is configuration (config/kpi.yaml ``ratings``), read in one place."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import duckdb
import pytest

import warehouse.settings as settings
from warehouse import marts
from warehouse.kpi import service_summary

MONTH = ("2026-01-01", "2026-02-01")


def _independent(con: duckdb.DuckDBPyConnection, threshold: int) -> float:
    """Served customers on assisted channels rated >= threshold, over those rated."""
    # Served: completed or error (docs/kpi.md), not a reversed original, by business date.
    satisfied, rated = con.execute(
        "SELECT count(*) FILTER (WHERE satisfaction >= ?), count(satisfaction)"
        " FROM fact_transaction WHERE channel IN ('counter', 'phone')"
        " AND status IN ('completed', 'error') AND NOT is_reversed"
        " AND business_date >= ? AND business_date < ?",
        [threshold, *MONTH],
    ).fetchall()[0]
    return satisfied / rated


def _with_threshold(monkeypatch: pytest.MonkeyPatch, threshold: int) -> None:
    real = settings.load_config

    def patched(name: str) -> dict:
        data = real(name)
        if name != "kpi":
            return data
        data = copy.deepcopy(data)
        data["ratings"]["satisfied_from"] = threshold
        return data

    monkeypatch.setattr(settings, "load_config", patched)


@pytest.mark.parametrize("threshold", [4, 5])
def test_satisfaction_rate_follows_the_configured_threshold(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    _with_threshold(monkeypatch, threshold)
    with duckdb.connect(str(db)) as con:
        marts.refresh(con)  # a changed threshold rebuilds the marts that store the flag
        if threshold != 4:
            assert {m for m, (mode, _) in marts.modes(con).items() if mode == "full"} >= {
                "mart_event",
                "mart_event_cell",
            }
        for use_marts in (False, True):
            rate = service_summary(con, start=MONTH[0], end=MONTH[1], use_marts=use_marts)
            assert rate["satisfaction_rate"][0] == pytest.approx(_independent(con, threshold))


def test_a_threshold_outside_the_scale_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_threshold(monkeypatch, 6)
    with pytest.raises(ValueError, match=r"ratings\.satisfied_from must be 1-5"):
        settings.satisfied_from()
