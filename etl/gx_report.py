"""The declared contract as a Great Expectations suite, run for each file's HTML report.

Row-level enforcement happens in SQL where the data is (:mod:`etl.rules`); this module
builds the same declarations into a GX suite, validates a sample of the staged rows
(``gx_sample_rows``, picked across the whole file) with it, and writes an HTML report
beside the whole-file rule counts, so the data-quality page can link to it. GX is imported
only in the report process this module starts (:class:`Checker`; importing GX takes
seconds): never by the loading process itself, nor by the dashboard.
"""

from __future__ import annotations

import contextlib
import gc
import html
import importlib.abc
import importlib.machinery
import importlib.util
import itertools
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, TYPE_CHECKING, Any, cast

import duckdb

from etl.mapping import Mapping, quote
from etl.rules import ID_NOT_TEXT, settings, suite
from warehouse.settings import load_config

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from etl.outcome import FileOutcome

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
STYLE = (
    'body{font-family:"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}'
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    "tr.bad td{background:#fde8e8}tr.ok td:first-child{color:#1a7f37}"
    "tr.bad td:first-child{color:#c62828}"
)
NONE_ROW = "<tr><td colspan=2>none</td></tr>"
# The report's sample picks rows by hash in this many slots (see :func:`sample`).
_SAMPLE_SLOTS = 1_000_000
# Packages GX imports at start-up for expectations and renderers this suite never uses
# (KL divergence, charts): loaded on first use instead, which saves about a third of the
# report process's start-up CPU, which it would otherwise take from the load.
LAZY_PACKAGES = ("scipy", "altair")


