"""DuckDB reading a plain CSV itself gives exactly etl.read's rows, or the file is declined.

For every file the direct path takes, the records DuckDB reads, the staged rows and the
text kept for quarantine must equal those of the reference reader; for every corner where
DuckDB's dialect differs (blank lines, a delimiter too many or too few, quotes, stray
carriage returns) the byte scan must decline the file, and a byte that is not UTF-8 must
make DuckDB fail, so that the reference reader's rows or error stand.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

import etl.direct as direct_module
import etl.raw as raw_module
from etl.direct import PlainHead, csv_relation, plain_head, read_records, scan_bytes
from etl.kinds import export_kinds
from etl.mapping import build_mapping
from etl.profiles import load_profile
from etl.raw import materialise, open_raw
from etl.read import ReadError, read_export
from etl.stage import stage
from tests.export_rows import transaction_row

TX_HEADER = list(export_kinds()["transactions"].types)


def _tx(**over: str) -> list[str]:
    row = transaction_row("031012025120100001", "000123", "03101", "2025-12-01", **over)
    return [*row.values()]


def _write(path: Path, rows: list[list[str]], *, delimiter: str = ",", eol: str = "\n") -> Path:
    path.write_bytes("".join(delimiter.join(r) + eol for r in rows).encode("utf-8"))
    return path


def _plain(path: Path) -> tuple[PlainHead, direct_module.FileBytes]:
    """The head and bytes of a file the direct path must take."""
    head = plain_head(path, None)
    assert head is not None, "the direct path should take this file"
    scanned = scan_bytes(path, head)
    assert scanned.plain, "the byte scan should find the file plain"
    return head, scanned


def _declined(path: Path) -> bool:
    head = plain_head(path, None)
    return head is None or not scan_bytes(path, head).plain


def _direct_records(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The records as DuckDB reads them (etl.read must not be asked), by number."""

    def refuse(*args, **kwargs):
        raise AssertionError("the direct path should have read the file")

    head, scanned = _plain(path)
    with monkeypatch.context() as patch, duckdb.connect() as con:
        patch.setattr(raw_module, "read_export", refuse)
        raw = open_raw(con, path, encoding=None, plain=(head, scanned))
        assert raw.direct is not None  # numbered by position: staged straight from the scan
        table = materialise(con, raw)
        rows = con.sql(f"SELECT * FROM ({table.relation}) ORDER BY __row").fetchall()
    assert raw.rows == table.rows == len(rows)
    # Read back by number (for quarantine), the records are the same text.
    assert read_records(path, head, [r[0] for r in rows]) == [list(r) for r in rows]
    return rows


def _reference_records(path: Path) -> list[tuple]:
    return [tuple(r) for r in read_export(path).frame.rows()]


# ---------------------------------------------------------------- the same rows


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_plain_files_give_the_reference_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str, eol: str
) -> None:
    amount = "1,200.00" if delimiter != "," else "1200.00"
    rows = [
        ["编号", "网点号", "名称", "金额", "卡号"],
        ["000123", "003401", "城关网点", amount, "6.22E+18"],
        ["000124", "", " 新华 网点\u3000", "", "0622848001"],
        ["", "", "", "", ""],  # a record without any value: dropped, keeps its number
        ["000125", "００３４０２", "ＡＢ", " 50.5 ", " "],
    ]
    path = _write(tmp_path / "plain.csv", rows, delimiter=delimiter, eol=eol)
    assert _plain(path)[1].empty == (3,)
    direct = _direct_records(path, monkeypatch)
    assert direct == _reference_records(path)
    assert [r[0] for r in direct] == [1, 2, 4]


def test_bom_no_final_newline_and_header_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff网点号,名称\n003401,城关".encode())
    assert _plain(path)[0].encoding == "utf-8-sig"
    assert _direct_records(path, monkeypatch) == _reference_records(path)
    assert _reference_records(path) == [(1, "003401", "城关")]
    empty = tmp_path / "header_only.csv"
    empty.write_bytes(b"a,b,c")
    assert _plain(empty)[1].records == 0
    assert _direct_records(empty, monkeypatch) == _reference_records(empty) == []


