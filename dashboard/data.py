"""How pages get numbers: KPI-layer calls on short-lived read-only connections, cached.

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


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(
    _fn: Callable[..., Any], fn_name: str, version: tuple[int, int, int], kwargs: tuple
) -> Any:
    """Run ``_fn(con, **kwargs)`` on a fresh read-only connection (cached per version)."""
    del fn_name, version  # part of the cache key only
    with _ONE_AT_A_TIME, duckdb.connect(str(warehouse_path()), read_only=True) as con:
        return _fn(con, **dict(kwargs))


def fetch(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a warehouse function ``fn(con, **kwargs)``, cached until the next load.

    Keyword values must be hashable (tuples for lists) so they can key the cache.
    """
    version = warehouse_version()
    if version is None:
        raise WarehouseMissing(warehouse_path())
    return _cached(fn, f"{fn.__module__}.{fn.__qualname__}", version, tuple(sorted(kwargs.items())))


class WarehouseMissing(Exception):
    """No warehouse file yet: the page explains how to load one."""
