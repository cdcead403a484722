"""Overview for the chairman: headline cards for the month, trends, the outlets that lag."""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl
import streamlit as st

from dashboard import data, figures
from dashboard.i18n import format_change, format_kpi, kpi_label, translate
from dashboard.state import language, month_choice
from warehouse.coverage import coverage, outlets
from warehouse.headline import headline
from warehouse.kpi import service_summary
from warehouse.settings import load_config

log = logging.getLogger(__name__)
RAG_MARK = {"green": ":green[●]", "amber": ":orange[●]", "red": ":red[●]"}


def _months(first: dt.date, last: dt.date) -> list[str]:
    """Every month from the first to the last day with data, as YYYY-MM."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First day of the month and of the next one."""
    year, month = map(int, label.split("-"))
    start = dt.date(year, month, 1)
    return start, dt.date(year + month // 12, month % 12 + 1, 1)


def _cards(lang: str, rows: list[dict]) -> None:
    """Headline KPI cards: value, change coloured by whether it is good news, target RAG."""
    columns = st.columns(4)
    for i, row in enumerate(rows):
        name = row["kpi"]
        delta = format_change(name, row["change"], lang)
        if row["improved"] is None:
            colour = "off"
        else:  # Streamlit colours a rise green ("normal") or red ("inverse")
            rising = (row["change"] or 0) > 0
            colour = "normal" if rising == bool(row["improved"]) else "inverse"
        target = row["target"]
        help_text = None
        if target is not None:
            help_text = f"{translate('target', lang)}: {format_kpi(name, target, lang)}"
        with columns[i % 4]:
            st.metric(
                f"{RAG_MARK.get(row['rag'] or '', ':gray[○]')} {kpi_label(name, lang)}",
                format_kpi(name, row["current"], lang),
                delta=delta,
                delta_color=colour,
                help=help_text,
            )


def render() -> None:
    """Build the page."""
    lang = language()
    config = load_config("dashboard")["overview"]
    st.title(translate("app_title", lang))
    try:
        cov = data.fetch(coverage)
    except data.WarehouseMissing as missing:
        st.info(
            f"**{translate('no_warehouse_title', lang)}**\n\n"
            + translate("no_warehouse_body", lang, path=missing.args[0])
        )
        return
    if cov.is_empty:
        st.info(translate("no_data", lang))
        return
    months = _months(cov.first_day, cov.last_day)
    complete = cov.last_day + dt.timedelta(days=1) == _month_bounds(months[-1])[1]
    label = month_choice(
        months,
        translate("period", lang),
        default=months[-1 if complete or len(months) == 1 else -2],
    )
    start, end = _month_bounds(label)
    st.caption(
        translate(
            "headline_caption",
            lang,
            start=start.isoformat(),
            end=(end - dt.timedelta(days=1)).isoformat(),
            outlets=cov.outlets,
        )
    )
    cards = data.fetch(headline, start=start, end=end, kpis=tuple(config["headline"]))
    if cards["current"].is_null().all():
        st.info(translate("no_data", lang))
        return
    _cards(lang, cards.to_dicts())
    targets = dict(zip(cards["kpi"].to_list(), cards["target"].to_list(), strict=True))

    st.subheader(translate("trend_title", lang))
    months_back = int(config["trend_months"]) - 1
    year, month = divmod(start.year * 12 + start.month - 1 - months_back, 12)
    trend_start = max(cov.first_day.replace(day=1), dt.date(year, month + 1, 1))
    monthly = data.fetch(service_summary, start=trend_start, end=end, by=("month",))
    columns = st.columns(2)
    for i, name in enumerate(config["trend"]):
        with columns[i % 2]:
            st.plotly_chart(
                figures.trend_figure(monthly, name, lang, targets.get(name)), key=f"trend-{name}"
            )

    st.subheader(translate("lagging_title", lang))
    by_outlet = data.fetch(service_summary, start=start, end=end, by=("outlet",))
    names = data.fetch(outlets)
    ranked = by_outlet.join(names, on="outlet_code", how="left").with_columns(
        outlet_label=pl.concat_str([pl.col("outlet_code"), pl.col("outlet_name")], separator=" ")
    )
    ranking = config["ranking_kpi"]
    st.plotly_chart(figures.outlet_bars(ranked, ranking, lang, targets.get(ranking)), key="ranking")
    st.caption(translate("ranking_caption", lang))


try:
    render()
except Exception:  # a page must never show a traceback to the chairman
    log.exception("overview page failed")
    st.error(translate("error_generic", language()))
