"""Data quality for the operator: what each load did, what was rejected and why, what is missing.

Load history with where every row went, the validation rules rows failed per load, the
quarantined rows themselves, the load's HTML validation report, and completeness: the
business days on which an outlet sent no events, and reversals whose original is missing.
Draws as soon as a warehouse exists, even before any service events are loaded.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboard import data, session, widgets
from dashboard.figures.data_quality import (
    fates_figure,
    missing_bars,
    rule_bars,
    rule_label,
)
from dashboard.figures.style import AMBER, BAD, GOOD, TARGET
from dashboard.navigation import can_open, link, open_clicked_outlet
from dashboard.page import PageContext, run_page
from dashboard.reports import expand_records, find_report, offer
from warehouse.completeness import missing_days
from warehouse.coverage import coverage
from warehouse.data_quality import (
    load_history,
    load_totals,
    orphan_reversals,
    quarantined_rows,
    rule_counts,
)
from warehouse.settings import load_config

LOAD_KEY, RULE_KEY = "dq_load", "dq_rule"
ALL_LOADS, ALL_RULES = 0, ""  # load ids start at 1; rule names are never empty
STATUS_COLOURS = {
    "loaded": GOOD,
    "loaded_with_quarantine": AMBER,
    "skipped": TARGET,
    "rejected": BAD,
    "retry": GOOD,
}
LOAD_COLUMNS = (
    "load_id",
    "file_name",
    "source_kind",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_duplicate",
    "rows_quarantined",
    "rows_dropped",
    "balanced",
    "started_at",
    "finished_at",
    "message",
    "profile",
    "encoding",
)


def _status_column(ctx: PageContext, label: str) -> Any:
    """Status as a coloured label: green clean, amber rows held back, grey skipped, red rejected."""
    return st.column_config.MultiselectColumn(
        label,
        width="medium",
        options=list(STATUS_COLOURS),
        color=list(STATUS_COLOURS.values()),
        format_func=lambda status: ctx.t(f"dq_status_{status}"),
    )


def _summary(ctx: PageContext) -> None:
    """Four numbers over every load (files, rows read, loaded, quarantined), the last load."""
    totals = data.fetch(load_totals)
    read, quarantined = totals["rows_read"], totals["rows_quarantined"]
    share = "—" if not read else f"{quarantined / read:.2%}"
    if read and 0 < quarantined / read < 0.0001:
        share = "<0.01%"
    cards = (
        ("dq_files_loaded", f"{totals['files_loaded']:,}", None),
        ("dq_rows_read", f"{read:,}", None),
        ("dq_rows_loaded", f"{totals['rows_loaded']:,}", None),
        ("dq_rows_quarantined", f"{quarantined:,}", ctx.t("dq_quarantined_share", share=share)),
    )
    for column, (key, value, note) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(
            ctx.t(key), value, delta=note, delta_color="off", delta_arrow="off", border=True
        )
    if totals["last_finished_at"] is not None:
        st.caption(ctx.t("dq_last_load", when=f"{totals['last_finished_at']:%Y-%m-%d %H:%M}"))


def _history(ctx: PageContext, history: pl.DataFrame, chart_loads: int) -> None:
    """The load log as a chart of row fates and a table with downloads."""
    st.subheader(ctx.t("dq_loads_title"))
    widgets.chart(fates_figure(history.head(chart_loads), ctx.lang), "dq-fates")
    st.caption(ctx.t("dq_fates_caption"))
    parts = ("rows_loaded", "rows_duplicate", "rows_quarantined", "rows_dropped")
    table = history.with_columns(status=pl.col("outcome")).select(LOAD_COLUMNS)
    keys = ("load", "file", "kind", "status", "read", "loaded", "duplicate", "quarantined")
    keys += ("dropped", "balanced", "started", "finished", "message", "profile", "encoding")
    config = {c: ctx.t(f"dq_col_{k}") for c, k in zip(LOAD_COLUMNS, keys, strict=True)}
    for column in ("rows_read", *parts):
        config[column] = st.column_config.NumberColumn(config[column], format="localized")
    config["status"] = _status_column(ctx, config["status"])
    widgets.table(table, "dq-loads", ctx.lang, column_config=config)


def _pick_load(ctx: PageContext, history: pl.DataFrame) -> int:
    """The load to inspect: picked, else the newest one that quarantined rows, else the newest."""
    loads = history.filter(pl.col("status") == "loaded")
    names = {
        r["load_id"]: ctx.t(
            "dq_load_option",
            id=r["load_id"],
            file=r["file_name"],
            quarantined=f"{r['quarantined_now']:,}",
        )
        for r in loads.iter_rows(named=True)
    }
    options = [ALL_LOADS, *names]
    if st.session_state.get(LOAD_KEY) not in options:
        flagged = loads.filter(pl.col("quarantined_now") > 0)["load_id"]
        newest = flagged if flagged.len() else loads["load_id"]
        st.session_state[LOAD_KEY] = int(newest[0]) if newest.len() else ALL_LOADS
    return st.selectbox(
        ctx.t("dq_load_pick"),
        options,
        format_func=lambda i: ctx.t("dq_load_all") if i == ALL_LOADS else names[i],
        key=LOAD_KEY,
    )


def _rules(ctx: PageContext, load_id: int | None) -> pl.DataFrame:
    """Counts per failed rule for the chosen load: a chart and a table."""
    counts = data.fetch(rule_counts, load_id=load_id)
    if counts.is_empty():
        st.success(ctx.t("dq_all_passed"))
        return counts
    widgets.chart(rule_bars(counts, ctx.lang), "dq-rules")
    st.caption(ctx.t("dq_rules_caption"))
    table = counts.select(
        "rule",
        description=pl.col("rule").map_elements(
            lambda rule: rule_label(rule, ctx.lang), return_dtype=pl.String
        ),
        rows="rows",
        share="share",
    )
    config = {
        "rule": ctx.t("dq_col_rule"),
        "description": ctx.t("dq_col_description"),
        "rows": st.column_config.NumberColumn(ctx.t("dq_col_rows"), format="localized"),
        "share": st.column_config.NumberColumn(ctx.t("dq_col_share"), format="percent"),
    }
    widgets.table(table, "dq-rule-counts", ctx.lang, column_config=config)
    return counts


def _rows(
    ctx: PageContext, history: pl.DataFrame, load_id: int | None, counts: pl.DataFrame, cap: int
) -> None:
    """The quarantined rows of the load, optionally of one rule, with their fields."""
    st.markdown(f"**{ctx.t('dq_rows_title')}**")
    rules = counts["rule"].to_list()
    if st.session_state.get(RULE_KEY) not in [ALL_RULES, *rules]:
        st.session_state[RULE_KEY] = ALL_RULES
    rule = st.selectbox(
        ctx.t("dq_rule_pick"),
        [ALL_RULES, *rules],
        format_func=lambda r: ctx.t("dq_rule_all") if r == ALL_RULES else rule_label(r, ctx.lang),
        key=RULE_KEY,
    )
    found = data.fetch(quarantined_rows, load_id=load_id, rule=rule or None, limit=cap)
    if rule:
        total = int(counts.filter(pl.col("rule") == rule)["rows"][0])
    else:
        scope = history if load_id is None else history.filter(pl.col("load_id") == load_id)
        total = int(scope["quarantined_now"].sum())
    if found.height < total:
        st.caption(ctx.t("dq_rows_shown", shown=f"{found.height:,}", total=f"{total:,}"))
    config = {
        "load_id": ctx.t("dq_col_load"),
        "file_name": ctx.t("dq_col_file"),
        "source_row": st.column_config.NumberColumn(ctx.t("dq_col_row"), format="%d"),
        "rules": ctx.t("dq_col_rules"),
    }
    key = f"dq-quarantine-{load_id or 'all'}-{rule or 'all'}"
    widgets.table(expand_records(found), key, ctx.lang, column_config=config)
    if found.height:
        st.caption(ctx.t("dq_retry_hint"))


def _report(ctx: PageContext, history: pl.DataFrame, load_id: int | None) -> None:
    """The load's HTML validation report: download it, or read it on the page."""
    st.markdown(f"**{ctx.t('dq_report_title')}**")
    if load_id is None:
        st.caption(ctx.t("dq_report_pick_one"))
        return
    row = history.filter(pl.col("load_id") == load_id).row(0, named=True)
    report = find_report(row["report_path"], data.warehouse_path())
    if report.status == "none":
        st.info(ctx.t("dq_report_none"))
        return
    if report.status == "missing":
        st.warning(ctx.t("dq_report_missing", path=report.path))
        return
    st.download_button(
        ctx.t("dq_report_download"),
        data=report.html,
        file_name=report.path.name if report.path else "report.html",
        mime="text/html",
        key=f"dq-report-{load_id}",
        icon=":material/download:",
        on_click="ignore",
    )
    if report.status == "found":  # served sandboxed: no script in it can run (see reports.py)
        with st.expander(ctx.t("dq_report_show")):
            st.iframe(offer(report.html, session.current_account().username), height=600)


