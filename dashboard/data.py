"""How pages get numbers: warehouse reads under the viewer's scope, on short-lived connections.

Every read goes through the signed-in person's :class:`warehouse.scope.Scope`: its
arguments are bound to the reach before the (cached) call, its result cut down after it.
A function not declared in :data:`warehouse.reads.READS` is refused, so a page cannot
read around the scope.

The ETL replaces the warehouse file atomically while people browse, so a page never keeps
a connection open: each cache miss opens the file read-only for the duration of one call.
The cache key includes the file's identity (inode, size, mtime), so a new load shows up
on the next interaction without a restart.

Queries run one at a time per process: DuckDB hands a new connection the database
instance that is already open for the same path, so a connection opened while another
one still reads the replaced file would see the old version and cache it under the new
key. With no connection left open between queries, each one opens the current file.
DuckDB still uses every core within a query.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st

from access.store import AuditEvent
from dashboard.session import audit, current_scope
from warehouse.console import QueryResult
from warehouse.console_pool import ConsolePool
from warehouse.reads import declared
from warehouse.scope import PAY_COLUMNS, Permission, Read, staff_of
from warehouse.settings import resolve_db_path

_ONE_AT_A_TIME = threading.Lock()


def warehouse_path() -> Path:
    """The warehouse this dashboard serves (``$RCCDASH_DB`` set by ``rccdash serve``)."""
    return resolve_db_path(None)


def warehouse_version() -> tuple[int, int, int] | None:
    """Identity of the current warehouse file, or None when there is none yet."""
    try:
        info = os.stat(warehouse_path())
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


@st.cache_resource(show_spinner=False, max_entries=512)
def _cached(
    _fn: Callable[..., Any], fn_name: str, version: tuple[int, int, int], kwargs: tuple
) -> Any:
    """Run ``_fn(con, **kwargs)`` on a fresh read-only connection (cached per version).

    A resource cache hands every session the same result object instead of unpickling a
    copy per call (a tenth of a new session's CPU): the results are polars frames and
    frozen dataclasses, which pages never change in place.
    """
    del fn_name, version  # part of the cache key only
    with _ONE_AT_A_TIME, duckdb.connect(str(warehouse_path()), read_only=True) as con:
        return _fn(con, **dict(kwargs))


def fetch(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call the warehouse read ``fn(con, **kwargs)`` under the viewer's scope, cached.

    Raises :class:`warehouse.scope.OutOfScope` for what the viewer may not see and
    :class:`warehouse.reads.UndeclaredRead` for a read without a declared scope.
    Keyword values must be hashable (tuples for lists) so they can key the cache.
    """
    scope = current_scope()
    read = declared(fn)
    version = warehouse_version()
    if version is None:
        raise WarehouseMissing(warehouse_path())
    bound = scope.bind(read, kwargs, lambda: _staff_of(version, scope.outlets or frozenset()))
    name = f"{fn.__module__}.{fn.__qualname__}"
    return scope.redact(read, _cached(fn, name, version, tuple(sorted(bound.items()))))


@st.cache_resource(show_spinner=False, max_entries=64)
def _staff_of(version: tuple[int, int, int], outlets: frozenset[str]) -> frozenset[str]:
    """The people of ``outlets`` (cached per warehouse file)."""
    del version  # part of the cache key only
    with _ONE_AT_A_TIME, duckdb.connect(str(warehouse_path()), read_only=True) as con:
        return staff_of(con, outlets)


class WarehouseMissing(Exception):
    """No warehouse file yet: the page explains how to load one."""


# The console's result, like every read, is cut to the scope: identifiers in any text
# column are masked without the pii permission.
_CONSOLE = Read(needs=(Permission.CONSOLE,), text_columns=("*",))


@st.cache_resource(show_spinner=False)
def _console_pool() -> ConsolePool:
    """The worker processes of this dashboard's SQL console, started on first use."""
    return ConsolePool()


def console(sql: str, *, row_cap: int, time_limit_s: float) -> QueryResult:
    """Run an analyst's SQL on the warehouse under the viewer's scope, and audit it.

    The query runs in a worker process of its own (``warehouse.console_pool``): one that
    overruns its time or memory is killed there, never in this process. Pay columns are
    empty without the pay permission (``warehouse.console`` reads views of the tables
    then), identifiers masked without pii; every query is logged with its text, rows and
    duration.
    """
    scope = current_scope()
    scope.bind(_CONSOLE, {}, frozenset)
    hidden = None if scope.sees_pay else PAY_COLUMNS
    result = _console_pool().run(
        warehouse_path(), sql, row_cap=row_cap, time_limit_s=time_limit_s, hidden=hidden
    )
    audit(
        AuditEvent.CONSOLE_QUERY,
        sql=sql,
        rows=None if result.frame is None else result.frame.height,
        seconds=round(result.elapsed_s, 3),
        problem=result.problem,
    )
    return scope.redact(_CONSOLE, result)
