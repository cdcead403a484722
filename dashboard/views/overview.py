"""Overview for the chairman: headline cards, trends, outlets that lag or improved, alerts."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, widgets
from dashboard.figures.overview import benchmark_table, change_bars, outlet_bars, trend_figure
from dashboard.i18n import format_kpi, plain
from dashboard.navigation import link, open_clicked_outlet
from dashboard.page import PageContext, run_page
from warehouse.alerts import alerts
from warehouse.benchmark import outlet_benchmark
from warehouse.coverage import outlets
from warehouse.headline import headline, outlet_changes
from warehouse.kpi import service_summary
from warehouse.periods import trend_start
from warehouse.settings import load_config


def _alerts(ctx: PageContext) -> None:
    """One line per alert, worst kind first, each linking to the outlet's page."""
    found = data.fetch(alerts, **ctx.kpi_args())
    if found.is_empty():
        st.success(ctx.t("alerts_none"))
        return
    with st.expander(ctx.t("alerts_title", n=found.height), expanded=True, icon="⚠️"):
        for row in found.iter_rows(named=True):
            target = link("outlet", outlet=row["outlet_code"])
            text = ctx.t(
                f"alert_{row['kind']}",
                outlet=plain(f"{row['outlet_code']} {row['outlet_name']}"),
                value=_alert_value(row, ctx.lang),
                threshold=_alert_threshold(row, ctx.lang),
            )
            st.markdown(f"- {text} · [{ctx.t('open_outlet')}]({target})")


def _alert_value(row: dict, lang: str) -> str:
    """The alert's measured value as people read it."""
    if row["kind"] == "wait_above_target":
        return format_kpi("wait_p90_s", row["value"], lang)
    return f"{row['value']:,.0f}"


def _alert_threshold(row: dict, lang: str) -> str:
    """The alert's threshold (target or baseline) as people read it."""
    if row["kind"] == "wait_above_target":
        return format_kpi("wait_p90_s", row["threshold"], lang)
    return f"{row['threshold']:,.1f}"


def render(ctx: PageContext) -> None:
    """Build the page."""
    config = load_config("dashboard")["overview"]
    total = data.fetch(service_summary, **ctx.kpi_args())
    if not total["arrivals"][0]:
        st.info(ctx.t("no_data"))
        return
    cards = data.fetch(headline, **ctx.kpi_args(kpis=tuple(config["headline"])))
    widgets.kpi_cards(cards, ctx.lang)
    targets = dict(zip(cards["kpi"].to_list(), cards["target"].to_list(), strict=True))
    _alerts(ctx)

    st.subheader(ctx.t("trend_title", n=config["trend_months"]))
    trend_args = ctx.kpi_args(
        start=trend_start(ctx.selection.last_day, int(config["trend_months"]))
    )
    monthly = data.fetch(service_summary, **trend_args, by=("month",))
    columns = st.columns(2)
    for i, name in enumerate(config["trend"]):
        with columns[i % 2]:
            widgets.chart(
                trend_figure(monthly, name, ctx.lang, targets.get(name)), key=f"trend-{name}"
            )

    names = data.fetch(outlets).select(
        "outlet_code",
        outlet_label=pl.concat_str([pl.col("outlet_code"), pl.col("outlet_name")], separator=" "),
    )
    if not ctx.scope.county:  # an outlet head: their standing, not other outlets' numbers
        st.subheader(ctx.t("benchmark_title"))
        found = data.fetch(outlet_benchmark, **ctx.kpi_args(kpis=tuple(config["headline"])))
        labels = dict(names.iter_rows())
        widgets.table(benchmark_table(found, ctx.lang, labels), "benchmark", ctx.lang)
        st.caption(ctx.t("benchmark_caption"))
        return
    ranking = config["ranking_kpi"]
    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("lagging_title"))
        by_outlet = data.fetch(service_summary, **ctx.kpi_args(), by=("outlet",))
        ranked = by_outlet.join(names, on="outlet_code", how="left")
        worst = outlet_bars(
            ranked, ranking, ctx.lang, targets.get(ranking), limit=int(config["ranking_rows"])
        )
        open_clicked_outlet(widgets.chart(worst, "lagging", clickable=True))
    with right:
        st.subheader(ctx.t("improved_title"))
        moved = data.fetch(outlet_changes, **ctx.kpi_args(kpi_name=ranking))
        moved = moved.join(names, on="outlet_code")
        best = change_bars(moved, ranking, ctx.lang, limit=int(config["ranking_rows"]))
        open_clicked_outlet(widgets.chart(best, "improved", clickable=True))
    st.caption(ctx.t("ranking_caption"))


run_page("app_title", render)