def _loads(ctx: PageContext) -> None:
    """Everything about the loads: summary, history, rule counts, rows and report."""
    cfg = load_config("data_quality")
    history = data.fetch(load_history, limit=int(cfg["history_rows"]))
    if history.is_empty():
        st.info(ctx.t("dq_no_loads"))
        return
    _summary(ctx)
    _history(ctx, history, int(cfg["chart_loads"]))
    st.subheader(ctx.t("dq_validation_title"))
    load_id = _pick_load(ctx, history) or None
    counts = _rules(ctx, load_id)
    if not counts.is_empty():
        _rows(ctx, history, load_id, counts, int(cfg["quarantine_rows"]))
    _report(ctx, history, load_id)


def _completeness(ctx: PageContext) -> None:
    """Outlets with business days without events in the period, and orphaned reversals."""
    st.subheader(ctx.t("dq_completeness_title"))
    if data.fetch(coverage).is_empty:
        st.info(ctx.t("dq_completeness_no_events"))
        return
    st.caption(ctx.t("dq_completeness_intro"))
    gaps = data.fetch(missing_days, **ctx.kpi_args()).with_columns(
        outlet_label=pl.concat_str([pl.col("outlet_code"), pl.col("outlet_name")], separator=" ")
    )
    short = gaps.filter(pl.col("missing_days") > 0)
    cards = (
        ("dq_outlets_checked", gaps.height),
        ("dq_outlets_missing", short.height),
        ("dq_outlet_days_missing", int(gaps["missing_days"].sum())),
    )
    for column, (key, value) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(ctx.t(key), f"{value:,}", border=True)
    if short.is_empty():
        st.success(ctx.t("dq_complete"))
    else:
        clickable = can_open("outlet", ctx.scope)
        clicked = widgets.chart(missing_bars(gaps, ctx.lang), "dq-missing", clickable=clickable)
        open_clicked_outlet(clicked)
        st.caption(ctx.t("dq_missing_caption"))
    _gaps_table(ctx, gaps)
    _orphans(ctx)


