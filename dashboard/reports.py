"""What the data-quality page reads besides queries: report files and quarantined records.

A load's HTML validation report is found on disk; a quarantined row's record (JSON text)
is spread into columns so an operator reads it like the file it came from.

A report is an HTML file found beside the warehouse: whoever can write that folder
decides what it holds. It is therefore never trusted and never filtered: the page offers
it under a one-time address (:func:`offer`) that the server answers with a
``Content-Security-Policy: sandbox`` header (:func:`report_route`), so in the browser it
runs in an origin of its own with scripts off, whatever it contains.

``etl_load.report_path`` says where the loader wrote each report. Warehouses get copied
and moved together with their ``<warehouse>-reports/`` folder, so when the recorded path
is gone the report is also looked for under its own name beside the warehouse served.
Reading a file is not a query, so this lives beside the page, not in ``warehouse``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

HTML_SUFFIXES = (".html", ".htm")
# The report in the browser: an origin of its own, no scripts, no forms, nothing fetched
# from elsewhere; its own inline styles and embedded images only.
SANDBOX = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
_OFFER_TTL_S = 600.0
_OFFERED: dict[str, tuple[str, bytes, float]] = {}
_OFFERED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Report:
    """A load's report: ``none`` (never written), ``missing`` (gone) or ``found`` (bytes)."""

    status: Literal["none", "missing", "found"]
    path: Path | None = None
    html: bytes = b""


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


def offer(html: bytes, username: str) -> str:
    """A one-time address from which ``username`` may fetch ``html`` for a while."""
    token = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _OFFERED_LOCK:
        for key in [k for k, (_, _, until) in _OFFERED.items() if until < now]:
            del _OFFERED[key]
        _OFFERED[token] = (username, html, now + _OFFER_TTL_S)
    return f"/reports/{token}"


def report_route(account_of: Callable[[Request], Any]) -> Route:
    """The server's ``/reports/<token>`` route; ``account_of`` names the signed-in person."""

    async def serve(request: Request) -> Response:
        account = account_of(request)
        with _OFFERED_LOCK:
            offered = _OFFERED.get(request.path_params["token"])
        if account is None or offered is None or offered[0] != account.username:
            return PlainTextResponse("no such report", status_code=404)
        return Response(
            offered[1],
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": SANDBOX,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    return Route("/reports/{token}", serve)


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
