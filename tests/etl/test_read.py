"""Reading one export into all-text tables: encodings, delimiters, titles, subtotals, errors."""

from __future__ import annotations

import csv
import datetime as dt
import os
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

import etl.read as read_module
from etl.read import RawTable, ReadError, read_export
from etl.subtotals import subtotal_sql

SHARED = Path(
    os.environ.get("RCCDASH_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
DATASETS = SHARED / "datasets"

TX_HEADER = ["交易流水号", "网点号", "网点名称", "业务类型", "交易金额", "卡号"]
TX_ROWS = [
    ["00012345", "003401", "清水县联社城关网点", "存款", "1200.00", "6.22E+18"],
    ["00012346", "003402", "清水县联社 新华 网点", "取款", " 50.5 ", "0622848001"],
    ["00012347", "003401", "清水县联社城关网点", "贷款还款", "", "6222021234567890123"],
]


def write_text(path: Path, lines: list[str], *, encoding: str = "utf-8", eol: str = "\n") -> Path:
    path.write_bytes(eol.join(lines).encode(encoding) + eol.encode())
    return path


def values(table: RawTable) -> list[list[str | None]]:
    return [list(row) for row in table.frame.drop("__row").rows()]


def subtotal_rows(table: RawTable) -> list[int]:
    """``__row`` of the rows staging drops as subtotals (the SQL of etl.subtotals)."""
    columns = [c for c in table.frame.columns if c != "__row"]
    with duckdb.connect() as con:
        con.register("frame", table.frame)
        found = con.sql(f"SELECT __row FROM frame WHERE {subtotal_sql(columns)} ORDER BY 1")
        return [row for (row,) in found.fetchall()]


def assert_all_text(table: RawTable) -> None:
    assert table.frame.columns[0] == "__row"
    assert table.frame.schema["__row"] == pl.Int64
    assert all(dtype == pl.String for name, dtype in table.frame.schema.items() if name != "__row")


# ---------------------------------------------------------------- encodings


def test_gb18030_file_with_chinese_header_and_values(tmp_path: Path) -> None:
    lines = [",".join(TX_HEADER)] + [",".join(r) for r in TX_ROWS]
    path = write_text(tmp_path / "gbk.csv", lines, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the test file really is not UTF-8

    table = read_export(path)

    assert table.encoding == "gb18030"
    assert table.delimiter == ","
    assert table.header == TX_HEADER
    assert table.title_rows == 0
    assert values(table) == [[v or None for v in r] for r in TX_ROWS]
    assert table.frame["__row"].to_list() == [1, 2, 3]
    assert_all_text(table)


def test_gb18030_characters_outside_gbk_survive(tmp_path: Path) -> None:
    # 4-byte GB18030 sequences (rare surname characters, emoji) are not in GBK.
    path = write_text(tmp_path / "gb4.csv", ["姓名,备注", "䶮,😀"], encoding="gb18030")
    assert values(read_export(path)) == [["䶮", "😀"]]


def test_given_encoding_is_used(tmp_path: Path) -> None:
    path = write_text(tmp_path / "gbk.csv", ["网点号,网点名称", "003401,城关网点"], encoding="gbk")
    table = read_export(path, encoding="GBK")
    assert table.encoding == "gbk"
    assert values(table) == [["003401", "城关网点"]]


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "bom.csv", ["交易流水号,网点号", "001,003401"], encoding="utf-8-sig"
    )
    table = read_export(path)
    assert table.encoding == "utf-8-sig"
    assert table.header == ["交易流水号", "网点号"]
    assert values(table) == [["001", "003401"]]


def test_plain_utf8(tmp_path: Path) -> None:
    path = write_text(tmp_path / "u.csv", ["网点号,网点名称", "003401,城关网点"])
    table = read_export(path)
    assert table.encoding == "utf-8"
    assert values(table) == [["003401", "城关网点"]]


def test_bad_byte_in_utf8_file_names_file_and_line(tmp_path: Path) -> None:
    lines = [",".join(TX_HEADER)] + [",".join(r) for r in TX_ROWS]
    data = bytearray("\n".join(lines).encode("utf-8") + b"\n")
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    data[line_starts[3] + 3] = 0xFF  # line 4, inside "00012347"
    path = tmp_path / "bad_utf8.csv"
    path.write_bytes(bytes(data))

    with pytest.raises(ReadError) as err:
        read_export(path)

    message = str(err.value)
    assert str(path) in message
    assert "line 4" in message
    assert "0xFF" in message


def test_gbk_value_inside_utf8_file_is_an_error_not_mojibake(tmp_path: Path) -> None:
    # One value pasted in GBK into a UTF-8 file. The whole file happens to decode as
    # GB18030 (into nonsense), so "valid GB18030" alone would silently garble every value.
    header = "网点名称,业务类型,摘要".encode()
    good = "城关网点,存款,取款".encode()
    bad = "城关网点,".encode() + "存款".encode("gbk") + ",取款".encode()
    data = b"\n".join([header, good, good, bad, good]) + b"\n"
    data.decode("gb18030")  # precondition: GB18030 would accept it
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)

    with pytest.raises(ReadError, match=r"line 4\b") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_gbk_after_a_long_ascii_start_is_detected(tmp_path: Path) -> None:
    # The first megabyte is plain ASCII; the first GBK bytes come much later.
    rows = [f"{i:08d},003401,OK" for i in range(60_000)]
    lines = ["id,outlet,note", *rows, "99999999,003402,贷款还款"]
    path = write_text(tmp_path / "late_gbk.csv", lines, encoding="gbk")
    assert path.stat().st_size > 1 << 20
    table = read_export(path)
    assert table.encoding == "gb18030"
    assert table.frame.height == 60_001
    assert values(table)[-1] == ["99999999", "003402", "贷款还款"]


def test_bad_byte_far_into_a_utf8_file_names_the_line(tmp_path: Path) -> None:
    rows = [f"{i:08d},城关网点,存款" for i in range(60_000)]
    data = "\n".join(["编号,网点名称,业务类型", *rows]).encode() + b"\n1,\xe5\x9f,x\n"
    path = tmp_path / "late_bad.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"line 60002\b") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_gb18030_invalid_bytes_name_the_line(tmp_path: Path) -> None:
    lines = [",".join(TX_HEADER)] + [",".join(r) for r in TX_ROWS]
    data = bytearray("\n".join(lines).encode("gb18030") + b"\n")
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    data[line_starts[2] + 2] = 0xFF  # 0xFF is never valid in GB18030
    path = tmp_path / "bad_gbk.csv"
    path.write_bytes(bytes(data))

    with pytest.raises(ReadError, match=r"line 3\b") as err:
        read_export(path)
    assert str(path) in str(err.value)
    with pytest.raises(ReadError, match=r"line 3\b"):
        read_export(path, encoding="gb18030")


def test_bad_byte_line_counts_physical_lines(tmp_path: Path) -> None:
    # The quoted value spans two lines, so the bad byte in data row 2 is on line 4.
    data = '编号,备注\n1,"第一行\n第二行"\n2,x'.encode() + b"\xff" + b"\n"
    path = tmp_path / "multi.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"line 4\b"):
        read_export(path, encoding="utf-8")


def test_chunk_boundaries_do_not_split_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_module, "_CHUNK_BYTES", 7)
    rows = [[f"{i:06d}", "清水县联社城关网点" * (i % 3 + 1), "贷款还款"] for i in range(50)]
    lines = ["编号,网点名称,业务类型"] + [",".join(r) for r in rows]
    path = write_text(tmp_path / "chunks.csv", lines, encoding="gb18030", eol="\r\n")
    table = read_export(path)
    assert table.encoding == "gb18030"
    assert values(table) == rows

    data = bytearray(path.read_bytes())
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    data[line_starts[40] + 8] = 0xFF  # 0xFF is never valid in GB18030
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match=r"line 41\b"):
        read_export(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match="is empty") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_file_with_only_a_bom_and_blank_lines_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(ReadError, match="is empty"):
        read_export(path)


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"nope\.csv"):
        read_export(tmp_path / "nope.csv")