def test_staged_rows_are_the_same_either_way(tmp_path: Path) -> None:
    rows = [
        TX_HEADER,
        _tx(),
        _tx(txn_id="031012025120100002", outlet_code=" 03101 ", channel="COUNTER"),
        _tx(txn_id="6.22E+18", amount="-5", satisfaction="9"),
        _tx(txn_id="031012025120100004", ticket_at="2025-12-32 10:00:00", called_at=""),
        _tx(txn_id="031012025120100005", channel="柜面", status="正常", outlet_code="０３１０１"),
        _tx(txn_id="031012025120100006", completed_at="2025-12-01 23:59:00"),
        [""] * len(TX_HEADER),
        _tx(txn_id="031012025120100007", reversal_of="N/A", staff_id="-"),
    ]
    path = _write(tmp_path / "transactions_2025-12.csv", rows)
    profile = load_profile("default")
    mapping = build_mapping(TX_HEADER, profile)
    staged = []
    for plain in (_plain(path), None):
        with duckdb.connect() as con:
            raw = open_raw(con, path, encoding=None, plain=plain)
            stage(con, raw, mapping, profile, file_name=path.name)
            staged.append(con.sql("SELECT * FROM stg ORDER BY __row").fetchall())
    assert staged[0] == staged[1]
    assert [r[0] for r in staged[0]] == [1, 2, 3, 4, 5, 6, 8]  # record 7 has no value
    failing = {row[2]: row[-1] for row in staged[0]}  # txn_id: __fail
    assert "id_not_text_txn_id" in failing["6.22E+18"]
    assert failing["031012025120100002"] == []  # trimmed and lower-cased, then valid
    assert failing["031012025120100005"] == []  # mapped from Chinese, folded from full width


def test_rows_keep_file_order_across_duckdb_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Big enough for DuckDB to split the file between threads, and staged straight from
    # the scan (no records table): a row's number must still be its place in the file.
    path = tmp_path / "transactions_2025-12.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(TX_HEADER) + "\n")
        for i in range(400_000):
            handle.write(",".join(_tx(txn_id=f"{i:018d}", amount=f"{i % 997}.00")) + "\n")
        handle.write("," * (len(TX_HEADER) - 1) + "\n")  # a valueless record, deleted
        handle.write(",".join(_tx(txn_id=f"{400_001:018d}")) + "\n")
    assert path.stat().st_size > 48 << 20
    profile = load_profile("default")
    monkeypatch.setattr(raw_module, "read_export", None)  # DuckDB must read it
    with duckdb.connect() as con:
        raw = open_raw(con, path, encoding=None, plain=_plain(path))
        staged = stage(con, raw, build_mapping(TX_HEADER, profile), profile, file_name=path.name)
        assert staged.direct is not None
        count, misplaced = con.sql(
            "SELECT count(*), count(*) FILTER (txn_id::BIGINT <> __row - 1) FROM stg"
        ).fetchall()[0]
    assert (raw.rows, count, misplaced) == (400_001, 400_001, 0)


def test_a_profile_joining_another_table_stages_from_a_table_in_file_order(
    tmp_path: Path,
) -> None:
    # A profile's SQL that looks another table up makes DuckDB plan a join, which need not
    # keep the file's order: the records are read into a table first, and numbered there.
    rows = [TX_HEADER] + [_tx(txn_id=f"{i:018d}") for i in range(30_000)]
    rows[1_000] = [""] * len(TX_HEADER)  # a valueless record, deleted
    path = _write(tmp_path / "transactions_2025-12.csv", rows)
    yaml = tmp_path / "lookup.yaml"
    yaml.write_text(
        'name: lookup\nfields:\n  customer_segment: {sql: "(SELECT max(segment) FROM segments)"}\n',
        encoding="utf-8",
    )
    profile = load_profile(str(yaml))
    mapping = build_mapping(TX_HEADER, profile)
    with duckdb.connect() as con:
        con.execute("CREATE TABLE segments AS SELECT 'vip' AS segment")
        raw = open_raw(con, path, encoding=None, plain=_plain(path))
        staged = stage(con, raw, mapping, profile, file_name=path.name)
        count, misplaced, vip = con.sql(
            "SELECT count(*), count(*) FILTER (txn_id::BIGINT <> __row - 1),"
            " count(*) FILTER (customer_segment = 'vip') FROM stg"
        ).fetchall()[0]
    assert staged.direct is None  # staged from the records table, not the scan
    assert (count, misplaced, vip) == (29_999, 0, 29_999)


def _profile(tmp_path: Path, field: str, sql: str):
    yaml = tmp_path / "p.yaml"
    yaml.write_text(f"name: p\nfields:\n  {field}: {{sql: {sql!r}}}\n", encoding="utf-8")
    return load_profile(str(yaml))


