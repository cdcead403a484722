"""Explorer for analysts: pivot any KPI, build a chart, query the warehouse in read-only SQL.

The pivot and the chart builder read the KPI layer under the global filter (through
``warehouse.pivot``). The SQL console reads the whole warehouse on a sealed connection of
its own (``warehouse.console``), through ``data.console``: only for those with the
console permission, pay columns empty without pay, every query audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.explorer import (
    Names,
    chart_figure,
    chart_table,
    column_format,
    display_frame,
    group_label,
    pivot_heatmap,
    rename_headers,
)
from dashboard.i18n import kpi_label, plain
from dashboard.page import PageContext, run_page
from warehouse.console import QueryResult, schema_tree
from warehouse.coverage import outlets
from warehouse.kpi import KEY_COLUMNS
from warehouse.pivot import business_types, chart_data, groupings, measures, pivot
from warehouse.scope import Permission
from warehouse.settings import load_config

NONE = ""  # the "no grouping" choice of the columns and colour pickers
RESULT_KEY = "explorer_result"


def _keep(key: str, options: Sequence[Any], default: Any) -> None:
    """Keep a picker's choice when it is still offered, else fall back to ``default``.

    The groupings offered depend on the KPI: complaints have no channel, so a choice
    made for another KPI may no longer exist.
    """
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]


def _labels(lang: str) -> Names:
    """Readable names for outlet and business-type codes."""
    names = data.fetch(outlets)
    types = data.fetch(business_types)
    label = "name_zh" if lang == "zh" else "name_en"
    return {
        "outlet": {
            code: f"{code} {name}"
            for code, name in names.select("outlet_code", "outlet_name").iter_rows()
        },
        "business_type": dict(types.select("business_type", label).iter_rows()),
    }


def _grouping_name(ctx: PageContext) -> Callable[[str], str]:
    """How the grouping pickers name their options, "— none —" included."""

    def name(key: str) -> str:
        return group_label(key, ctx.lang) if key else ctx.t("explorer_none")

    return name


def _has_values(frame: pl.DataFrame) -> bool:
    """Whether a pivot holds at least one value besides its row keys."""
    values = frame.select(frame.columns[1:])
    return values.width > 0 and any(values[c].drop_nulls().len() > 0 for c in values.columns)


def _pivot_tab(ctx: PageContext, labels: Names) -> None:
    """Three pickers, the coloured grid and the table with downloads."""
    config = load_config("explorer")["pivot"]
    group = _grouping_name(ctx)
    picks = st.columns(3)
    choices = measures()
    _keep("explorer_measure", choices, config["default_measure"])
    with picks[0]:
        measure = st.selectbox(
            ctx.t("explorer_measure"),
            choices,
            format_func=lambda n: kpi_label(n, ctx.lang),
            key="explorer_measure",
        )
    valid = groupings([measure])
    _keep("explorer_rows", valid, config["default_rows"])
    with picks[1]:
        rows = st.selectbox(ctx.t("explorer_rows"), valid, format_func=group, key="explorer_rows")
    across = [NONE, *(g for g in valid if g != rows)]
    _keep("explorer_cols", across, config["default_columns"])
    with picks[2]:
        chosen = st.selectbox(
            ctx.t("explorer_columns"), across, format_func=group, key="explorer_cols"
        )
    columns = chosen or None
    frame = data.fetch(pivot, **ctx.kpi_args(rows=rows, columns=columns, measure=measure))
    if not _has_values(frame):
        st.info(ctx.t("no_data"))
        return
    if frame.height <= int(config["heatmap_max_rows"]):
        grid = pivot_heatmap(
            frame, measure=measure, rows=rows, columns=columns, lang=ctx.lang, names=labels
        )
        widgets.chart(grid, key="explorer-pivot")
    else:
        st.info(ctx.t("explorer_pivot_too_big", n=frame.height))
    st.caption(ctx.t("explorer_pivot_caption"))
    shown = display_frame(frame, measure, rows, ctx.lang, labels)
    shown = rename_headers(shown, columns, measure, ctx.lang, labels)
    number = st.column_config.NumberColumn(format=column_format(measure))
    widgets.table(
        shown,
        "explorer-pivot-table",
        ctx.lang,
        column_config={c: number for c in shown.columns[1:]},
    )


def _chart_tab(ctx: PageContext, labels: Names) -> None:
    """KPIs, an axis grouping, an optional colour grouping, line or bar."""
    config = load_config("explorer")["chart"]
    most = int(config["max_kpis"])
    group = _grouping_name(ctx)
    names = st.multiselect(
        ctx.t("explorer_chart_kpis", n=most),
        measures(),
        default=list(config["default_kpis"]),
        max_selections=most,
        format_func=lambda n: kpi_label(n, ctx.lang),
        key="explorer_chart_kpis",
    )
    picks = st.columns(3)
    valid = groupings(names)
    _keep("explorer_chart_x", valid, config["default_x"])
    with picks[0]:
        x = st.selectbox(
            ctx.t("explorer_chart_x"), valid, format_func=group, key="explorer_chart_x"
        )
    shades = [NONE, *(g for g in valid if g != x)]
    _keep("explorer_chart_colour", shades, NONE)
    with picks[1]:
        colour = st.selectbox(
            ctx.t("explorer_chart_colour"), shades, format_func=group, key="explorer_chart_colour"
        )
    with picks[2]:
        kind = st.segmented_control(
            ctx.t("explorer_chart_kind"),
            ["line", "bar"],
            default="line",
            required=True,
            format_func=lambda k: ctx.t(f"explorer_kind_{k}"),
            key="explorer_chart_kind",
        )
    if not names:
        st.info(ctx.t("explorer_chart_pick"))
        return
    frame = data.fetch(chart_data, **ctx.kpi_args(names=tuple(names), x=x, colour=colour or None))
    if frame["value"].drop_nulls().is_empty():
        st.info(ctx.t("no_data"))
        return
    groups = frame[KEY_COLUMNS[colour]].n_unique() if colour else 1
    if groups > int(config["max_colours"]):
        st.info(ctx.t("explorer_chart_too_many", n=groups, max=config["max_colours"]))
    else:
        fig = chart_figure(
            frame,
            names=names,
            x=x,
            colour=colour or None,
            kind=kind or "line",
            lang=ctx.lang,
            labels=labels,
        )
        widgets.chart(fig, key="explorer-chart")
    with st.expander(ctx.t("explorer_chart_data"), icon=":material/table:"):
        keys = [x, colour] if colour else [x]
        widgets.table(chart_table(frame, names, keys, ctx.lang), "explorer-chart-data", ctx.lang)


def _use_example(examples: dict[str, str]) -> None:
    """Put the chosen example query into the editor."""
    st.session_state["explorer_sql"] = examples[st.session_state["explorer_example"]]


def _show_result(ctx: PageContext, result: QueryResult | None, cap: int, limit: float) -> None:
    """The last query's rows with downloads, or why there are none."""
    if result is None:
        st.caption(ctx.t("explorer_sql_hint"))
        return
    if result.problem is not None:
        st.warning(ctx.t(f"explorer_problem_{result.problem}", detail=plain(result.detail)))
        return
    assert result.frame is not None  # a result without a problem has rows
    st.caption(
        ctx.t(
            "explorer_result_caption",
            rows=f"{result.frame.height:,}",
            seconds=f"{result.elapsed_s:.2f}",
            cap=f"{cap:,}",
            limit=f"{limit:g}",
        )
    )
    if result.truncated:
        st.info(ctx.t("explorer_truncated", cap=f"{cap:,}"))
    widgets.table(result.frame, "explorer-sql-result", ctx.lang)