# ---------------------------------------------------------------- delimiters and quoting


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str, eol: str) -> None:
    lines = [delimiter.join(TX_HEADER)] + [delimiter.join(r) for r in TX_ROWS]
    path = write_text(tmp_path / "d.txt", lines, eol=eol)
    table = read_export(path)
    assert table.delimiter == delimiter
    assert table.header == TX_HEADER
    assert values(table) == [[v or None for v in r] for r in TX_ROWS]


def test_other_delimiters_inside_values_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    lines = ["金额\t备注\t网点", "1,234.00\ta;b\t001", "2,000.00\tc;d\t002", "3,100.50\te|f\t003"]
    table = read_export(write_text(tmp_path / "t.tsv", lines))
    assert table.delimiter == "\t"
    assert values(table)[0] == ["1,234.00", "a;b", "001"]


def test_quoted_fields_with_newlines_quotes_and_delimiters(tmp_path: Path) -> None:
    content = (
        "投诉编号,投诉内容,被投诉人\r\n"
        '0001,"客户说：""等了一个小时""\r\n第二行, 还有逗号",000123\r\n'
        '0002,"单行",000124\r\n'
        '0003,"多\n行\n内容",000125\r\n'
    )
    path = tmp_path / "quoted.csv"
    path.write_bytes(content.encode("utf-8"))

    table = read_export(path)

    assert table.frame["__row"].to_list() == [1, 2, 3]  # data rows, not lines
    assert values(table) == [
        ["0001", '客户说："等了一个小时"\r\n第二行, 还有逗号', "000123"],
        ["0002", "单行", "000124"],
        ["0003", "多\n行\n内容", "000125"],
    ]


