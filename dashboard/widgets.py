"""The few ways pages show things: charts that export as PNG, tables that download.

Keeping them here means every chart has the same PNG button and every table the same
CSV / Excel / Parquet downloads, whichever page it is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from access.store import AccessStore, AuditEvent
from dashboard import session
from dashboard.exports import FORMATS, export_bytes, export_frame
from dashboard.i18n import format_change, format_kpi, kpi_label, translate
from warehouse.scope import Permission


def plot_config(filename: str) -> dict[str, Any]:
    """Plotly's toolbar: PNG export at print resolution named after the chart, no logo."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


RAG_MARK = {"green": ":green[●]", "amber": ":orange[●]", "red": ":red[●]"}


def kpi_cards(rows: pl.DataFrame, lang: str, *, per_row: int = 4, rag: bool = True) -> None:
    """Headline cards from ``warehouse.headline`` rows: value, change, target, RAG dot.

    The change is coloured by whether it is good news in the KPI's direction (a fall in
    waiting time is green), the dot compares the value with its target, and the target
    itself is in the card's tooltip, so every page reads its cards the same way.
    """
    columns = st.columns(min(per_row, max(rows.height, 1)))
    for i, row in enumerate(rows.iter_rows(named=True)):
        name = row["kpi"]
        if row["improved"] is None:
            colour = "off"
        else:  # Streamlit colours a rise green ("normal") or red ("inverse")
            rising = (row["change"] or 0) > 0
            colour = "normal" if rising == bool(row["improved"]) else "inverse"
        target = row.get("target")
        help_text = None
        if target is not None:
            help_text = f"{translate('target', lang)}: {format_kpi(name, target, lang)}"
        label = kpi_label(name, lang)
        if rag:
            label = f"{RAG_MARK.get(row.get('rag') or '', ':gray[○]')} {label}"
        with columns[i % len(columns)]:
            st.metric(
                label,
                format_kpi(name, row["current"], lang),
                delta=format_change(name, row["change"], lang),
                delta_color=colour,
                help=help_text,
                border=True,
                height="stretch",
            )


def chart(fig: go.Figure, key: str, *, clickable: bool = False) -> list[dict[str, Any]]:
    """Show a figure; with ``clickable`` return the points the user clicked (else [])."""
    if not clickable:
        st.plotly_chart(fig, key=key, config=plot_config(key))
        return []
    state = st.plotly_chart(
        fig, key=key, config=plot_config(key), on_select="rerun", selection_mode="points"
    )
    return list(state.selection.points) if state and state.selection else []


def table(
    frame: pl.DataFrame,
    key: str,
    lang: str,
    *,
    column_config: Mapping[str, Any] | None = None,
    height: int | None = None,
    selectable: bool = False,
) -> list[int]:
    """Show a table with download buttons; with ``selectable`` return the chosen row numbers.

    Downloads hold every row of ``frame``, also those the screen scrolls past, with ids
    in place of the links shown on screen.
    """
    if frame.is_empty():
        st.info(translate("no_rows", lang))
        return []
    state = st.dataframe(
        frame,
        key=key,
        hide_index=True,
        column_config=dict(column_config or {}),
        height=height or "auto",
        on_select="rerun" if selectable else "ignore",
        selection_mode="single-row",
    )
    download(export_frame(frame, column_config or {}), key, lang)
    if selectable and state and state.selection:
        return list(state.selection.rows)
    return []


def download(frame: pl.DataFrame, name: str, lang: str) -> None:
    """Three small download buttons in a row under a table: CSV, Excel, Parquet.

    Only for those allowed to take tables away; each download is written to the audit log
    (which table, which format, how many rows, under which scope) when it is made.
    """
    scope = session.current_scope()
    if not scope.can(Permission.DOWNLOAD):
        return
    selection = st.session_state.get("selection")
    what = {
        "table": name,
        "rows": frame.height,
        "outlets": "all" if scope.outlets is None else sorted(scope.outlets),
        "period": getattr(selection, "key", None),
    }
    who, store = session.current_account().username, session.store()
    with st.container(horizontal=True):
        for fmt, mime in FORMATS.items():
            st.download_button(
                translate(f"download_{fmt}", lang),
                data=lambda fmt=fmt: _audited(store, who, frame, fmt, what),
                file_name=f"{name}.{fmt}",
                mime=mime,
                key=f"dl-{name}-{fmt}",
                icon=":material/download:",
                type="tertiary",
                on_click="ignore",
            )


def _audited(
    store: AccessStore, who: str, frame: pl.DataFrame, fmt: str, what: dict[str, Any]
) -> bytes:
    """The file's bytes, made when the person clicks, and the audit line saying so.

    Runs outside the page's script (Streamlit calls it when the file is asked for), so it
    is given everything it records instead of reading the session.
    """
    store.audit(AuditEvent.DOWNLOAD, who, format=fmt, **what)
    return export_bytes(frame, fmt)
