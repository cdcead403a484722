"""The ETL pipeline on files the tests write: encodings, Excel, every defect, rejection.

Each defect of brief section 7 is planted in one row and must land in quarantine under the
right rule name; every file must conserve rows (read = loaded + duplicate + quarantined +
dropped); a rejected file must leave the warehouse byte-for-byte as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from etl.kinds import export_kinds
from etl.pipeline import LoadOptions, load_paths, reports_dir
from rccdash.cli import app
from tests.export_rows import transaction_row

HEADER = list(export_kinds()["transactions"].types)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def warehouse(small_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the small county's warehouse, to load test files into."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    return db


@pytest.fixture(scope="module")
def on_duty(small_warehouse: Path) -> tuple[str, str, dt.date]:
    """A (staff, outlet, day) from the roster, so planted rows pass the reference checks."""
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        return con.execute(
            "SELECT staff_id, outlet_code, work_date FROM fact_roster WHERE window_no IS NOT NULL"
            " AND work_date BETWEEN DATE '2025-12-10' AND DATE '2025-12-20' ORDER BY ALL LIMIT 1"
        ).fetchone()


def _write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _load(db: Path, *paths: Path, **options) -> list:
    return load_paths(db, list(paths), LoadOptions(report=False, **options))


def _conserved(outcome) -> bool:
    return (
        outcome.read == outcome.loaded + outcome.duplicate + outcome.quarantined + outcome.dropped
    )


def test_every_defect_lands_in_quarantine_under_its_rule(
    warehouse: Path, on_duty, tmp_path: Path
) -> None:
    staff, outlet, day = on_duty
    nxt = day + dt.timedelta(days=40)
    planted = {
        "T-ORDER1": ({"completed_at": f"{day} 10:04:00"}, "timestamp_order"),
        "T-ORDER2": ({"ticket_at": f"{day} 10:06:00"}, "timestamp_order"),
        "T-LONG": ({"completed_at": f"{day} 15:10:00"}, "duration_over_4h"),
        "T-FUTURE": (
            {
                "ticket_at": "2099-01-01 10:00:00",
                "called_at": "",
                "started_at": "2099-01-01 10:01:00",
                "completed_at": "2099-01-01 10:02:00",
            },
            "in_future",
        ),
        "T-NIGHT": (
            {
                "ticket_at": f"{day} 23:30:00",
                "called_at": "",
                "started_at": f"{day} 23:31:00",
                "completed_at": f"{day} 23:35:00",
            },
            "outside_counter_hours",
        ),
        "T-PERIOD": (
            {
                "ticket_at": f"{nxt} 10:00:00",
                "called_at": "",
                "started_at": f"{nxt} 10:01:00",
                "completed_at": f"{nxt} 10:02:00",
            },
            "outside_file_period",
        ),
        "T-OUTLET": ({"outlet_code": "99999"}, "unknown_outlet"),
        "T-STAFF": ({"staff_id": "999999"}, "staff_not_assigned"),
        "6.22E+18": ({}, "id_not_text_txn_id"),
        "T-CHANNEL": ({"channel": "carrier_pigeon"}, "not_allowed_channel"),
        "T-AMOUNT": ({"amount": "-5.00"}, "out_of_range_amount"),
        "T-BADTIME": ({"ticket_at": "2025-12-32 10:00:00"}, "bad_type_ticket_at"),
        "T-RATING": ({"satisfaction": "9"}, "out_of_range_satisfaction"),
        "T-ARRIVAL": (
            {"ticket_at": "", "called_at": "", "started_at": "", "completed_at": ""},
            "missing_arrival",
        ),
    }
    rows = [transaction_row(txn, staff, outlet, day, **over) for txn, (over, _) in planted.items()]
    rows.append(transaction_row("", staff, outlet, day))  # missing id
    good = [transaction_row(f"T-GOOD{i}", staff, outlet, day) for i in range(40)]
    rows += [*good, good[0]]  # an identical copy: a duplicate, not a second event
    conflict = [
        transaction_row("T-TWICE", staff, outlet, day),
        transaction_row("T-TWICE", staff, outlet, day, amount="9.00"),
    ]
    rows += conflict
    path = _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows)
    [outcome] = _load(warehouse, path)
    assert outcome.status == "loaded", outcome.message
    assert _conserved(outcome)
    assert (outcome.loaded, outcome.duplicate) == (40, 1)
    assert outcome.quarantined == len(planted) + 1 + 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = {
            json.loads(raw)["txn_id"] or "<empty>": set(rules)
            for rules, raw in con.execute(
                "SELECT rules, raw_record FROM etl_quarantine WHERE load_id = ?", [outcome.load_id]
            ).fetchall()
        }
        loaded = con.execute(
            "SELECT count(*) FROM fact_transaction WHERE txn_id LIKE 'T-GOOD%'"
        ).fetchone()[0]
    for txn, (_, rule) in planted.items():
        assert rule in found[txn], (txn, found[txn])
    assert "missing_txn_id" in found["<empty>"]
    assert found["T-TWICE"] == {"conflicting_rows_same_key"}
    assert loaded == 40


def test_same_id_with_other_content_than_loaded_is_a_conflict(
    warehouse: Path, on_duty, tmp_path: Path
) -> None:
    staff, outlet, day = on_duty
    first = _write(
        tmp_path / f"transactions_{day:%Y-%m}_a.csv",
        [transaction_row("T-X", staff, outlet, day), transaction_row("T-Y", staff, outlet, day)],
    )
    _load(warehouse, first)
    second = _write(
        tmp_path / f"transactions_{day:%Y-%m}_b.csv",
        [
            transaction_row("T-X", staff, outlet, day),
            transaction_row("T-Y", staff, outlet, day, amount="1.00"),
            transaction_row("T-Z", staff, outlet, day),
        ],
    )
    [outcome] = _load(warehouse, second)
    assert (outcome.loaded, outcome.duplicate, outcome.quarantined) == (1, 1, 1)
    assert outcome.rule_counts == {"conflicts_with_loaded": 1}


def test_gbk_file_with_chinese_headers_and_values(warehouse: Path, on_duty, tmp_path: Path) -> None:
    staff, outlet, day = on_duty
    header = [
        "交易流水号",
        "网点号",
        "渠道",
        "业务类型",
        "柜员号",
        "窗口号",
        "交易金额",
        "客户类型",
        "取号时间",
        "开始办理时间",
        "办理结束时间",
        "冲正标志",
        "评价结果",
    ]
    rows = [
        [
            "G-1",
            outlet,
            "柜面",
            "存款",
            staff,
            "1",
            "1,200.00",
            "贵宾",
            f"{day} 09:00:00",
            f"{day} 09:03:00",
            f"{day} 09:06:00",
            "正常",
            "非常满意",
        ],
        [
            "G-2",
            f"０{outlet[1:]}",
            "柜面",
            "残损币兑换",
            staff,
            "1",
            "50.00",
            "普通",
            f"{day} 09:10:00",
            f"{day} 09:12:00",
            f"{day} 09:15:00",
            "正常",
            "满意",
        ],
    ]
    path = tmp_path / f"交易明细_{day:%Y-%m}.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    [outcome] = _load(warehouse, path)
    assert outcome.status == "loaded" and outcome.loaded == 2, (
        outcome.message,
        outcome.rule_counts,
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute(
            "SELECT txn_id, outlet_code, channel, business_type, amount::DOUBLE,"
            " customer_segment, satisfaction, wait_s"
            " FROM fact_transaction WHERE txn_id LIKE 'G-%' ORDER BY 1"
        ).fetchall()
    assert got == [
        ("G-1", outlet, "counter", "deposit", 1200.0, "vip", 5, 180),
        ("G-2", outlet, "counter", "note_exchange", 50.0, "regular", 4, 120),
    ]


def test_xlsx_with_title_row_and_subtotal_row(warehouse: Path, on_duty, tmp_path: Path) -> None:
    staff, outlet, day = on_duty
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["清水县联社交易明细"])
    sheet.append(HEADER)
    for i in range(3):
        row = transaction_row(f"X-{i}", staff, outlet, day)
        sheet.append([row[c] for c in HEADER])
    sheet.append(["合计", "", "", "", "", "", "1500.00"])
    path = tmp_path / f"transactions_{day:%Y-%m}.xlsx"
    book.save(path)
    [outcome] = _load(warehouse, path)
    assert (outcome.read, outcome.loaded, outcome.dropped) == (4, 3, 1)
    assert outcome.rule_counts == {"subtotal_row": 1}


def test_missing_required_column_rejects_the_file_and_changes_nothing(
    warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(
        "complaint_id,received_at,channel,outlet_code,category\n"
        "C1,2025-12-01 10:00:00,hotline,03101,attitude\n",
        encoding="utf-8",
    )
    before = _sha(warehouse)
    result = CliRunner().invoke(
        app, ["load", str(path), "--db", str(warehouse), "--kind", "complaints", "--no-report"]
    )
    assert result.exit_code == 1, result.output
    assert "severity" in result.output and "status" in result.output
    assert _sha(warehouse) == before


def test_too_many_bad_rows_rejects_the_file(warehouse: Path, on_duty, tmp_path: Path) -> None:
    staff, outlet, day = on_duty
    rows = [transaction_row(f"B-{i}", staff, outlet, day, channel="fax") for i in range(8)] + [
        transaction_row("B-ok", staff, outlet, day)
    ]
    before = _sha(warehouse)
    [outcome] = _load(warehouse, _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows))
    assert outcome.status == "rejected"
    assert "not_allowed_channel" in outcome.message
    assert _sha(warehouse) == before


def test_a_corrected_file_reloads_cleanly(warehouse: Path, on_duty, tmp_path: Path) -> None:
    staff, outlet, day = on_duty
    rows = [transaction_row(f"C-{i}", staff, outlet, day) for i in range(5)]
    rows[2]["channel"] = "carrier_pigeon"
    [first] = _load(warehouse, _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows))
    assert (first.loaded, first.quarantined) == (4, 1)
    rows[2]["channel"] = "counter"
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    [second] = _load(warehouse, _write(fixed / f"transactions_{day:%Y-%m}.csv", rows))
    assert (second.loaded, second.duplicate, second.quarantined) == (1, 4, 0)


def test_cli_exit_codes_and_quarantine_listing(warehouse: Path, on_duty, tmp_path: Path) -> None:
    staff, outlet, day = on_duty
    rows = [
        transaction_row("Q-1", staff, outlet, day),
        transaction_row("Q-2", staff, outlet, day, amount="-1"),
    ]
    path = _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows)
    runner = CliRunner()
    ok = runner.invoke(app, ["load", str(path), "--db", str(warehouse), "--no-report"])
    assert ok.exit_code == 0, ok.output
    listing = runner.invoke(app, ["quarantine", "--db", str(warehouse)])
    assert "out_of_range_amount" in listing.output and "Q-2" in listing.output
    assert (
        runner.invoke(
            app, ["load", str(path), "--db", str(warehouse), "--profile", "nope"]
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(app, ["load", str(tmp_path / "absent.csv"), "--db", str(warehouse)]).exit_code
        == 2
    )
    # A rejected file is named once in its message, whichever part of the load wrote it.
    bad = tmp_path / "bad" / path.name
    bad.parent.mkdir()
    bad.write_bytes(path.read_bytes().replace(b"Q-1", b"Q-\xff"))
    rejected = runner.invoke(app, ["load", str(bad), "--db", str(warehouse), "--no-report"])
    assert rejected.exit_code == 1
    said = " ".join(rejected.output.rsplit("┘", 1)[1].split())  # the lines under the table
    assert "not valid utf-8" in said and said.count(bad.name) == 1, said


def test_validation_report_agrees_with_the_sql_rules(
    warehouse: Path, on_duty, tmp_path: Path
) -> None:
    staff, outlet, day = on_duty
    rows = [transaction_row(f"R-{i}", staff, outlet, day) for i in range(6)]
    rows[1]["channel"] = "fax"
    rows[4]["completed_at"] = f"{day} 10:00:00"
    [outcome] = load_paths(warehouse, [_write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows)])
    assert outcome.report.parent == reports_dir(warehouse)  # beside its own warehouse
    report = outcome.report.read_text(encoding="utf-8")
    assert "expect_column_values_to_be_in_set" in report
    assert outcome.rule_counts == {"not_allowed_channel": 1, "timestamp_order": 1}
    assert report.count("✘") == 2  # GX flags exactly the two expectations the SQL rules flagged


def test_county_wide_targets_with_the_same_key_are_compared(tmp_path: Path) -> None:
    path = tmp_path / "kpi_targets.csv"
    path.write_text(
        "year,kpi,outlet_code,target\n2026,service_level,,0.8\n2026,service_level,,0.8\n"
        "2026,wait_p90_s,,900\n2026,wait_p90_s,,800\n",
        encoding="utf-8",
    )
    [outcome] = _load(tmp_path / "w.duckdb", path)
    assert (outcome.loaded, outcome.duplicate, outcome.quarantined) == (1, 1, 2)
    assert outcome.rule_counts == {"conflicting_rows_same_key": 2}


def test_a_county_wide_target_already_loaded_is_a_duplicate_or_replaced(tmp_path: Path) -> None:
    first, second = tmp_path / "kpi_targets_a.csv", tmp_path / "kpi_targets_b.csv"
    first.write_text(
        "year,kpi,outlet_code,target\n2026,service_level,,0.8\n2026,wait_p90_s,,900\n",
        encoding="utf-8",
    )
    second.write_text(
        "year,kpi,outlet_code,target\n2026,service_level,,0.8\n2026,wait_p90_s,,850\n"
        "2026,wait_p90_s,03101,700\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    _load(db, first)
    [outcome] = _load(db, second)
    # The unchanged county-wide target (no outlet) is a duplicate; targets are reference
    # data, so the changed one replaces the loaded one rather than conflicting with it.
    assert (outcome.loaded, outcome.duplicate, outcome.quarantined) == (2, 1, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT kpi, outlet_code, target FROM ref_kpi_target ORDER BY kpi, outlet_code"
        ).fetchall()
    assert rows == [
        ("service_level", None, 0.8),
        ("wait_p90_s", "03101", 700.0),
        ("wait_p90_s", None, 850.0),
    ]


def test_a_broken_file_is_rejected_and_the_other_files_still_load(tmp_path: Path) -> None:
    good = tmp_path / "outlets.csv"
    good.write_text("outlet_code,outlet_name,outlet_type\n001,A,service_point\n", encoding="utf-8")
    clash = tmp_path / "business_types.csv"
    clash.write_text(
        "business_type,name_en,name_zh,standard_handling_s,cash_flow_sign,NAME_EN\n"
        "deposit,Deposit,存款,150,1,x\n",
        encoding="utf-8",
    )
    outcomes = {o.path.name: o for o in _load(tmp_path / "w.duckdb", good, clash)}
    assert outcomes["outlets.csv"].status == "loaded"
    assert outcomes["business_types.csv"].status == "rejected"
    assert "appears twice" in outcomes["business_types.csv"].message


def test_a_profile_whose_sql_does_not_fit_rejects_only_that_file(tmp_path: Path) -> None:
    profile = tmp_path / "odd.yaml"
    profile.write_text(
        "name: odd\nkind: outlets\nfields:\n  township: {sql: 'no_such_column || 1'}\n",
        encoding="utf-8",
    )
    path = tmp_path / "outlets.csv"
    path.write_text("outlet_code,outlet_name,outlet_type\n001,A,service_point\n", encoding="utf-8")
    [outcome] = load_paths(
        tmp_path / "w.duckdb", [path], LoadOptions(profile=str(profile), report=False)
    )
    assert outcome.status == "rejected"
    assert "no_such_column" in outcome.message
    assert not (tmp_path / "w.duckdb").exists()


def test_unknown_encoding_or_kind_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "outlets.csv"
    path.write_text("outlet_code,outlet_name,outlet_type\n001,A,service_point\n", encoding="utf-8")
    runner = CliRunner()
    db = str(tmp_path / "w.duckdb")
    assert runner.invoke(app, ["load", str(path), "--db", db, "--encoding", "gbx"]).exit_code == 2
    assert runner.invoke(app, ["load", str(path), "--db", db, "--kind", "nope"]).exit_code == 2


def test_only_a_month_at_the_end_of_the_name_sets_the_file_period() -> None:
    from etl.stage import file_period

    assert file_period("transactions_2026-03.csv") == ("2026-03-01", "2026-04-01")
    assert file_period("交易明细_2025-12.xlsx") == ("2025-12-01", "2026-01-01")
    assert file_period("transactions_export_2025-11-02.csv") is None
    assert file_period("营业部3201-03月.csv") is None


def test_a_plain_csv_is_read_by_duckdb_directly(
    warehouse: Path, on_duty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, outlet, day = on_duty

    def refuse(*args, **kwargs):
        raise AssertionError("a plain UTF-8 CSV must not be parsed by etl.read")

    monkeypatch.setattr("etl.pipeline.read_export", refuse)
    monkeypatch.setattr("etl.raw.read_export", refuse)
    rows = [transaction_row(f"D-{i}", staff, outlet, day) for i in range(5)]
    rows[3]["amount"] = "-1"
    [outcome] = _load(warehouse, _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows))
    assert (outcome.status, outcome.loaded, outcome.quarantined) == ("loaded", 4, 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        encoding, raw = con.execute(
            "SELECT l.encoding, q.raw_record FROM etl_load l JOIN etl_quarantine q"
            " USING (load_id) WHERE load_id = ?",
            [outcome.load_id],
        ).fetchone()
    assert encoding == "utf-8"
    assert json.loads(raw) == rows[3] | {"reversal_of": None}  # as read: text, empty is null


def test_a_big_plain_csv_loads_as_the_reference_reader_would(
    warehouse: Path, on_duty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Big enough for DuckDB to read it with several threads; defects, duplicates and
    # valueless records scattered through it. Loaded directly and through etl.read, the
    # warehouses must hold the same rows, quarantine the same row numbers with the same
    # raw records, and count the same fates.
    staff, outlet, day = on_duty
    rows = [transaction_row(f"B-{i:07d}", staff, outlet, day) for i in range(240_000)]
    for i in range(7, len(rows), 9_973):
        rows[i]["amount"] = "-1"  # out of range
    for i in range(11, len(rows), 14_983):
        rows[i] = dict(rows[i - 1])  # a duplicate of the row before
    for i in range(13, len(rows), 19_997):
        rows[i] = dict.fromkeys(HEADER, "")  # a record without any value
    path = _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows)
    assert path.stat().st_size > 32 << 20  # more than one of DuckDB's CSV buffers
    other = tmp_path / "reference.duckdb"
    shutil.copyfile(warehouse, other)
    [direct] = _load(warehouse, path)
    monkeypatch.setattr("etl.pipeline.plain_head", lambda *args: None)  # etl.read only
    [reference] = _load(other, path)
    fates = ("status", "read", "loaded", "duplicate", "quarantined", "dropped", "rule_counts")
    assert [getattr(direct, f) for f in fates] == [getattr(reference, f) for f in fates]
    assert direct.quarantined == len(range(7, len(rows), 9_973)) > 10
    queries = [
        "SELECT source_row, rules, raw_record::VARCHAR FROM etl_quarantine ORDER BY ALL",
        "SELECT * EXCLUDE (load_id) FROM fact_transaction ORDER BY txn_id",
    ]
    for query in queries:
        with (
            duckdb.connect(str(warehouse), read_only=True) as one,
            duckdb.connect(str(other), read_only=True) as two,
        ):
            assert one.sql(query).fetchall() == two.sql(query).fetchall()


def test_a_bad_byte_in_a_plain_csv_rejects_it_naming_the_line(
    warehouse: Path, on_duty, tmp_path: Path
) -> None:
    staff, outlet, day = on_duty
    rows = [transaction_row(f"U-{i:06d}", staff, outlet, day) for i in range(20_000)]
    path = _write(tmp_path / f"transactions_{day:%Y-%m}.csv", rows)
    data = bytearray(path.read_bytes())
    assert len(data) > 2 << 20  # beyond the head etl.direct checks before reading
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    data[line_starts[15_000] + 2] = 0xFF  # line 15001, inside the id
    path.write_bytes(bytes(data))
    before = _sha(warehouse)
    [outcome] = _load(warehouse, path)
    assert outcome.status == "rejected"
    assert str(path) in outcome.message and "line 15001" in outcome.message
    assert _sha(warehouse) == before


def test_a_report_that_fails_is_unrecorded_and_the_file_still_loads(
    warehouse: Path, on_duty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import Future

    from etl import gx_report

    def failing_check(self, rows, kind):
        future: Future = Future()
        future.set_exception(RuntimeError("GX fell over"))
        return future

    monkeypatch.setattr(gx_report.Checker, "check", failing_check)
    staff, outlet, day = on_duty
    path = _write(
        tmp_path / f"transactions_{day:%Y-%m}.csv", [transaction_row("G-1", staff, outlet, day)]
    )
    [outcome] = load_paths(warehouse, [path])
    assert outcome.status == "loaded" and outcome.report is None
    assert "validation report not written: GX fell over" in outcome.message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        recorded = con.execute(
            "SELECT report_path FROM etl_load WHERE load_id = ?", [outcome.load_id]
        ).fetchone()
    assert recorded == (None,)
    assert not list(reports_dir(warehouse).glob("*.html"))


def test_a_reversal_of_an_earlier_load_has_the_marts_compiler_imported_early(
    warehouse: Path, on_duty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, outlet, day = on_duty
    imported: list[str] = []
    monkeypatch.setattr("etl.pipeline._IMPORTS.submit", lambda f, name: imported.append(name))
    first = [transaction_row(f"R-{i}", staff, outlet, day) for i in range(3)]
    [outcome] = _load(warehouse, _write(tmp_path / f"transactions_{day:%Y-%m}.csv", first))
    assert outcome.status == "loaded"
    assert imported == ["warehouse.marts"]  # nothing for the marts to re-derive
    imported.clear()
    reversal = transaction_row("R-9", staff, outlet, day, status="reversed", reversal_of="R-1")
    later = tmp_path / "later" / f"transactions_{day:%Y-%m}.csv"
    later.parent.mkdir()
    [outcome] = _load(warehouse, _write(later, [reversal]))
    assert outcome.status == "loaded", outcome.message
    assert imported == ["warehouse.marts", "warehouse.mart_compile"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        flagged = con.execute(
            "SELECT txn_id FROM fact_transaction WHERE is_reversed AND txn_id LIKE 'R-%'"
        ).fetchall()
    assert flagged == [("R-1",)]