def _gaps_table(ctx: PageContext, gaps: pl.DataFrame) -> None:
    """Every outlet's business days, days with events and the dates missing."""
    table = gaps.select(
        "outlet_code",
        "outlet_name",
        "business_days",
        "days_with_events",
        "missing_days",
        missing_dates=pl.col("missing_dates")
        .list.eval(pl.element().cast(pl.String))
        .list.join(", "),
        # Links are made here, in the script's thread: they read the page's URL.
        page=pl.Series([link("outlet", outlet=code) for code in gaps["outlet_code"]]),
    )
    if not can_open("outlet", ctx.scope):  # the data operator has no outlet pages
        table = table.drop("page")
    config = {
        "outlet_code": ctx.t("dq_col_outlet"),
        "outlet_name": ctx.t("dq_col_name"),
        "business_days": ctx.t("dq_col_business_days"),
        "days_with_events": ctx.t("dq_col_days_with_events"),
        "missing_days": ctx.t("dq_col_missing_days"),
        "missing_dates": ctx.t("dq_col_missing_dates"),
        "page": st.column_config.LinkColumn(
            ctx.t("dq_col_link"), display_text=ctx.t("open_outlet")
        ),
    }
    widgets.table(table, "dq-missing-days", ctx.lang, column_config=config)


def _orphans(ctx: PageContext) -> None:
    """Reversals whose original transaction was never loaded."""
    st.markdown(f"**{ctx.t('dq_orphans_title')}**")
    found = data.fetch(orphan_reversals, **ctx.kpi_args())
    if found.is_empty():
        st.success(ctx.t("dq_orphans_none"))
        return
    st.warning(ctx.t("dq_orphans_found", n=f"{found.height:,}"))
    config = {
        "txn_id": ctx.t("dq_col_txn"),
        "outlet_code": ctx.t("dq_col_outlet"),
        "business_date": ctx.t("dq_col_day"),
        "reversal_of": ctx.t("dq_col_original"),
    }
    widgets.table(found, "dq-orphans", ctx.lang, column_config=config)


def render(ctx: PageContext) -> None:
    """Build the page."""
    st.caption(ctx.t("dq_intro"))
    _loads(ctx)
    _completeness(ctx)


run_page("nav_data_quality", render, require_events=False)