def _schema_browser(ctx: PageContext, height: int) -> None:
    """Tables -> columns with types and meanings, one expander per table, scrolling."""
    st.markdown(f"**{ctx.t('explorer_schema_title')}**")
    tree = data.fetch(schema_tree)
    with st.container(height=height, border=False):
        st.caption(ctx.t("explorer_schema_caption"))
        for (name,), columns in tree.group_by("table_name", maintain_order=True):
            first = columns.row(0, named=True)
            title = f"{name} ({ctx.t('explorer_view')})" if first["kind"] == "view" else str(name)
            with st.expander(title, icon=":material/table_chart:"):
                if first["table_comment"]:
                    st.caption(plain(first["table_comment"]))
                st.markdown("\n".join(_column_line(c) for c in columns.iter_rows(named=True)))


def _column_line(column: dict[str, str]) -> str:
    """One column of the schema browser: name, type, meaning and unit."""
    unit = f" [{column['unit']}]" if column["unit"] else ""
    meaning = f" — {plain(column['meaning'] + unit)}" if column["meaning"] else ""
    return f"- `{column['column_name']}` · *{column['data_type']}*{meaning}"


def _console_tab(ctx: PageContext) -> None:
    """The SQL editor with examples and Run, the schema beside it, the result below."""
    config = load_config("explorer")["console"]
    cap, limit = int(config["row_cap"]), float(config["time_limit_s"])
    examples: dict[str, str] = dict(config["examples"])
    st.info(ctx.t("explorer_sql_notice", rows=f"{cap:,}", seconds=f"{limit:g}"), icon="🔒")
    editor, browser = st.columns([3, 2], gap="large")
    with editor:
        st.session_state.setdefault("explorer_sql", next(iter(examples.values())))
        st.selectbox(
            ctx.t("explorer_example"),
            list(examples),
            format_func=lambda n: ctx.t(f"explorer_example_{n}"),
            key="explorer_example",
            on_change=_use_example,
            args=(examples,),
        )
        sql = st.text_area(ctx.t("explorer_sql_label"), key="explorer_sql", height=260)
        run = st.button(
            ctx.t("explorer_run"), key="explorer_run", type="primary", icon=":material/play_arrow:"
        )
    with browser:
        _schema_browser(ctx, height=390)
    if run:
        st.session_state[RESULT_KEY] = data.console(sql or "", row_cap=cap, time_limit_s=limit)
    _show_result(ctx, st.session_state.get(RESULT_KEY), cap, limit)


def render(ctx: PageContext) -> None:
    """Build the page."""
    st.caption(ctx.t("explorer_intro"))
    labels = _labels(ctx.lang)
    names = [ctx.t("explorer_tab_pivot"), ctx.t("explorer_tab_chart")]
    console = ctx.can(Permission.CONSOLE)
    tabs = st.tabs([*names, ctx.t("explorer_tab_sql")] if console else names)
    with tabs[0]:
        _pivot_tab(ctx, labels)
    with tabs[1]:
        _chart_tab(ctx, labels)
    if console:
        with tabs[2]:
            _console_tab(ctx)


run_page("nav_explorer", render)
