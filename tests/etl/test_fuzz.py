"""Hostile files never crash the loader; formulas never leave in a download unescaped.

The cases are those of ``make fuzz`` (bench/fuzz.py), fewer of them: real exports of a
tiny generated county, mutated (truncated, random bytes, wrong encodings, a BOM in the
middle, NUL bytes, 1 MB values, 10,000 columns, duplicate headers, formulas, broken
workbooks, zip bombs, empty sheets). Every outcome must be a load with its rows conserved,
or a rejection with a message and the warehouse byte-identical. Hypothesis adds arbitrary
bytes, round trips of arbitrary CSV text, and any text through the CSV and Excel downloads.
The last tests are the reproducers of the crashes the fuzzing found.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bench import fuzz
from dashboard.exports import export_bytes
from etl.direct import plain_head, scan_bytes
from etl.mapping import MappingError, build_mapping
from etl.pipeline import LoadOptions, load_paths
from etl.profiles import load_profile
from etl.read import ROW_COLUMN, RawTable, ReadError, read_export
from rccdash.cli import _one_line, app
from warehouse.spreadsheet import neutralised

# Cases of ``make fuzz`` run here: full loads into a copy of the base warehouse, and
# reads (reader, mapping, direct-path checks) of many more files. Fixed seeds: the same
# cases every run; ``make fuzz`` draws new ones.
LOAD_CASES = 150
READ_CASES = 400
LOAD_SEED = 20_261_205
READ_SEED = 5_021_626
QUICK = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> fuzz.Base:
    """A tiny county's reference data loaded, and its exports to mutate."""
    return fuzz.prepare(tmp_path_factory.mktemp("fuzz-base"))


def _explain(case: fuzz.Case, where: Path, problems: list[str]) -> str:
    """The failure message: the case, its mutations, and where its input was kept."""
    kept = where / f"input-{case.index}{Path(case.name).suffix}"
    kept.write_bytes(case.data)
    return (
        f"case {case.index} {case.name!r} ({', '.join(case.steps)}); input kept at {kept}"
        f" (replay: python bench/fuzz.py --seed <seed> --case {case.index}):\n"
        + "\n".join(problems)
    )


@functools.cache
def _profile(name: str):
    return load_profile(name)


@pytest.mark.parametrize("index", range(LOAD_CASES))
def test_hostile_file_loads_or_is_rejected_cleanly(
    base: fuzz.Base, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("etl.pipeline.load_profile", _profile)  # parsed once, not per case
    case = fuzz.make_case(base, LOAD_SEED, index, heavy=False)
    result = fuzz.run_case(base, case, tmp_path / "run")
    assert not result.problems, _explain(case, tmp_path, result.problems)
    assert result.outcome.split(":")[0] in {
        "loaded",
        "loaded_with_quarantine",
        "rejected",
        "skipped",
    }


@pytest.mark.parametrize("index", range(READ_CASES))
def test_hostile_file_reads_or_is_rejected_naming_the_file(
    base: fuzz.Base, index: int, tmp_path: Path
) -> None:
    case = fuzz.make_case(base, READ_SEED, index, heavy=False)
    path = tmp_path / case.name
    path.write_bytes(case.data)
    problems = []
    try:
        head = plain_head(path, None)  # the direct path's sniffing: None or a layout
        scan_bytes(path, head)
        table = read_export(path)
    except ReadError as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            problems.append(f"ReadError not naming the file: {message[:300]}")
        if "\n" in _one_line(message):
            problems.append("message not on one line")
        if "Panic" in message or "Traceback" in message:
            problems.append(f"a crash turned into a message: {message[:300]}")
    except Exception as exc:
        problems.append(f"{type(exc).__name__} escaped the reader: {exc!r}"[:1000])
    else:
        assert isinstance(table, RawTable)
        assert table.frame.columns[0] == ROW_COLUMN
        assert all(t == pl.String for c, t in table.frame.schema.items() if c != ROW_COLUMN)
        try:
            build_mapping(table.header, load_profile("default"))
        except MappingError:
            pass
        except Exception as exc:
            problems.append(f"{type(exc).__name__} escaped the mapping: {exc!r}"[:1000])
    assert not problems, _explain(case, tmp_path, problems)


@QUICK
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_any_bytes_are_read_or_rejected(data: bytes, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    try:
        table = read_export(path)
    except ReadError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert table.frame.height >= 0


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\t;|"),
    max_size=12,
)
_NAME = _TEXT.map(str.strip).filter(lambda n: n and n != ROW_COLUMN and not n.startswith("\ufeff"))


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(2, 5))
    header = draw(st.lists(_NAME, min_size=width, max_size=width, unique_by=str.casefold))
    rows = draw(st.lists(st.lists(_TEXT, min_size=width, max_size=width), max_size=8))
    return header, rows