def test_ids_stay_text_verbatim_and_empty_is_null(tmp_path: Path) -> None:
    lines = ["卡号,柜员号,金额,备注", '6.22E+18,000123,0010.50," padded "', '0622,007,,""']
    table = read_export(write_text(tmp_path / "ids.csv", lines))
    assert_all_text(table)
    assert values(table) == [
        ["6.22E+18", "000123", "0010.50", " padded "],
        ["0622", "007", None, None],
    ]


def test_header_whitespace_is_stripped_values_are_not(tmp_path: Path) -> None:
    lines = [" 网点号\u3000, 柜员号 ,\t窗口号", " 003401 ,\u3000000123,1 "]
    table = read_export(write_text(tmp_path / "ws.csv", lines))
    assert table.header == ["网点号", "柜员号", "窗口号"]
    assert table.frame.columns == ["__row", "网点号", "柜员号", "窗口号"]
    assert values(table) == [[" 003401 ", "\u3000000123", "1 "]]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header_only.csv"
    path.write_bytes(",".join(TX_HEADER).encode())  # no final newline either
    table = read_export(path)
    assert table.header == TX_HEADER
    assert table.frame.height == 0
    assert table.frame.columns == ["__row", *TX_HEADER]
    assert_all_text(table)
    assert subtotal_rows(table) == []


def test_blank_records_are_dropped_but_keep_their_number(tmp_path: Path) -> None:
    lines = ["编号,名称", "1,a", "", ",", "2,b", "", ""]
    table = read_export(write_text(tmp_path / "blank.csv", lines))
    assert table.frame["__row"].to_list() == [1, 4]
    assert values(table) == [["1", "a"], ["2", "b"]]


def test_row_with_too_many_fields_names_the_line(tmp_path: Path) -> None:
    lines = ["编号,名称", "1,a", "2,b", "3,c,extra", "4,d"]
    path = write_text(tmp_path / "ragged.csv", lines)
    with pytest.raises(ReadError, match=r"line 4\b.*3 fields") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_unterminated_quote_names_the_record_start(tmp_path: Path) -> None:
    path = tmp_path / "open_quote.csv"
    path.write_bytes(b'a,b\n1,2\n3,"never closed\n4,5\n')
    with pytest.raises(ReadError, match=r"line 3\b") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_stray_quote_in_unquoted_value_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_bytes(b'a,b\n1,5" screen\n3,4\n')
    with pytest.raises(ReadError, match="unquoted") as err:
        read_export(path)
    assert str(path) in str(err.value)


