"""The data-quality page with AppTest, and its helpers (reports on disk, record expansion).

The small county loads clean; :func:`build_dq_county` copies it, deletes one outlet's
events on one business day and loads a file with planted defects and a validation report,
so every part of the page has something to show. Expected numbers are recounted from the
warehouse tables or from the planted rows, never taken from the page's own functions.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.reports import expand_records, find_report, reports_dir
from etl.pipeline import LoadOptions, load_paths
from etl.pipeline import reports_dir as etl_reports_dir
from tests.dashboard.apptest_kit import assert_clean, open_view
from tests.warehouse.test_data_quality import PLANTED, write_bad_file
from warehouse.schema import migrate


@dataclass(frozen=True)
class DqCounty:
    """A warehouse with quarantined rows, a validation report and one missing outlet-day."""

    db: Path
    load_id: int
    report: Path
    gap: tuple[str, dt.date]


def build_dq_county(small_warehouse: Path, folder: Path) -> DqCounty:
    """Copy the small county, delete one outlet's events on a February business day, and
    load a file with the PLANTED defects, with its HTML validation report."""
    db = folder / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    with duckdb.connect(str(db)) as con:
        outlet, day = con.execute(
            "SELECT t.outlet_code, t.business_date FROM fact_transaction t"
            " JOIN dim_date d ON d.date = t.business_date"
            " WHERE d.is_business_day AND t.business_date >= DATE '2026-02-02'"
            " ORDER BY t.business_date, t.outlet_code DESC LIMIT 1"
        ).fetchall()[0]
        con.execute(
            "DELETE FROM fact_transaction WHERE outlet_code = ? AND business_date = ?",
            [outlet, day],
        )
    [outcome] = load_paths(db, [write_bad_file(db, folder)], LoadOptions(report=True))
    assert outcome.status == "loaded" and outcome.report is not None, outcome.message
    return DqCounty(db, outcome.load_id, outcome.report, (outlet, day))


@pytest.fixture(scope="module")
def county(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> DqCounty:
    return build_dq_county(small_warehouse, tmp_path_factory.mktemp("dq-page"))


def _run(monkeypatch: pytest.MonkeyPatch, db: Path, **params: str) -> AppTest:
    return open_view(monkeypatch, db, "data_quality", **params)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at: AppTest, column: str):
    """The first table on the page with this column (a pandas frame)."""
    return next(t.value for t in at.dataframe if column in t.value.columns)


def test_loads_rules_rows_report_and_gaps(monkeypatch, county: DqCounty) -> None:
    at = _run(monkeypatch, county.db)
    assert_clean(at)
    with duckdb.connect(str(county.db), read_only=True) as con:
        read, quarantined = con.execute(
            "SELECT sum(rows_read), sum(rows_quarantined) FROM etl_load"
        ).fetchall()[0]
        rules = [r[0] for r in con.execute("SELECT rules FROM etl_quarantine").fetchall()]
    assert _metric(at, "Rows read") == f"{read:,}"
    assert _metric(at, "Rows quarantined") == f"{quarantined:,}" == f"{len(PLANTED)}"
    loads = _table(at, "rows_dropped")
    assert (
        loads["rows_read"] == loads[[c for c in loads if c.startswith("rows_")][1:]].sum(axis=1)
    ).all()
    assert loads["balanced"].all()
    assert (
        loads.loc[loads["load_id"] == county.load_id, "status"].item() == "loaded_with_quarantine"
    )

    assert at.selectbox(key="dq_load").value == county.load_id  # the load with problems
    expected = Counter(rule for failed in rules for rule in failed)
    counts = _table(at, "description")
    assert dict(zip(counts["rule"], counts["rows"], strict=True)) == expected
    rows = _table(at, "txn_id")  # the record's fields became columns
    assert sorted(rows["txn_id"]) == sorted(PLANTED)
    assert set(rows.loc[rows["txn_id"] == "DQ-AMT", "amount"]) == {"-3"}
    at.selectbox(key="dq_rule").select("not_allowed_channel").run()
    assert_clean(at)
    assert sorted(_table(at, "txn_id")["txn_id"]) == ["DQ-CH1", "DQ-CH2"]

    labels = [b.label for b in at.get("download_button")]
    assert "Download the report (HTML)" in labels
    [frame] = at.get("iframe")
    assert frame.proto.src.startswith("/reports/") and not frame.proto.srcdoc
    token = frame.proto.src.removeprefix("/reports/")
    served = _serve(token, "tester")
    assert served.body == county.report.read_bytes()  # the report, from its sandboxed address

    outlet, day = county.gap
    assert _metric(at, "Outlets with missing days") == "1"
    gaps = _table(at, "missing_dates")
    missing = gaps.loc[gaps["outlet_code"] == outlet].iloc[0]
    assert missing["missing_days"] == 1 and missing["missing_dates"] == day.isoformat()
    assert (gaps.loc[gaps["outlet_code"] != outlet, "missing_days"] == 0).all()

    at.selectbox(key="dq_load").select(1).run()  # the outlets file: clean, no report
    assert_clean(at)
    assert any("Every row passed" in s.value for s in at.success)
    assert any("No validation report" in i.value for i in at.info)
    assert not at.get("iframe")


def test_a_moved_report_is_explained(monkeypatch, county: DqCounty, tmp_path: Path) -> None:
    db = tmp_path / "moved.duckdb"
    shutil.copyfile(county.db, db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE etl_load SET report_path = ? WHERE load_id = ?",
            [str(tmp_path / "gone" / "load-000099-x.html"), county.load_id],
        )
    at = _run(monkeypatch, db)
    assert_clean(at)
    assert any("moved or deleted" in w.value for w in at.warning)
    assert "Download the report (HTML)" not in [b.label for b in at.get("download_button")]


def test_clean_county_filters_and_chinese(monkeypatch, small_warehouse: Path) -> None:
    at = _run(monkeypatch, small_warehouse)
    assert_clean(at)
    assert any("Every row passed" in s.value for s in at.success)
    assert any("Every outlet has service events" in s.value for s in at.success)
    february = _table(at, "missing_dates")["business_days"].tolist()
    at.selectbox(key="month").select("2025-12").run()
    assert_clean(at)
    december = _table(at, "missing_dates")
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        days = con.execute(
            "SELECT count(*) FROM dim_date WHERE is_business_day"
            " AND date >= DATE '2025-12-01' AND date < DATE '2026-01-01'"
            " AND date >= (SELECT min(business_date) FROM fact_transaction)"
        ).fetchall()[0][0]
    assert set(december["business_days"]) == {days}
    assert december["business_days"].tolist() != february
    at.multiselect(key="f_outlets").select("03101").run()
    assert_clean(at)
    assert _table(at, "missing_dates")["outlet_code"].tolist() == ["03101"]
    at.selectbox(key="lang").select("zh").run()
    assert_clean(at)
    assert at.title[0].value != "Data quality"
    assert "加载记录" in [s.value for s in at.subheader]
    assert "隔离行数" in [m.label for m in at.metric]


def test_empty_warehouse_and_no_warehouse(monkeypatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as con:
        migrate(con)
    at = _run(monkeypatch, empty)
    assert_clean(at)
    texts = " ".join(i.value for i in at.info)
    assert "Nothing has been loaded" in texts
    assert "completeness cannot be checked" in texts
    missing = _run(monkeypatch, tmp_path / "none.duckdb")
    assert_clean(missing)
    assert "rccdash load" in missing.info[0].value
    assert not missing.dataframe


def test_reports_are_found_where_written_or_beside_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert reports_dir(warehouse) == etl_reports_dir(warehouse)  # the loader's convention
    folder = reports_dir(warehouse)
    folder.mkdir()
    (folder / "load-000001-a.html").write_text("<html><body>ok</body></html>", encoding="utf-8")
    (folder / "load-000002-b.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (folder / "secret.txt").write_text("not a report", encoding="utf-8")
    assert find_report(None, warehouse).status == "none"
    here = find_report(str(folder / "load-000001-a.html"), warehouse)
    assert (here.status, here.html) == ("found", b"<html><body>ok</body></html>")
    moved = find_report("/old/place/load-000001-a.html", warehouse)  # warehouse was moved
    assert moved.status == "found" and moved.path == folder / "load-000001-a.html"
    planted = find_report(str(folder / "load-000002-b.html"), warehouse)
    assert planted.status == "found"  # found, and served only in a sandbox (below)
    assert find_report(str(folder / "secret.txt"), warehouse).status == "missing"
    gone = find_report("/old/place/load-000003-c.html", warehouse)
    assert (gone.status, gone.path) == ("missing", Path("/old/place/load-000003-c.html"))


def test_records_expand_into_columns_without_clobbering_the_row() -> None:
    rows = pl.DataFrame(
        {
            "load_id": [4, 4],
            "source_row": [2, 7],
            "rules": ["missing_txn_id", "not_allowed_channel"],
            "raw_record": [
                json.dumps({"txn_id": None, "channel": "counter", "rules": "x"}),
                json.dumps({"txn_id": "T7", "channel": "fax", "amount": "5"}),
            ],
        }
    )
    out = expand_records(rows)
    assert out.columns == [
        "load_id",
        "source_row",
        "rules",
        "txn_id",
        "channel",
        "record.rules",
        "amount",
    ]
    assert out["rules"].to_list() == ["missing_txn_id", "not_allowed_channel"]
    assert out["record.rules"].to_list() == ["x", None]
    assert out["amount"].to_list() == [None, "5"]
    assert expand_records(rows.clear()).is_empty()


def _serve(token: str, username: str | None):
    """Ask the server's /reports route for ``token`` as ``username`` (None: nobody)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from starlette.requests import Request

    from dashboard.reports import report_route

    account = None if username is None else SimpleNamespace(username=username)
    route = report_route(lambda request: account)
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/reports/{token}",
        "headers": [],
        "query_string": b"",
        "path_params": {"token": token},
    }
    # In its own thread: an earlier test (Playwright's sync API) may leave an
    # event loop running in this one, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, route.endpoint(Request(scope))).result()