@QUICK
@given(table=_tables(), terminator=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_csv_text_reads_back_exactly_as_written(
    table: tuple[list[str], list[list[str]]], terminator: str, bom: bool, tmp_path: Path
) -> None:
    header, rows = table
    # csv.writer leaves a value with a CR unquoted when lines end in LF. Polars then drops
    # a CR ending the value (the last one's is a CRLF line end, the same bytes); staging
    # would trim it anyway. Any other CR reads back.
    assume(not (terminator == "\n" and any(c.endswith("\r") for r in rows for c in r)))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=terminator).writerows([header, *rows])
    path = tmp_path / "text.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    if any(re.search(r"\r(?!\n)", name) for name in header):
        with pytest.raises(ReadError, match="carriage return without a line feed"):
            read_export(path)
        return
    read = read_export(path)
    assert read.header == header
    kept = [(i, r) for i, r in enumerate(rows, start=1) if any(r)]
    assert read.frame[ROW_COLUMN].to_list() == [i for i, _ in kept]
    values = read.frame.drop(ROW_COLUMN).rows()
    assert [list(v) for v in values] == [[c or None for c in r] for _, r in kept]


_CELL = st.one_of(
    st.sampled_from([*fuzz.FORMULAS, "-5", "+86 138", "@home", " =1", "\n=1", "\x00=1", "="]),
    st.text(max_size=20),
    st.text(alphabet="=+-@\t\r\n\x00 'a1", max_size=6),
)


@QUICK
@given(
    cells=st.lists(_CELL, min_size=1, max_size=6),
    numbers=st.lists(st.floats(-1e15, 1e15), min_size=1, max_size=6),  # amounts, not 1e308
    name=_CELL,
)
def test_text_that_would_run_as_a_formula_is_escaped_numbers_unchanged(
    cells: list[str], numbers: list[float], name: str
) -> None:
    size = min(len(cells), len(numbers))
    cells, numbers = cells[:size], numbers[:size]
    frame = pl.DataFrame(
        {
            "text": pl.Series(cells, dtype=pl.String),
            "code": pl.Series(cells, dtype=pl.Categorical),
            "amount": pl.Series(numbers, dtype=pl.Float64),
            "count": pl.Series(range(size), dtype=pl.Int64),
        }
    )
    frame = frame.rename({"count": name}) if name not in frame.columns else frame
    out = neutralised(frame)
    for column in ("text", "code"):
        for before, after in zip(cells, out[column].to_list(), strict=True):
            shown = "".join("\ufffd" if _unwritable(c) else c for c in before)
            assert after == ("'" + shown if shown.startswith(FORMULA_CHARACTERS) else shown)
    assert out["amount"].to_list() == numbers
    assert out["text"].dtype == out["code"].dtype == pl.String
    shown = "".join("\ufffd" if _unwritable(c) else c for c in name)
    expected = "'" + shown if shown.startswith(FORMULA_CHARACTERS) else shown
    if name not in ("text", "code", "amount") and expected not in ("text", "code", "amount"):
        assert out.columns[3] == expected
    assert not any(c.startswith(FORMULA_CHARACTERS) for c in out.columns)

    text = export_bytes(frame, "csv").decode("utf-8-sig")
    header, *records = csv.reader(io.StringIO(text, newline=""))
    assert not any(cell.startswith(FORMULA_CHARACTERS) for cell in header), header
    for record in records:  # text columns first; numbers (-5.0) may start with "-"
        assert not any(cell.startswith(FORMULA_CHARACTERS) for cell in record[:2]), record
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_CHARACTERS), cell
    amounts = [sheet.cell(r, 3).value for r in range(2, size + 2)]
    assert amounts == pytest.approx(numbers)


