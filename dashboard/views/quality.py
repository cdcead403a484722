"""Service quality: waiting and handling times, accuracy, satisfaction, complaints and the list.

For the leading group and analysts: the shape behind the headline numbers (how long the
long waits are), how they moved over the period, and how complaints arrived and were
handled, down to each complaint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.overview import outlet_bars
from dashboard.figures.quality import (
    channel_figure,
    errors_figure,
    kpi_lines,
    pareto_figure,
    resolution_figure,
    time_histogram,
)
from dashboard.i18n import code_label, kpi_label
from dashboard.navigation import link, open_clicked_outlet
from dashboard.page import PageContext, run_page
from warehouse.complaint_views import (
    SEVERITIES,
    STATUSES,
    complaint_list,
    complaints_by_channel,
    resolution_histogram,
)
from warehouse.coverage import outlets
from warehouse.distributions import MEASURES, percentile_table, wait_histogram
from warehouse.headline import headline
from warehouse.kpi import (
    complaint_pareto,
    complaint_summary,
    service_summary,
    target_wait_s,
    targets,
)
from warehouse.settings import load_config

OUTLET_LINK = r"[?&]outlet=([^&]*)$"
STAFF_LINK = r"[?&]staff=([^&]*)$"


def _config() -> dict[str, Any]:
    """The page's settings (config/quality.yaml)."""
    return load_config("quality")


def _targets(ctx: PageContext) -> dict[str, float]:
    """County targets of the period's year, by KPI name."""
    found = data.fetch(targets, year=ctx.selection.start.year)
    return dict(zip(found["kpi"].to_list(), found["target"].to_list(), strict=True))


def _histograms(ctx: PageContext) -> None:
    """Waiting and handling time distributions side by side, then the percentile table."""
    st.subheader(ctx.t("quality_times_title"))
    cfg = _config()["histograms"]
    table = data.fetch(percentile_table, **ctx.kpi_args())
    marks = {row["measure"]: row for row in table.iter_rows(named=True)}
    columns = st.columns(2)
    for column, measure in zip(columns, MEASURES, strict=True):
        bins = data.fetch(
            wait_histogram,
            **ctx.kpi_args(
                measure=measure, bin_s=int(cfg[measure]["bin_s"]), cap_s=int(cfg[measure]["cap_s"])
            ),
        )
        fig = time_histogram(
            bins,
            measure,
            ctx.lang,
            p50_s=marks[measure]["p50_s"],
            p90_s=marks[measure]["p90_s"],
            target_s=target_wait_s() if measure == "wait_s" else None,
        )
        with column:
            widgets.chart(fig, key=f"quality-hist-{measure}")
    st.caption(ctx.t("quality_times_caption"))
    _percentiles(ctx, table)


def _percentiles(ctx: PageContext, table: pl.DataFrame) -> None:
    """The percentile table in minutes, one row per measure."""
    st.markdown(f"**{ctx.t('quality_percentiles_title')}**")
    seconds = [c for c in table.columns if c.endswith("_s")]
    shown = table.with_columns(
        pl.col("measure").replace_strict(
            {m: ctx.t(f"quality_measure_{m}") for m in MEASURES}, default=pl.col("measure")
        ),
        *[(pl.col(c) / 60).round(1).alias(c) for c in seconds],
    )
    config: dict[str, Any] = {
        "measure": st.column_config.TextColumn(ctx.t("quality_measure")),
        "customers": st.column_config.NumberColumn(ctx.t("quality_col_customers"), format="%d"),
    }
    for column in seconds:
        label = ctx.t(f"quality_col_{column.removesuffix('_s')}")
        config[column] = st.column_config.NumberColumn(label, format="%.1f")
    widgets.table(shown, "quality-percentiles", ctx.lang, column_config=config)


def _over_time(ctx: PageContext, goals: dict[str, float]) -> None:
    """Service level, waits, errors and satisfaction by day, week or month."""
    grain = ctx.selection.grain()
    st.subheader(ctx.t("quality_over_time_title", grain=ctx.t(f"quality_grain_{grain}")))
    series = data.fetch(service_summary, **ctx.kpi_args(by=(grain,)))
    figures = (
        (
            "level",
            kpi_lines(
                series,
                grain,
                ["service_level"],
                ctx.lang,
                title=kpi_label("service_level", ctx.lang),
                target=goals.get("service_level"),
            ),
        ),
        (
            "waits",
            kpi_lines(
                series,
                grain,
                ["wait_p90_s", "wait_p50_s"],
                ctx.lang,
                title=ctx.t("quality_waits_title"),
                target=goals.get("wait_p90_s"),
            ),
        ),
        ("errors", errors_figure(series, grain, ctx.lang, goals.get("errors_per_1000"))),
        (
            "satisfaction",
            kpi_lines(
                series,
                grain,
                ["satisfaction_rate", "rating_coverage"],
                ctx.lang,
                title=ctx.t("quality_satisfaction_title"),
                target=goals.get("satisfaction_rate"),
            ),
        ),
    )
    columns = st.columns(2)
    for i, (key, fig) in enumerate(figures):
        with columns[i % 2]:
            widgets.chart(fig, key=f"quality-trend-{key}")