def test_short_rows_are_padded_with_nulls(tmp_path: Path) -> None:
    table = read_export(write_text(tmp_path / "short.csv", ["a,b,c", "1,2,3", "4"]))
    assert values(table) == [["1", "2", "3"], ["4", None, None]]


def test_duplicate_header_names_are_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path / "dup.csv", ["交易时间,网点号,交易时间", "1,2,3"])
    with pytest.raises(ReadError, match=r"交易时间.*twice"):
        read_export(path)


def test_unnamed_columns(tmp_path: Path) -> None:
    # Spreadsheet exports pad every line with delimiters; trailing empty columns go away,
    # an unnamed column holding values is kept under a positional name.
    lines = ["编号,,名称,,", "1,x,a,,", "2,,b,,"]
    table = read_export(write_text(tmp_path / "pad.csv", lines))
    assert table.header == ["编号", "", "名称"]
    assert table.frame.columns == ["__row", "编号", "__col2", "名称"]
    assert values(table) == [["1", "x", "a"], ["2", None, "b"]]


# ---------------------------------------------------------------- titles and subtotals


def test_csv_title_rows_are_skipped(tmp_path: Path) -> None:
    lines = [
        "清水县联社2026年3月交易明细,,,,,",
        ",,,,,",
        ",".join(TX_HEADER),
        *(",".join(r) for r in TX_ROWS),
        "合计,,,,1250.50,",
    ]
    table = read_export(write_text(tmp_path / "title.csv", lines, encoding="gb18030"))
    assert table.title_rows == 2
    assert table.header == TX_HEADER
    assert table.frame.height == 4
    assert subtotal_rows(table) == [4]


def test_header_hint_picks_the_header(tmp_path: Path) -> None:
    lines = ["报表名称,交易明细", "机构,清水县联社", "", "网点号,柜员号", "003401,000123"]
    path = write_text(tmp_path / "hint.csv", lines)
    table = read_export(path, header_hint=lambda cells: "网点号" in cells)
    assert table.title_rows == 3
    assert table.header == ["网点号", "柜员号"]
    assert values(table) == [["003401", "000123"]]
    with pytest.raises(ReadError, match="header"):
        read_export(path, header_hint=lambda cells: "不存在" in cells)


@pytest.mark.parametrize(
    ("label", "second", "is_subtotal"),
    [
        ("合计", None, True),
        ("合  计", None, True),
        ("合\u3000计", None, True),  # Unicode whitespace too, not just ASCII
        ("003401", "网点\u00a0小计：", True),
        ("总计：", None, True),
        ("小计(城关网点)", None, True),
        ("003401", "本页合计", True),
        ("003401", "网点小计:", True),
        ("003401", "清水县联社城关网点", False),
        ("003401", "合计划款项说明很长的一段备注文字", False),
    ],
)
def test_subtotal_rows(tmp_path: Path, label: str, second: str | None, is_subtotal: bool) -> None:
    lines = ["网点号,网点名称,金额", "003401,城关网点,10", f"{label},{second or ''},10"]
    table = read_export(write_text(tmp_path / "sub.csv", lines))
    assert subtotal_rows(table) == ([2] if is_subtotal else [])
    assert table.frame.height == 2  # subtotal rows stay in the frame


