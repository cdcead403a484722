"""The rows of a staged file the validation report (Great Expectations) checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl import gx_report
from etl.mapping import build_mapping
from etl.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]


def _staged(con: duckdb.DuckDBPyConnection, records: int) -> None:
    """Staged kpi_targets rows 1..records, stored out of order, every seventh one dropped."""
    con.execute(
        f"""CREATE OR REPLACE TABLE stg AS SELECT i AS __row,
               CASE WHEN i % 7 = 0 THEN 'subtotal_row' END AS __drop,
               2026 AS year, 'kpi' || i AS kpi, NULL::VARCHAR AS outlet_code,
               i / 10 AS target
            FROM range(1, {records + 1}) t(i) ORDER BY hash(i)"""
    )


def test_the_sample_spans_the_file_in_file_order() -> None:
    mapping = build_mapping(["year", "kpi", "outlet_code", "target"], load_profile("default"))
    limit = gx_report.sample_rows()
    records = 5 * limit
    with duckdb.connect() as con:
        _staged(con, records)
        got = [r["__row"] for r in gx_report.sample(con, mapping).to_pylist()]
        again = [r["__row"] for r in gx_report.sample(con, mapping).to_pylist()]
    assert got == again  # the same file gives the same sample
    assert got == sorted(set(got))  # file order
    assert not [r for r in got if r % 7 == 0]  # only rows that load
    assert 0.9 * limit <= len(got) <= limit
    assert got[0] < records * 0.01 and got[-1] > records * 0.99  # start to end of the file
    # Even and odd records alike, though the step between picks would be even.
    assert 0.45 < sum(r % 2 for r in got) / len(got) < 0.55
    quarters = [sum(1 for r in got if r * 4 // (records + 1) == q) for q in range(4)]
    assert min(quarters) > 0.2 * len(got)  # every quarter of the file is in it


def test_a_small_file_is_sampled_whole() -> None:
    mapping = build_mapping(["year", "kpi", "outlet_code", "target"], load_profile("default"))
    with duckdb.connect() as con:
        _staged(con, 100)
        got = gx_report.sample(con, mapping).to_pylist()
    assert [r["__row"] for r in got] == [i for i in range(1, 101) if i % 7 != 0]
    assert got[0] == {"__row": 1, "year": 2026, "kpi": "kpi1", "outlet_code": None, "target": 0.1}


def test_a_sample_size_below_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gx_report, "settings", lambda: {"gx_sample_rows": 0})
    with pytest.raises(ValueError, match="gx_sample_rows must be at least 1"):
        gx_report.Checker()


def test_the_report_process_gives_the_same_results_as_gx_in_process() -> None:
    """The report process loads some of GX's dependencies lazily; that must change nothing."""
    import pyarrow as pa

    rows = pa.table(
        {
            "__row": [1, 2, 3, 4],
            "year": [2026, 2026, 1999, 2026],
            "kpi": ["wait_p90_min", "wait_p90_min", None, "complaints_per_10k"],
            "outlet_code": ["03101", "03101", None, "1E5"],
            "target": [8.0, -1.0, 5.0, None],
        }
    )
    with gx_report.Checker() as checker:
        from_process = checker.check(rows, "kpi_targets").result(timeout=120)
    in_process = gx_report.validate(duckdb.from_arrow(rows).df(), "kpi_targets")
    assert from_process == in_process
    assert any(not r["success"] for r in in_process)  # the sample does fail expectations


def test_lazy_packages_are_not_executed_until_used() -> None:
    code = (
        "import sys; from etl.gx_report import _LazyImports;"
        " sys.meta_path.insert(0, _LazyImports(['email']));"
        " import email.mime.text as t; from importlib.util import _LazyModule;"
        " print(isinstance(t, _LazyModule), t.MIMEText('x')['Content-Type'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["True", "text/plain;", 'charset="us-ascii"']