def _unwritable(character: str) -> bool:
    return ord(character) < 0x20 and character not in "\t\n\r"


# --------------------------------------------------------------------------- reproducers


@pytest.fixture()
def warehouse(base: fuzz.Base, tmp_path: Path) -> Path:
    db = tmp_path / "wh" / "w.duckdb"
    db.parent.mkdir()
    shutil.copyfile(base.db, db)
    return db


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _complaints(base: fuzz.Base) -> fuzz.Seed:
    return next(s for s in base.seeds if s.stem == "complaints")


def _xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    for values in [header, *rows]:
        book.active.append(values)
    book.save(path)
    return path


def _reject(db: Path, path: Path) -> str:
    """Load ``path``; it must be rejected with the warehouse untouched. Its message."""
    before = _sha(db)
    (outcome,) = load_paths(db, [path], LoadOptions(report=False))
    assert outcome.status == "rejected", (outcome.status, outcome.message)
    assert _sha(db) == before
    return outcome.message


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],  # a half-written sheet: ParseError while reading rows
        lambda d: d.replace(b'r="A2"', b'r="ZZZZZZ2"', 1),  # ValueError: bad cell reference
        lambda d: d.replace(b"<c ", b"<c \x00", 1),  # a NUL inside the XML
        lambda d: d.replace(b'<c r="A2"', b'<c r="A2" t="d"', 1),  # duplicate attribute
    ],
    ids=["truncated", "bad-reference", "nul", "duplicate-attribute"],
)
def test_sheet_xml_breaking_while_rows_are_read_is_a_rejection(
    base: fuzz.Base, warehouse: Path, tmp_path: Path, damage
) -> None:
    seed = _complaints(base)
    good = _xlsx(tmp_path / "good.xlsx", seed.header, seed.rows[:5]).read_bytes()
    path = tmp_path / "complaints.xlsx"
    path.write_bytes(fuzz._rewrite_part(good, fuzz.SHEET, damage))
    message = _reject(warehouse, path)
    assert message.startswith(f"{path}: ")
    assert "sheet cannot be read" in message or "not a readable .xlsx" in message


def test_a_row_numbered_past_excel_last_is_rejected_without_reading_the_gap(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.xlsx"  # openpyxl yields an empty row per missing number
    path.write_bytes(
        fuzz._workbook(fuzz._row(1, "complaint_id", "x") + fuzz._row(2_000_000_000, "A", "b"))
    )
    with pytest.raises(ReadError, match=r"beyond row 1,048,576, Excel's last"):
        read_export(path)


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(fuzz._zip_bomb(None))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ReadError, match=r"would expand 1,\d{3}-fold to 80 MB; refusing a zip bomb"):
        read_export(path)