def test_a_report_is_served_sandboxed_and_only_to_whom_it_was_offered() -> None:
    from dashboard.reports import offer

    token = offer(b"<h1>report</h1><script>alert(1)</script>", "zhao").removeprefix("/reports/")
    served = _serve(token, "zhao")
    assert served.status_code == 200 and served.body.startswith(b"<h1>report</h1>")
    policy = served.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy
    assert "default-src 'none'" in policy
    assert _serve(token, "someone else").status_code == 404
    assert _serve(token, None).status_code == 404
    assert _serve("guessed-token", "zhao").status_code == 404


def test_after_a_retry_the_released_row_leaves_the_list_and_the_retry_is_a_load(
    monkeypatch, county: DqCounty, tmp_path: Path
) -> None:
    from etl.retry import retry_quarantine

    db = tmp_path / "w.duckdb"
    shutil.copyfile(county.db, db)
    outlets = tmp_path / "outlets_extra.csv"
    outlets.write_text(
        "outlet_code,outlet_name,township,outlet_type,counter_windows,self_service_devices,"
        "opened_on,latitude,longitude\n99999,新开网点,城关,service_point,1,0,2020-01-01,29.5,110.7\n",
        encoding="utf-8",
    )
    [added] = load_paths(db, [outlets], LoadOptions(report=False))
    assert added.status == "loaded" and added.loaded == 1, added.message
    [retried] = retry_quarantine(db)  # DQ-OUT referred to outlet 99999, which now exists
    assert (retried.checked, retried.loaded, retried.quarantined) == (len(PLANTED), 1, 3)

    at = _run(monkeypatch, db)
    assert_clean(at)
    assert _metric(at, "Rows quarantined") == "3"
    loads = _table(at, "rows_dropped")
    retry = loads.loc[loads["status"] == "retry"].iloc[0]
    assert (retry["load_id"], retry["rows_read"], retry["rows_loaded"]) == (retried.load_id, 4, 1)
    assert retry["balanced"]
    assert at.selectbox(key="dq_load").value == county.load_id
    assert sorted(_table(at, "txn_id")["txn_id"]) == ["DQ-AMT", "DQ-CH1", "DQ-CH2"]
    assert any("rccdash quarantine --retry" in c.value for c in at.caption)