def expectations(kind: str) -> list[Any]:
    """The GX expectations declared for ``kind`` in ``config/expectations.yaml``."""
    import great_expectations as gx

    e = gx.expectations
    spec = suite(kind)
    out: list[Any] = []
    for column in spec.get("not_null", []):
        out.append(e.ExpectColumnValuesToNotBeNull(column=column))
    for column, allowed in spec.get("in_set", {}).items():
        out.append(e.ExpectColumnValuesToBeInSet(column=column, value_set=list(allowed)))
    for column, bounds in spec.get("between", {}).items():
        out.append(
            e.ExpectColumnValuesToBeBetween(
                column=column, min_value=bounds.get("min"), max_value=bounds.get("max")
            )
        )
    key = spec.get("key", [])
    if len(key) == 1:
        out.append(e.ExpectColumnValuesToBeUnique(column=key[0]))
    elif key:
        out.append(e.ExpectCompoundColumnsToBeUnique(column_list=list(key)))
    order = spec.get("order", [])
    for earlier, later in itertools.pairwise(order):
        out.append(
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    for column in spec.get("id_text", []):
        out.append(e.ExpectColumnValuesToNotMatchRegex(column=column, regex=ID_NOT_TEXT))
    return out


def sample_rows() -> int:
    """How many rows of each file the report validates (``gx_sample_rows``), checked once."""
    rows = int(settings()["gx_sample_rows"])
    if rows < 1:
        raise ValueError(f"config/expectations.yaml: gx_sample_rows must be at least 1, not {rows}")
    return rows


def sample(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> pa.Table:
    """About ``gx_sample_rows`` staged rows picked across the whole file, as Arrow.

    Why not the first rows: an export sorted by outlet or by time would show GX only one
    outlet or the first days of the month, while the report should speak for the file.
    A kept row is picked when the hash of its record number, as a share of its range,
    falls below 98% of ``gx_sample_rows`` / kept rows (98%: the chance count then stays
    within the limit, which would otherwise cut the end of the file off): deterministic,
    spread evenly in expectation, and blind to periodic layouts (every k-th record would
    pick only the morning segments of a roster with two per day when k is even). Arrow
    rather than pandas: the loading process never needs pandas, and the report process
    turns it into the same pandas frame DuckDB would have given (:func:`_check`).
    """
    columns = ", ".join(["__row", *(quote(c) for c in mapping.kind.types)])
    limit = sample_rows()
    kept = "FROM stg WHERE __drop IS NULL"
    rows = int(con.execute(f"SELECT count(*) {kept}").fetchall()[0][0])
    share = _SAMPLE_SLOTS * limit * 98 // (100 * rows) if rows > limit else _SAMPLE_SLOTS
    picked = f"hash(__row) % {_SAMPLE_SLOTS} < {share}"
    sampled = con.sql(f"SELECT {columns} {kept} AND {picked} ORDER BY __row LIMIT {limit}")
    return sampled.to_arrow_table()


class Checker:
    """Runs the GX suite in a separate process, of lower priority than the load once ready.

    Why a process: importing GX and running the suite cost seconds of CPU. In a thread of
    the loading process they contend with it for the GIL and the cores while it stages
    millions of rows; in a process they only share the cores. The process starts, and
    imports GX, when the checker is created; it then runs at ``report_niceness``
    (config/settings.yaml), so the checks take what the load leaves idle and the load
    waits only for what is left when it needs the results. It is a fresh interpreter
    (``python -m etl.gx_report``) talking pickles over a pipe: a fork of a process running
    DuckDB or polars threads can hang, and multiprocessing's spawn would re-run the
    caller's main script.
    """

    def __init__(self) -> None:
        sample_rows()  # a bad setting fails the run before anything is read
        niceness = str(int(load_config("settings")["etl"]["report_niceness"]))
        root = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "etl.gx_report", niceness],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        self._requests = cast(IO[bytes], self._process.stdin)
        self._answers = cast(IO[bytes], self._process.stdout)
        self._exchange = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rccdash-gx")

    def check(self, rows: pa.Table, kind: str) -> Future[list[dict[str, Any]]]:
        """Validate ``rows`` (from :func:`sample`) against the kind's suite, in the process."""
        return self._exchange.submit(self._ask, rows, kind)

    def _ask(self, rows: pa.Table, kind: str) -> list[dict[str, Any]]:
        """Send one sample and wait for its results (in the exchange thread)."""
        pickle.dump((rows, kind), self._requests)
        self._requests.flush()
        try:
            ok, answer = pickle.load(self._answers)
        except EOFError:
            raise RuntimeError("the validation report process ended unexpectedly") from None
        if not ok:
            raise RuntimeError(answer)
        return answer

    def close(self) -> None:
        """Stop the process once every check asked for has answered.

        Killed rather than asked to exit: it holds nothing that needs closing, and tearing
        down an interpreter that imported GX takes a noticeable part of a second.
        """
        self._exchange.shutdown(wait=True)
        self._process.kill()
        self._process.wait()
        for pipe in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                pipe.close()

    def __enter__(self) -> Checker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _LazyImports(importlib.abc.MetaPathFinder):
    """Import the named packages (and their submodules) lazily: run them on first use.

    Uses the standard library's :class:`importlib.util.LazyLoader`: ``import scipy.stats``
    gives a module object at once and executes it when an attribute is first looked up.
    """

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = set(packages)

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The regular spec of a module of the named packages, with a lazy loader."""
        if name.partition(".")[0] not in self.packages:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def _serve(niceness: int) -> None:
    """The report process: import GX, then yield the processor to the load, answer samples.

    Why import first, at the load's priority: done at a lower one, the import was still
    going when the load finished, which then waited for it with a core idle (0.3-0.7 s
    on a 2M-row file); done first, it shares the cores while the load starts and is over
    by the time a sample arrives. The import builds hundreds of thousands of objects and
    no garbage cycles worth collecting: with the collector paused it takes about 15% less
    CPU (1.3 -> 1.1 s), which it would otherwise take from the load; what it built is then
    frozen, so later collections in the checks never walk it again. Requests and answers
    are pickles on stdin and the original stdout; anything GX prints goes to stderr, so it
    cannot corrupt an answer.
    """
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.meta_path.insert(0, _LazyImports(LAZY_PACKAGES))
    gc.disable()
    import great_expectations  # noqa: F401  (imported before any request: it takes seconds)

    gc.freeze()  # the modules stay for the life of the process
    gc.enable()
    os.nice(niceness)

    while True:
        try:
            rows, kind = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, _check(rows, kind))
        except Exception as exc:  # the loader reports it as "report not written"
            answer = (False, f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers)
        answers.flush()


def _check(rows: pa.Table, kind: str) -> list[dict[str, Any]]:
    """In the report process: the sample as the pandas frame DuckDB gives, validated."""
    return validate(duckdb.from_arrow(rows).df(), kind)


def validate(frame: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Run the kind's GX suite on ``frame``; one dict per expectation.

    Needs no database connection, so it runs in the report process (:class:`Checker`)
    while the load goes on.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("staged")
        .add_dataframe_asset("file")
        .add_batch_definition_whole_dataframe("all")
    )
    declared = gx.ExpectationSuite(name=kind, expectations=expectations(kind))
    declared = context.suites.add(declared)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=declared, name="file")
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["__row"]},
    )
    rows = []
    for item in result.results:
        config = item.expectation_config
        failing = [entry.get("__row") for entry in item.result.get("unexpected_index_list") or []]
        rows.append(
            {
                "expectation": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)},
                "success": bool(item.success),
                "unexpected": int(item.result.get("unexpected_count") or 0),
                "rows": sorted({int(r) for r in failing if r is not None})[:20],
                "checked": len(frame),
            }
        )
    return rows


def write_report(
    results: list[dict[str, Any]],
    mapping: Mapping,
    outcome: FileOutcome,
    load_id: int,
    folder: Path,
) -> Path:
    """Write ``load-<id>-<file>.html`` with the GX results and the whole-file rule counts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = report_path(folder, load_id, outcome.path)
    path.write_text(render(outcome, mapping, results), encoding="utf-8")
    return path


def report_path(folder: Path, load_id: int, export: Path) -> Path:
    """Where the report of one loaded file goes, known before it is written.

    The load records it in ``etl_load`` when it commits the file, while the report is
    still being checked; a report that then fails is unrecorded again.
    """
    return folder / f"load-{load_id:06d}-{export.stem}.html"


def render(outcome: FileOutcome, mapping: Mapping, results: list[dict[str, Any]]) -> str:
    """The report as a self-contained HTML page."""
    esc = html.escape
    sample = results[0]["checked"] if results else 0
    rule_rows = "".join(
        f"<tr><td>{esc(rule)}</td><td>{count:,}</td></tr>"
        for rule, count in outcome.rule_counts.items()
    )
    gx_rows = "".join(
        f"<tr class={'ok' if r['success'] else 'bad'}><td>{'✔' if r['success'] else '✘'}</td>"
        f"<td>{esc(r['expectation'])}</td><td><code>{esc(str(r['kwargs']))}</code></td>"
        f"<td>{r['unexpected']:,}</td><td>{esc(', '.join(map(str, r['rows'])))}</td></tr>"
        for r in results
    )
    sources = "".join(
        f"<tr><td>{esc(f)}</td><td>{esc(s)}</td></tr>" for f, s in mapping.sources.items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Validation report: {esc(outcome.path.name)}</title>
<style>{STYLE}</style>
</head><body><h1>Validation report: {esc(outcome.path.name)}</h1>
<p>Kind <b>{esc(mapping.kind.name)}</b>. Rows read {outcome.read:,}: loaded {outcome.loaded:,},
duplicate {outcome.duplicate:,}, quarantined {outcome.quarantined:,},
dropped {outcome.dropped:,}.</p>
<h2>Rules that quarantined or dropped rows (whole file)</h2>
<table><tr><th>rule</th><th>rows</th></tr>{rule_rows or NONE_ROW}</table>
<h2>Great Expectations suite “{esc(mapping.kind.name)}” on {sample:,} rows spread over the file</h2>
<table><tr><th></th><th>expectation</th><th>arguments</th><th>unexpected</th>
<th>first failing rows</th></tr>{gx_rows}</table>
<h2>Where each canonical field came from</h2>
<table><tr><th>field</th><th>source</th></tr>{sources}</table>
</body></html>"""


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