def test_a_sparse_sheet_too_wide_to_hold_is_refused(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("etl.read._XLSX_MAX_CELLS", 100_000)  # the real limit: 50 million
    path = tmp_path / "wide.xlsx"
    path.write_bytes(fuzz._cell_bomb())  # a header out to column XFD, rows of one cell
    with pytest.raises(ReadError, match=r"more than 100,000 cells \(16,384 columns\)"):
        read_export(path)


def test_an_archive_that_is_no_workbook_is_a_rejection(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export.csv", "a,b\n1,2\n")
    with pytest.raises(ReadError, match=r"not a readable \.xlsx workbook"):
        read_export(path)


def test_a_nul_in_a_header_name_is_a_rejection_not_a_panic(
    base: fuzz.Base, warehouse: Path, tmp_path: Path
) -> None:
    # Was: polars panicked exporting the column name to DuckDB (NulError in Arrow's FFI).
    seed = _complaints(base)
    header = [*seed.header]
    header[-1] = header[-1][:3] + "\x00" + header[-1][3:]  # penalty_amount: not required
    path = tmp_path / "complaints.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *seed.rows])
    message = _reject(warehouse, path)
    assert message == f"{path}: header name {header[-1]!r} (column {len(header)}) holds a NUL byte"


def test_a_megabyte_value_reads_the_same_among_the_first_rows_as_further_down(
    tmp_path: Path,
) -> None:
    big = "备注" * (1 << 19)
    for at in (0, 30):  # the head (first 20 rows) is parsed with the csv module
        rows = [["a", str(i)] for i in range(40)]
        rows[at][0] = big
        path = tmp_path / f"big{at}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["note", "n"], *rows])
        assert read_export(path).frame["note"][at] == big


def _cli_load(path: Path, db: Path):
    return CliRunner().invoke(app, ["load", str(path), "--db", str(db), "--no-report"])


def test_cli_rejection_quoting_markup_and_control_characters_is_one_line(
    base: fuzz.Base, warehouse: Path, tmp_path: Path
) -> None:
    # Was: rich.errors.MarkupError (a traceback) for a header such as "[/x]".
    seed = _complaints(base)
    header = ["[/x]", "a\nb", "\x1b[31mred", *seed.header[3:]]  # no kind matches this header
    path = tmp_path / "[bold]complaints.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *seed.rows])
    before = _sha(warehouse)
    result = _cli_load(path, warehouse)
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert _sha(warehouse) == before
    (line,) = [line for line in result.output.splitlines() if line.startswith(path.name)]
    assert "[/x], a\\nb, \\x1b[31mred" in line and "header matches no export kind" in line
    assert "│ [bold]complaints.csv" in result.output  # the name in the table, as it is


def test_cli_rejection_naming_10000_columns_is_one_short_line(
    warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n" + "v," * 9_999 + "v\n")
    result = _cli_load(path, warehouse)
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith(path.name)]
    assert len(line) <= len("wide.csv: ") + 500 and line.endswith("…")


def test_cli_turns_an_unexpected_error_into_one_line(
    monkeypatch, warehouse: Path, tmp_path: Path
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("etl.pipeline.load_paths", broken)
    path = tmp_path / "complaints.csv"
    path.write_text("a,b\n1,2\n")
    result = _cli_load(path, warehouse)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "internal error" in line]
    assert lines == [
        f"Not loaded, the warehouse is unchanged: {path}: internal error RuntimeError:"
        " boom\\nsecond line"
    ]


def test_categorical_and_enum_text_is_escaped_in_downloads() -> None:
    # Was: only String columns were neutralised; the Excel writer stored these as formulas.
    frame = pl.DataFrame(
        {
            "kind": pl.Series(["=1+1", "ok"], dtype=pl.Categorical),
            "level": pl.Series(["@SUM(A1)", "b"], dtype=pl.Enum(["@SUM(A1)", "b"])),
            "=HYPERLINK(1)": [1.5, -2.0],  # a pivot's header comes from the data
        }
    )
    lines = export_bytes(frame, "csv").decode("utf-8-sig").splitlines()
    assert lines == ["kind,level,'=HYPERLINK(1)", "'=1+1,'@SUM(A1),1.5", "ok,b,-2.0"]
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["kind", "level", "'=HYPERLINK(1)"],
        ["'=1+1", "'@SUM(A1)", 1.5],
        ["ok", "b", -2],
    ]


def test_control_characters_do_not_break_the_excel_download() -> None:
    # Was: openpyxl's IllegalCharacterError for a NUL or BEL the loader had stored.
    frame = pl.DataFrame(
        {"description": ["a\x00b", "\x07=1+1", "tab\tok"], "on": [dt.date(2025, 10, 1)] * 3}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active
    assert [sheet.cell(r, 1).value for r in (2, 3, 4)] == ["a\ufffdb", "\ufffd=1+1", "tab\tok"]
    assert export_bytes(frame, "csv").decode("utf-8-sig").splitlines()[1] == "a\ufffdb,2025-10-01"


def _write_seed(base: fuzz.Base, stem: str, path: Path, change) -> Path:
    seed = next(s for s in base.seeds if s.stem == stem)
    header, rows = list(seed.header), [list(r) for r in seed.rows]
    change(header, rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.mark.parametrize("name", ["*", "^penalty_amount$", "^.*$"])
def test_a_header_polars_would_read_as_a_pattern_loads(
    base: fuzz.Base, warehouse: Path, tmp_path: Path, name: str
) -> None:
    # Was: polars DuplicateError out of load_paths: pl.col("*") is every column.
    def rename(header: list[str], rows: list[list[str]]) -> None:
        header[-1] = name  # penalty_amount, not required

    path = _write_seed(base, "complaints", tmp_path / "complaints.csv", rename)
    (outcome,) = load_paths(warehouse, [path], LoadOptions(report=False))
    assert (outcome.status, outcome.quarantined) == ("loaded", 0), outcome.message
    assert outcome.loaded == outcome.read == len(_complaints(base).rows)


@pytest.mark.parametrize("value", ["infinity", "-infinity", "inf", "INF"])
def test_an_infinite_time_is_quarantined_not_a_failure_of_the_file(
    base: fuzz.Base, warehouse: Path, tmp_path: Path, value: str
) -> None:
    # Was: DuckDB "Can't get TIME of infinite TIMESTAMP" in the counter-hours check
    # rejected the whole file: 'infinity' casts to a timestamp.
    def infinite(header: list[str], rows: list[list[str]]) -> None:
        rows[0][header.index("ticket_at")] = value

    path = _write_seed(
        base, "transactions_2025-10", tmp_path / "transactions_2025-10.csv", infinite
    )
    (outcome,) = load_paths(warehouse, [path], LoadOptions(report=False))
    assert outcome.status == "loaded", outcome.message
    assert (outcome.quarantined, outcome.rule_counts) == (1, {"bad_type_ticket_at": 1})


def test_nan_and_infinite_numbers_are_bad_values(
    base: fuzz.Base, warehouse: Path, tmp_path: Path
) -> None:
    def not_numbers(header: list[str], rows: list[list[str]]) -> None:
        rows[0][header.index("target")] = "NaN"
        rows[1][header.index("target")] = "-inf"

    path = _write_seed(base, "kpi_targets", tmp_path / "kpi_targets.csv", not_numbers)
    (outcome,) = load_paths(warehouse, [path], LoadOptions(report=False))
    assert outcome.rule_counts.get("bad_type_target") == 2, outcome.message


def test_a_lone_carriage_return_loses_no_record(tmp_path: Path) -> None:
    # Was: the header was parsed up to the CR (csv module), polars skipped its first line
    # up to the LF, and record "1,2" was gone without a trace.
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b\r1,2\n3,4\n")
    with pytest.raises(ReadError, match=r"line 1: the header holds a carriage return"):
        read_export(path)
    path.write_bytes(b"a,b\n1,x\ry\n3,4\n")  # in a value, a lone CR is kept, as polars does
    assert read_export(path).frame.drop(ROW_COLUMN).rows() == [("1", "x\ry"), ("3", "4")]
