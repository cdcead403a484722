"""What the data-quality page reads besides queries: report files and quarantined records.

A load's HTML validation report is found on disk; a quarantined row's record (JSON text)
is spread into columns so an operator reads it like the file it came from.

``etl_load.report_path`` says where the loader wrote each report. Warehouses get copied
and moved together with their ``<warehouse>-reports/`` folder, so when the recorded path
is gone the report is also looked for under its own name beside the warehouse served.
Reading a file is not a query, so this lives beside the page, not in ``warehouse``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

HTML_SUFFIXES = (".html", ".htm")
# What a static report never holds: scripts, event handlers, javascript: links, frames.
ACTIVE_CONTENT = re.compile(rb"<\s*(script|iframe|object|embed)|\son\w+\s*=|javascript:", re.I)


@dataclass(frozen=True)
class Report:
    """A load's report: ``none`` (never written), ``missing`` (gone) or ``found`` (bytes)."""

    status: Literal["none", "missing", "found"]
    path: Path | None = None
    html: bytes = b""

    @property
    def embeddable(self) -> bool:
        """True for a found report without active content, safe to show inside the page.

        The loader writes static, escaped HTML; a file with scripts was not written by it
        and is only offered as a download.
        """
        return self.status == "found" and not ACTIVE_CONTENT.search(self.html)


def reports_dir(warehouse: Path) -> Path:
    """Where the loader writes reports: ``<warehouse>-reports/`` (``etl.pipeline.reports_dir``).

    Restated rather than imported so the dashboard does not load the whole ETL; a test
    checks that both say the same.
    """
    return warehouse.with_name(f"{warehouse.stem}-reports")


def find_report(recorded: str | None, warehouse: Path) -> Report:
    """The report recorded for a load, read from where it was written or beside ``warehouse``.

    Only ``.html`` files are read: the path comes from the warehouse, and the page must
    never become a way to read any file on the server.
    """
    if not recorded:
        return Report("none")
    path = Path(recorded)
    for candidate in (path, reports_dir(warehouse) / path.name):
        if candidate.suffix.lower() in HTML_SUFFIXES and candidate.is_file():
            return Report("found", candidate, candidate.read_bytes())
    return Report("missing", path)


def expand_records(rows: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows with each field of the record as read in a column of its own.

    Records are JSON objects of text values; a field named like one of the row's own
    columns (load_id, rules, ...) gets a ``record.`` prefix instead of replacing it.
    """
    if rows.is_empty():
        return rows
    records = [json.loads(text) if text else {} for text in rows["raw_record"].to_list()]
    fields = pl.DataFrame(records, infer_schema_length=None)
    own = rows.drop("raw_record")
    fields = fields.rename({c: f"record.{c}" for c in fields.columns if c in own.columns})
    return pl.concat([own, fields.select(pl.all().cast(pl.String))], how="horizontal")
