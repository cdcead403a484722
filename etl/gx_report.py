"""The declared contract as a Great Expectations suite, run for each file's HTML report.

Row-level enforcement happens in SQL where the data is (:mod:`etl.rules`); this module
builds the same declarations into a GX suite, validates the first rows of the staged file
(``gx_sample_rows``) with it, and writes an HTML report beside the whole-file rule counts,
so the data-quality page can link to it. GX is imported only here (it takes seconds), and
only the ETL process imports it: never the dashboard.
"""

from __future__ import annotations

import html
import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from etl.mapping import Mapping, quote
from etl.rules import ID_NOT_TEXT, settings, suite

if TYPE_CHECKING:
    import pandas as pd

    from etl.pipeline import FileOutcome

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
STYLE = (
    'body{font-family:"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}'
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    "tr.bad td{background:#fde8e8}tr.ok td:first-child{color:#1a7f37}"
    "tr.bad td:first-child{color:#c62828}"
)
NONE_ROW = "<tr><td colspan=2>none</td></tr>"


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


def sample(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> pd.DataFrame:
    """The first staged rows of the file (``gx_sample_rows``), as pandas for GX."""
    columns = ", ".join(["__row", *(quote(c) for c in mapping.kind.types)])
    limit = int(settings()["gx_sample_rows"])
    return con.sql(
        f"SELECT {columns} FROM stg WHERE __drop IS NULL ORDER BY __row LIMIT {limit}"
    ).df()


def validate(frame: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Run the kind's GX suite on ``frame``; one dict per expectation.

    Needs no database connection, so the load runs it in a thread while it inserts rows.
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
    path = folder / f"load-{load_id:06d}-{outcome.path.stem}.html"
    path.write_text(render(outcome, mapping, results), encoding="utf-8")
    return path


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
<h2>Great Expectations suite “{esc(mapping.kind.name)}” on the first {sample:,} rows</h2>
<table><tr><th></th><th>expectation</th><th>arguments</th><th>unexpected</th>
<th>first failing rows</th></tr>{gx_rows}</table>
<h2>Where each canonical field came from</h2>
<table><tr><th>field</th><th>source</th></tr>{sources}</table>
</body></html>"""