def test_a_profile_sql_failing_on_valueless_records_is_staged_from_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Staged from the scan, the valueless record (deleted afterwards) reaches the SQL and
    # makes it fail; the records table has no such record, so staging from it works.
    rows = [TX_HEADER, _tx(txn_id="1"), [""] * len(TX_HEADER), _tx(txn_id="3")]
    path = _write(tmp_path / "transactions_2025-12.csv", rows)
    profile = _profile(
        tmp_path, "customer_segment", "CASE WHEN txn_id IS NULL THEN error('empty') END"
    )
    monkeypatch.setattr(raw_module, "read_export", None)  # DuckDB reads it, either way
    with duckdb.connect() as con:
        raw = open_raw(con, path, encoding=None, plain=_plain(path))
        staged = stage(con, raw, build_mapping(TX_HEADER, profile), profile, file_name=path.name)
        numbered = con.sql("SELECT __row, txn_id FROM stg ORDER BY 1").fetchall()
    assert staged.direct is None
    assert numbered == [(1, "1"), (3, "3")]


def test_a_profile_sql_failing_on_every_row_fails_without_etl_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "transactions_2025-12.csv", [TX_HEADER, _tx()])
    profile = _profile(tmp_path, "customer_segment", "error('boom')")
    monkeypatch.setattr(raw_module, "read_export", None)  # no second parse into a frame
    with duckdb.connect() as con:
        raw = open_raw(con, path, encoding=None, plain=_plain(path))
        with pytest.raises(duckdb.Error, match="boom"):
            stage(con, raw, build_mapping(TX_HEADER, profile), profile, file_name=path.name)


def test_without_insertion_order_the_reference_reader_numbers_the_rows(
    tmp_path: Path,
) -> None:
    rows = [TX_HEADER] + [_tx(txn_id=f"{i:018d}") for i in range(5_000)]
    path = _write(tmp_path / "transactions_2025-12.csv", rows)
    profile = load_profile("default")
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        raw = open_raw(con, path, encoding=None, plain=_plain(path))
        staged = stage(con, raw, build_mapping(TX_HEADER, profile), profile, file_name=path.name)
        misplaced = con.sql("SELECT count(*) FILTER (txn_id::BIGINT <> __row - 1) FROM stg")
        assert misplaced.fetchall() == [(0,)]
    assert staged.direct is None


# ---------------------------------------------------------------- where DuckDB differs