def test_xlsx_with_title_blank_row_and_subtotal(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["清水县联社2026年3月交易明细"])
    sheet.append([])
    sheet.append(
        ["交易流水号", " 网点号\u3000", "交易金额", "交易日期", "取号时间", "交易时间", "卡号"]
    )
    sheet.append(
        [
            "000123",
            "003401",
            100,
            dt.date(2026, 3, 1),
            dt.datetime(2026, 3, 1, 9, 5, 7),
            dt.time(9, 5, 7),
            6.22e18,
        ]
    )
    sheet.append(
        [
            "000124",
            "003402",
            12.5,
            dt.datetime(2026, 3, 2),
            dt.datetime(2026, 3, 2, 9, 59, 59, 999_999),
            dt.time(10, 0),
            6222021234567890123,
        ]
    )
    sheet.append(["合计", None, 112.5])
    other = workbook.create_sheet("网点")
    other.append(["网点号", "网点名称"])
    other.append(["003401", "城关网点"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)

    table = read_export(path)

    assert table.title_rows == 2
    assert table.header == [
        "交易流水号",
        "网点号",
        "交易金额",
        "交易日期",
        "取号时间",
        "交易时间",
        "卡号",
    ]
    assert table.delimiter is None
    assert_all_text(table)
    assert values(table) == [
        ["000123", "003401", "100", "2026-03-01", "2026-03-01 09:05:07", "09:05:07", "6.22E+18"],
        [
            "000124",
            "003402",
            "12.5",
            "2026-03-02",
            "2026-03-02 10:00:00",
            "10:00:00",
            "6.22202123456789E+18",  # Excel has already lost digits: must not pass as an ID
        ],
        ["合计", None, "112.5", None, None, None, None],
    ]
    assert table.frame["__row"].to_list() == [1, 2, 3]
    assert subtotal_rows(table) == [3]

    second = read_export(path, sheet="网点")
    assert values(second) == [["003401", "城关网点"]]
    assert values(read_export(path, sheet=1)) == values(second)
    with pytest.raises(ReadError, match="no sheet"):
        read_export(path, sheet="missing")


def test_xlsx_value_beyond_the_header_is_an_error(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["编号", "名称"])
    sheet.append(["1", "a"])
    sheet.append(["2", "b", "stray"])
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    with pytest.raises(ReadError, match=r"row 3\b.*column 3"):
        read_export(path)


def test_legacy_xls_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(ReadError, match="xls"):
        read_export(path)


# ---------------------------------------------------------------- real files


def _require(path: Path) -> Path:
    assert path.exists(), (
        f"shared dataset {path} missing (set RCCDASH_SHARED to the shared/ folder)"
    )
    return path


def test_real_tab_separated_crlf_file() -> None:
    path = _require(DATASETS / "anonymous_bank_february_1999.txt")
    table = read_export(path)
    assert table.delimiter == "\t"
    assert table.frame.height == 33_344
    assert table.frame.width == 18  # __row + 17 columns
    assert len(table.header) == 17
    assert table.header[:3] == ["vru+line", "call_id", "customer_id"]
    assert not any(v.endswith("\r") for v in table.frame["server"].drop_nulls())
    assert_all_text(table)


def test_real_csv_with_multiline_narratives() -> None:
    path = _require(DATASETS / "cfpb_complaints_sample.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    table = read_export(path)
    assert table.frame.height == len(records) - 1 == 6_623
    assert table.header == records[0]
    narratives = table.frame["Consumer complaint narrative"].to_list()
    assert narratives == [r[5] or None for r in records[1:]]
    assert any("\n" in n for n in narratives if n)


# ---------------------------------------------------------------- speed (reported, not asserted)


def test_timing_500k_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = "{i:020d},{o:06d},清水县联社城关网点,{t:06d},存款,柜面,1200.00,2026-03-01 09:05:07,普通\n"
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("交易流水号,网点号,网点名称,柜员号,业务类型,渠道,交易金额,交易时间,客户类型\n")
        fh.writelines(row.format(i=i, o=i % 40, t=i % 500) for i in range(500_000))

    start = time.perf_counter()
    table = read_export(path)
    elapsed = time.perf_counter() - start

    assert table.frame.height == 500_000
    assert table.frame["交易流水号"][0] == "0" * 20
    with capsys.disabled():
        size = path.stat().st_size / 2**20
        print(f"\nread_export: 500k rows, {size:.0f} MiB UTF-8 CSV in {elapsed:.2f}s")
