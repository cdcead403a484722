"""The rows of a staged file the validation report (Great Expectations) checks."""

from __future__ import annotations

import duckdb

from etl import gx_report
from etl.kinds import export_kinds
from etl.mapping import build_mapping, quote
from etl.profiles import load_profile
from etl.rules import settings


def test_the_sample_is_the_first_kept_rows_in_file_order() -> None:
    mapping = build_mapping(["year", "kpi", "outlet_code", "target"], load_profile("default"))
    limit = int(settings()["gx_sample_rows"])
    with duckdb.connect() as con:
        # More rows than the sample, stored out of order, every seventh one dropped.
        con.execute(
            f"""CREATE TABLE stg AS SELECT i AS __row,
                   CASE WHEN i % 7 = 0 THEN 'subtotal_row' END AS __drop,
                   2026 AS year, 'kpi' || i AS kpi, NULL::VARCHAR AS outlet_code,
                   i / 10 AS target
                FROM range(1, {limit * 2}) t(i) ORDER BY hash(i)"""
        )
        columns = ", ".join(["__row", *(quote(c) for c in export_kinds()["kpi_targets"].types)])
        expected = con.sql(
            f"SELECT {columns} FROM stg WHERE __drop IS NULL ORDER BY __row LIMIT {limit}"
        ).fetchall()
        got = gx_report.sample(con, mapping)
    assert got.num_rows == limit
    assert [tuple(r.values()) for r in got.to_pylist()] == expected