@pytest.mark.parametrize(
    "content",
    [
        b"a,b\n1,x\n\n2,y\n",  # DuckDB skips a blank line and renumbers the rows after it
        b"a,b\n1,x\n2,y\n\n",  # ... even at the end
        b"a,b,c\n1,2,3,\n",  # DuckDB drops one trailing delimiter
        b"a,b,c\n1,2,3\n4,5,6,7\n",
        b"a,b,c\n1,2,3\n4\n",  # a short line: etl.read pads it
        b"a,b,c\n1,2\n4,5,6\n",  # ... or refuses it, by its own rules
        b'a,b\n1,5" screen\n',  # DuckDB accepts a stray quote
        b'a,b\n1, "x"\n',  # DuckDB would trim the spaces around the quotes
        b'a,b\n1,"x, y"\n',  # any quote at all
        b"a,b\n1,x\ry\n",  # a carriage return inside a value
        b"a,b\r\n1,x\n2,y\r\n",  # line ends of both kinds
    ],
)
def test_dialect_corners_are_declined(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corner.csv"
    path.write_bytes(content)
    assert plain_head(path, None) is not None  # the head alone cannot tell
    assert _declined(path)


@pytest.mark.parametrize(
    ("name", "content", "encoding"),
    [
        ("title.csv", "清水县联社交易明细,,\n编号,名称,金额\n1,a,2\n".encode(), None),
        ("padded.csv", b"a,b,\n1,2,\n", None),  # a trailing unnamed column (etl.read drops it)
        ("single.csv", b"a\n1\n\n2\n", None),  # one column: a blank line is a record
        ("gbk.csv", "编号,名称\n1,城关网点\n".encode("gbk"), None),
        ("utf8.csv", b"a,b\n1,2\n", "gbk"),  # another encoding asked for
        ("tx[1].csv", b"a,b\n1,2\n", None),  # DuckDB would take the name for a pattern
        ("book.xlsx", b"a,b\n1,2\n", None),
    ],
)
def test_files_the_direct_path_does_not_take(
    tmp_path: Path, name: str, content: bytes, encoding: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert plain_head(path, encoding) is None


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (b"\xff", r"line 60002\b.*0xFF.*not valid utf-8"),
        (b"\xe5\x9f", r"line 60002\b.*0xE5.*the text before it is UTF-8"),
    ],
)
def test_a_bad_byte_beyond_the_head_makes_etl_read_name_the_line(
    tmp_path: Path, bad: bytes, error: str
) -> None:
    # The head (first megabyte) is clean UTF-8 and the shape is plain, but the scan finds
    # the byte: the file goes to etl.read, whose error names file and line.
    lines = ["网点号,网点名称,网点类型"] + [f"{i:08d},城关网点,分社" for i in range(60_000)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 1 << 20
    path = tmp_path / "late_bad.csv"
    path.write_bytes(data + b"1," + bad + b",x\n")
    head = plain_head(path, None)
    assert head is not None
    scanned = scan_bytes(path, head)
    assert not scanned.plain
    with duckdb.connect() as con:
        with pytest.raises(duckdb.Error):  # what DuckDB would have done
            con.execute(f"CREATE TABLE t AS {csv_relation(path, head)}")
        with pytest.raises(ReadError, match=error) as err:
            open_raw(con, path, encoding=None, plain=(head, scanned))
    assert str(path) in str(err.value)
    # Were a refused byte ever to pass the scan, staging falls back to etl.read all the same.
    profile = load_profile("default")
    mapping = build_mapping(head.header, profile, "outlets")
    with duckdb.connect() as con:
        raw = open_raw(con, path, encoding=None, plain=(head, replace(scanned, plain=True)))
        assert raw.direct is not None
        with pytest.raises(ReadError, match=error):
            stage(con, raw, mapping, profile, file_name=path.name)


def test_a_record_longer_than_a_megabyte_reads_as_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Longer than a scan piece (1 MiB) and than DuckDB's default line limit (2 MB)."""
    path = tmp_path / "long.csv"
    long_value = "说明" * 600_000  # 3.6 MB of UTF-8
    path.write_text(f"编号,说明,金额\n001,短,1\n002,{long_value},2\n003,,3\n", encoding="utf-8")
    records = _direct_records(path, monkeypatch)
    assert records == _reference_records(path)
    assert records[1] == (2, "002", long_value, "2")


# ---------------------------------------------------------------- the byte scan


@pytest.mark.parametrize("split", [1, 1 << 40])  # checked in two halves, or whole
@pytest.mark.parametrize("block", [7, 1 << 20])
@pytest.mark.parametrize(
    ("content", "delimiter", "plain", "clean", "empty"),
    [
        (b"a,b\n1,x y\n", ",", True, True, ()),
        (b"a,b\r\n1,2\r\n,\r\n3,4", ",", True, True, (2,)),
        (b"a,b\n,\n1,2\n3,4\n5,6\n,\n7,8\n", ",", True, True, (1, 5)),  # one per half
        (b"a,b\n1 ,2\n", ",", True, False, ()),  # a value ending in a space
        (b"a,b\n1, 2\n", ",", True, False, ()),  # a value starting with one
        (b"a,b\n,\n ,\n", ",", True, False, (1,)),  # a space is a value
        (b"a,b\n1,2 \r\n", ",", False, False, ()),  # (and line ends of both kinds)
        (b"a\tb\n1\t\n\t2\n", "\t", True, True, ()),  # empty values next to tabs are clean
        (b"a;b\n1;\x0b2\n", ";", True, False, ()),
        (b"a,b\n1,2 ", ",", True, False, ()),  # the file ends in whitespace
        ("a,b\n1,城关\n".encode(), ",", True, False, ()),  # not ASCII: trimmed in SQL
        (b'a,b\n1,"2"\n', ",", False, True, ()),
        (b"a,b\n1,2,3\n", ",", False, True, ()),
        (b"a,b\n12\n", ",", False, True, ()),  # a line one delimiter short
        (b"a,b\n1,\t2\n", ",", True, False, ()),  # a tab touching the delimiter
        (b"a b\n1 2\n", " ", True, True, ()),  # spaces delimit: not whitespace
        (b"a b\n1 \x0c2\n", " ", True, False, ()),
    ],
)
def test_byte_scan(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    split: int,
    block: int,
    content: bytes,
    delimiter: str,
    plain: bool,
    clean: bool,
    empty: tuple[int, ...],
) -> None:
    monkeypatch.setattr(direct_module, "_BLOCK_BYTES", block)
    monkeypatch.setattr(direct_module, "_SPLIT_BYTES", split)
    path = tmp_path / "scan.csv"
    path.write_bytes(content)
    head = PlainHead(["a", "b"], ["a", "b"], delimiter, "utf-8")
    scanned = scan_bytes(path, head)
    assert (scanned.plain, scanned.clean) == (plain, clean)
    if plain:
        assert scanned.empty == empty
        assert scanned.records == len(content.splitlines()) - 1
    assert scanned.sha256 == scan_bytes(path).sha256  # the digest needs no layout
