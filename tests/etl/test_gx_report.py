"""The rows of a staged file the validation report (Great Expectations) checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from etl import gx_report
from etl.mapping import build_mapping
from etl.profiles import load_profile
from etl.rules import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_sample_spans_the_file_in_file_order() -> None:
    mapping = build_mapping(["year", "kpi", "outlet_code", "target"], load_profile("default"))
    limit = int(settings()["gx_sample_rows"])
    records = 3 * limit + 1  # so every fourth record is taken
    with duckdb.connect() as con:
        # More rows than the sample, stored out of order, every seventh one dropped.
        con.execute(
            f"""CREATE TABLE stg AS SELECT i AS __row,
                   CASE WHEN i % 7 = 0 THEN 'subtotal_row' END AS __drop,
                   2026 AS year, 'kpi' || i AS kpi, NULL::VARCHAR AS outlet_code,
                   i / 10 AS target
                FROM range(1, {records + 1}) t(i) ORDER BY hash(i)"""
        )
        got = gx_report.sample(con, mapping)
    taken = [i for i in range(1, records + 1) if i % 4 == 0 and i % 7 != 0]
    assert [r["__row"] for r in got.to_pylist()] == taken
    assert got.num_rows <= limit
    assert taken[-1] > records - 4  # the end of the file is in it, not only its start
    assert got.to_pylist()[0] == {
        "__row": 4,
        "year": 2026,
        "kpi": "kpi4",
        "outlet_code": None,
        "target": 0.4,
    }


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