def _service_section(ctx: PageContext, goals: dict[str, float]) -> None:
    """Cards, distributions and trends of counter service; says so when there is none."""
    totals = data.fetch(service_summary, **ctx.kpi_args())
    if not totals.height or not totals["counter_served"][0]:
        st.info(ctx.t("no_data"))
        return
    cards = data.fetch(headline, **ctx.kpi_args(kpis=tuple(_config()["cards"]["service"])))
    widgets.kpi_cards(cards, ctx.lang)
    _histograms(ctx)
    _over_time(ctx, goals)


def _complaint_charts(ctx: PageContext, summary: dict[str, Any], goals: dict[str, float]) -> None:
    """Pareto, channels, days to resolve, and the complaint rate per outlet."""
    kpi_cfg = load_config("kpi")["complaints"]
    left, right = st.columns(2)
    with left:
        pareto = data.fetch(complaint_pareto, **ctx.kpi_args())
        fig = pareto_figure(pareto, ctx.lang, float(kpi_cfg["pareto_vital_share"]))
        widgets.chart(fig, key="quality-pareto")
    with right:
        channels = data.fetch(complaints_by_channel, **ctx.kpi_args())
        widgets.chart(channel_figure(channels, ctx.lang), key="quality-channels")
    left, right = st.columns(2)
    with left:
        bins = data.fetch(resolution_histogram, **ctx.kpi_args())
        deadlines = [
            ("simple", int(kpi_cfg["deadline_days_simple"])),
            ("complex", int(kpi_cfg["deadline_days_complex"])),
        ]
        fig = resolution_figure(
            bins, ctx.lang, deadlines=deadlines, mean_days=summary["resolution_days_mean"]
        )
        widgets.chart(fig, key="quality-resolution")
    with right:
        by_outlet = data.fetch(complaint_summary, **ctx.kpi_args(by=("outlet",)))
        names = data.fetch(outlets).select(
            "outlet_code",
            outlet_label=pl.concat_str(["outlet_code", "outlet_name"], separator=" "),
        )
        ranked = by_outlet.join(names, on="outlet_code", how="left")
        fig = outlet_bars(
            ranked, "per_10k_transactions", ctx.lang, goals.get("per_10k_transactions")
        )
        open_clicked_outlet(widgets.chart(fig, "quality-outlets", clickable=True))
        st.caption(ctx.t("quality_outlets_caption"))


def _labels(ctx: PageContext, prefix: str, codes: tuple[str, ...]) -> dict[str, str]:
    """Code -> label in the page's language, for a family of ``quality_<prefix>_<code>``."""
    return {code: ctx.t(f"quality_{prefix}_{code}") for code in codes}


def _yes_no(ctx: PageContext, undecided: str) -> Callable[[bool | None], str]:
    """Render a tri-state flag as yes / no / ``undecided``."""
    words = {True: ctx.t("quality_yes"), False: ctx.t("quality_no")}
    return lambda value: words.get(value, undecided)


def _list_frame(ctx: PageContext, rows: pl.DataFrame) -> pl.DataFrame:
    """The complaint list as shown: labels in the page's language, links to outlet / staff.

    Missing values are written out ("", "—") because a table shows a null as "None", in
    English; days to resolve are text for the same reason (one decimal, "—" while open).
    """
    categories = {
        code: names[ctx.lang]
        for code, names in load_config("kpi")["complaints"]["category_labels"].items()
    }
    channels = {
        code: code_label("complaint_channel", code, ctx.lang)
        for code in rows["channel"].unique().drop_nulls().to_list()
    }
    yes_no = _yes_no(ctx, "—")
    within = _yes_no(ctx, ctx.t("quality_not_due"))
    return pl.DataFrame(
        {
            "received_at": rows["received_at"],
            "outlet": [link("outlet", outlet=code) for code in rows["outlet_code"]],
            "outlet_name": rows["outlet_name"],
            "staff": ["" if s is None else link("staff", staff=s) for s in rows["staff_id"]],
            "staff_name": rows["staff_name"].fill_null(""),
            "category": rows["category"].replace_strict(categories, default=rows["category"]),
            "severity": rows["severity"].replace_strict(
                _labels(ctx, "severity", SEVERITIES), default=rows["severity"]
            ),
            "status": rows["status"].replace_strict(
                _labels(ctx, "status", STATUSES), default=rows["status"]
            ),
            "substantiated": [yes_no(v) for v in rows["substantiated"]],
            "resolution_days": [
                "—" if d is None else f"{d:.1f}" for d in rows["resolution_days"].to_list()
            ],
            "description": rows["description"],
            "within_deadline": [within(v) for v in rows["within_deadline"]],
            "is_repeat": [yes_no(v) for v in rows["is_repeat"]],
            "channel": rows["channel"].replace_strict(channels, default=rows["channel"]),
            "complaint_id": rows["complaint_id"],
            "customer_ref": rows["customer_ref"],
            "outlet_code": rows["outlet_code"],
            "staff_id": rows["staff_id"],
        }
    )


