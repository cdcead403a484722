"""What the pages about one subject (an outlet, a person) share.

``pick``: the picker bound to the URL (``?outlet=`` / ``?staff=``), so a link or a
bookmark opens the subject and choosing another updates the link. ``star_month``: the
month whose stars a page shows when the selected period is not one month. ``star_card``:
the stars month by month beside the month's breakdown, as both pages show them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.profiles import star_history_figure
from dashboard.figures.stars import breakdown_bars, breakdown_table
from dashboard.page import PageContext
from warehouse.coverage import coverage
from warehouse.stars.board import Breakdown, assessment_month
from warehouse.stars.model import load_model


def pick(
    ctx: PageContext,
    param: str,
    options: list[str],
    *,
    label: Callable[[str], str],
    default: str,
) -> str | None:
    """The subject to show: ``?<param>=`` when among ``options``, else the picker's.

    The picker starts at ``default``; the labels ``<param>_pick``, ``<param>_none_in_view``
    and ``<param>_not_in_view`` (with the asked-for code as ``<param>``) say the rest.
    """
    if not options:
        st.info(ctx.t(f"{param}_none_in_view"))
        return None
    key = f"{param}_pick"
    wanted = st.query_params.get(param)
    if wanted and wanted not in options:
        st.info(ctx.t(f"{param}_not_in_view", **{param: wanted}))
    if wanted in options:
        st.session_state[key] = wanted
    elif st.session_state.get(key) not in options:
        st.session_state[key] = default
    chosen = st.selectbox(
        ctx.t(key),
        options,
        format_func=label,
        key=key,
        on_change=lambda: st.query_params.update({param: st.session_state[key]}),
    )
    st.query_params[param] = chosen
    return chosen


def star_month(ctx: PageContext) -> str:
    """The month whose stars are shown: the selected one, else the last complete one."""
    if ctx.selection.preset == "month":
        return ctx.selection.key
    held = data.fetch(coverage)
    return assessment_month(ctx.selection.start, ctx.selection.end, held.last_day)


def star_card(
    ctx: PageContext, history: pl.DataFrame, found: Breakdown, *, month: str, key: str
) -> None:
    """Stars month by month (left), the month's points by indicator (right), then the table."""
    left, right = st.columns(2)
    with left:
        widgets.chart(
            star_history_figure(history, ctx.lang, load_model().bands), f"{key}-star-history"
        )
    if found.lines.is_empty():
        return
    with right:
        title = ctx.t("stars_breakdown_chart", month=month)
        widgets.chart(breakdown_bars(found.lines, ctx.lang, title=title), f"{key}-breakdown")
    widgets.table(breakdown_table(found.lines, ctx.lang), f"{key}-breakdown-table", ctx.lang)
