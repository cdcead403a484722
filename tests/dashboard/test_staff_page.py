"""The staff page's logic, with Streamlit's AppTest on the small county's warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_kit import assert_clean, open_view


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "staff", **params)


def _table(at: AppTest, column: str):
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _sql(db: Path, query: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


@pytest.fixture(scope="module")
def complained(small_warehouse: Path) -> tuple[str, int]:
    """The teller with most complaints in the three months, and how many."""
    return _sql(
        small_warehouse,
        """SELECT c.staff_id, count(*) FROM fact_complaint c JOIN dim_staff s
             ON s.staff_id = c.staff_id AND s.is_current AND s.position = 'teller'
           WHERE c.received_at >= DATE '2025-12-01' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""",
    )[0]


@pytest.fixture(scope="module")
def transferred(small_warehouse: Path) -> tuple[str, str, str]:
    """A teller who moved outlet in the three months: (id, old outlet, new outlet)."""
    return _sql(
        small_warehouse,
        """SELECT a.staff_id, a.outlet_code, b.outlet_code FROM dim_staff a JOIN dim_staff b
             ON a.staff_id = b.staff_id AND a.valid_to = b.valid_from
           WHERE a.outlet_code <> b.outlet_code AND b.position = 'teller'
             AND b.valid_from > DATE '2025-12-01' ORDER BY 1 LIMIT 1""",
    )[0]


def test_default_is_the_first_teller_in_view(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    first = _sql(
        small_warehouse,
        """SELECT min(staff_id) FROM dim_staff WHERE position = 'teller'
             AND valid_from < DATE '2026-03-01'
             AND (valid_to IS NULL OR valid_to > DATE '2026-02-01')""",
    )[0][0]
    assert at.selectbox(key="staff_pick").value == first
    assert at.subheader[0].value.startswith(first)
    assert "Teller at" in at.markdown[0].value


def test_person_from_the_url_with_stars_peers_trends_history(
    monkeypatch, small_warehouse: Path, transferred
) -> None:
    person, old, new = transferred
    at = _run(monkeypatch, small_warehouse, staff=person)
    assert_clean(at)
    assert at.selectbox(key="staff_pick").value == person
    posts = _table(at, "Until")
    assert posts["Outlet"].str.extract(r"outlet=(\d+)")[0].tolist()[:2] == [new, old]
    assert posts["Until"].iloc[0] == "current"
    peers = _table(at, "Peers' median")
    tellers = _sql(
        small_warehouse,
        """SELECT count(DISTINCT t.staff_id) FROM fact_transaction t JOIN dim_staff s
             ON s.staff_id = t.staff_id AND s.valid_from <= t.business_date
            AND (s.valid_to IS NULL OR t.business_date < s.valid_to)
           WHERE s.position = 'teller' AND t.business_date >= DATE '2026-02-01'
             AND t.business_date < DATE '2026-03-01'""",
    )[0][0]
    assert f"the {tellers} people with the position Teller" in " ".join(c.value for c in at.caption)
    assert len(peers) == 7
    assert len(at.get("plotly_chart")) >= 6  # history, breakdown, peers, trends
    assert "Stars, 2026-02" in [s.value for s in at.subheader]


def test_complaints_and_penalties_over_a_quarter(
    monkeypatch, small_warehouse: Path, complained
) -> None:
    person, count = complained
    at = _run(monkeypatch, small_warehouse, staff=person)
    at.segmented_control(key="f_period").set_value("quarter").run()
    at.selectbox(key="quarter").select("2025Q4").run()
    december = _table(at, "What the customer said")
    at.selectbox(key="quarter").select("2026Q1").run()
    assert_clean(at)
    assert len(december) + len(_table(at, "What the customer said")) == count
    penalties = _sql(
        small_warehouse,
        """SELECT count(*) FROM fact_complaint WHERE staff_id = ? AND substantiated
             AND received_at >= DATE '2026-01-01' AND received_at < DATE '2026-04-01'""",
        person,
    )[0][0]
    if penalties:
        register = at.dataframe[-1].value  # the penalty entries close the page
        assert "What the customer said" not in register.columns
        assert len(register) == penalties
    else:
        assert "Nothing to list for this selection." in [i.value for i in at.info]


def test_filters_and_language(monkeypatch, small_warehouse: Path, transferred) -> None:
    person, old, _ = transferred
    at = _run(monkeypatch, small_warehouse, staff=person)
    at.multiselect(key="f_outlets").set_value([old]).run()
    assert_clean(at)
    still_there = _sql(
        small_warehouse,
        """SELECT count(*) FROM dim_staff WHERE staff_id = ? AND outlet_code = ?
             AND valid_from < DATE '2026-03-01'
             AND (valid_to IS NULL OR valid_to > DATE '2026-02-01')""",
        person,
        old,
    )[0][0]
    moved_away = any("does not work at the selected outlets" in i.value for i in at.info)
    assert moved_away == (not still_there)
    picker = at.selectbox(key="staff_pick")
    assert (
        len(picker.options)
        == _sql(
            small_warehouse,
            """SELECT count(DISTINCT staff_id) FROM dim_staff WHERE outlet_code = ?
             AND valid_from < DATE '2026-03-01'
             AND (valid_to IS NULL OR valid_to > DATE '2026-02-01')""",
            old,
        )[0][0]
    )
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value == "员工"
    assert "任职经历" in [s.value for s in at.subheader]


def test_missing_warehouse_explains_how_to_load(monkeypatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(at)
    assert "rccdash load" in at.info[0].value
    assert not at.dataframe