def _list_columns(ctx: PageContext) -> dict[str, Any]:
    """Column labels and types of the complaint list (raw codes hidden: the links show them)."""
    cc = st.column_config
    text = {
        name: cc.TextColumn(ctx.t(f"quality_col_{key}"))
        for name, key in (
            ("outlet_name", "outlet_name"),
            ("staff_name", "staff_name"),
            ("category", "category"),
            ("severity", "severity"),
            ("status", "status"),
            ("substantiated", "substantiated"),
            ("within_deadline", "within_deadline"),
            ("is_repeat", "repeat"),
            ("channel", "channel"),
            ("complaint_id", "id"),
            ("customer_ref", "customer"),
        )
    }
    return {
        "received_at": cc.DatetimeColumn(ctx.t("quality_col_received"), format="YYYY-MM-DD HH:mm"),
        "outlet": cc.LinkColumn(ctx.t("quality_col_outlet"), display_text=OUTLET_LINK),
        "staff": cc.LinkColumn(ctx.t("quality_col_staff"), display_text=STAFF_LINK),
        "resolution_days": cc.TextColumn(ctx.t("quality_col_resolution_days"), alignment="right"),
        "description": cc.TextColumn(ctx.t("quality_col_description"), width="large"),
        "outlet_code": None,
        "staff_id": None,
        **text,
    }


def _complaint_list(ctx: PageContext) -> None:
    """Search box, status and severity filters, and the matching complaints with downloads."""
    st.subheader(ctx.t("quality_list_title"))
    search_col, status_col, severity_col = st.columns([3, 2, 2])
    with search_col:
        search = st.text_input(
            ctx.t("quality_search"),
            key="quality_search",
            placeholder=ctx.t("quality_search_placeholder"),
        )
    with status_col:
        status = st.multiselect(
            ctx.t("quality_status"),
            STATUSES,
            format_func=lambda s: ctx.t(f"quality_status_{s}"),
            placeholder=ctx.t("all"),
            key="quality_status",
        )
    with severity_col:
        severity = st.multiselect(
            ctx.t("quality_severity"),
            SEVERITIES,
            format_func=lambda s: ctx.t(f"quality_severity_{s}"),
            placeholder=ctx.t("all"),
            key="quality_severity",
        )
    cap = int(_config()["list"]["max_rows"])
    rows = data.fetch(
        complaint_list,
        **ctx.kpi_args(
            search=(search or "").strip() or None,
            status=tuple(status) or None,
            severity=tuple(severity) or None,
            limit=cap + 1,
        ),
    )
    if rows.height > cap:
        st.caption(ctx.t("quality_list_capped", n=cap))
        rows = rows.head(cap)
    else:
        st.caption(ctx.t("quality_list_count", n=rows.height))
    widgets.table(
        _list_frame(ctx, rows), "quality-complaints", ctx.lang, column_config=_list_columns(ctx)
    )


def _complaint_section(ctx: PageContext, goals: dict[str, float]) -> None:
    """Complaint cards, charts and list; one line when none were received."""
    st.header(ctx.t("quality_complaints_title"), divider="gray")
    summary = data.fetch(complaint_summary, **ctx.kpi_args()).row(0, named=True)
    if not summary["complaints"]:
        st.info(ctx.t("quality_no_complaints"))
        return
    cards = data.fetch(headline, **ctx.kpi_args(kpis=tuple(_config()["cards"]["complaints"])))
    widgets.kpi_cards(cards, ctx.lang)
    _complaint_charts(ctx, summary, goals)
    _complaint_list(ctx)


def render(ctx: PageContext) -> None:
    """Build the page: counter service first, then complaints."""
    goals = _targets(ctx)
    st.header(ctx.t("quality_service_title"), divider="gray")
    _service_section(ctx, goals)
    _complaint_section(ctx, goals)


run_page("nav_quality", render)
