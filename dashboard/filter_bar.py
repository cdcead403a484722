"""The global filter bar in the sidebar: period preset and outlet scope, kept in the URL.

Rendered by the entrypoint (``app.py``) so its widgets survive page changes; the first
run of a session starts from the URL, so a bookmarked view reopens as it was saved.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import data
from dashboard.i18n import code_label, translate
from dashboard.selection import (
    PRESETS,
    Scope,
    Selection,
    default_month,
    from_query,
    to_query,
)
from warehouse.coverage import coverage, outlets
from warehouse.periods import month_bounds, months_between, quarter_bounds, quarters_between
from warehouse.scope import Scope as Reach

FILTER_PARAMS = ("period", "month", "quarter", "year", "from", "to", "township", "type", "outlets")
SESSION_KEY = "selection"


def _seed_widgets(wanted: Selection) -> None:
    """Give the widgets the URL's values on a session's first run (later, they own them)."""
    if "f_period" in st.session_state:
        return
    st.session_state["f_period"] = wanted.preset
    if wanted.preset == "month":
        st.session_state["month"] = wanted.key
    elif wanted.preset == "quarter":
        st.session_state["quarter"] = wanted.key
    elif wanted.preset == "ytd":
        st.session_state["year"] = wanted.key
    else:
        st.session_state["range"] = (wanted.start, wanted.last_day)
    st.session_state["f_township"] = list(wanted.scope.townships)
    st.session_state["f_type"] = list(wanted.scope.outlet_types)
    st.session_state["f_outlets"] = list(wanted.scope.outlets)


def _period(lang: str, first: dt.date, last: dt.date) -> Selection:
    """The period widgets for the chosen preset, and the period they name."""
    sidebar = st.sidebar
    preset = sidebar.segmented_control(
        translate("period_preset", lang),
        PRESETS,
        format_func=lambda p: translate(f"preset_{p}", lang),
        key="f_period",
    )
    preset = preset or "month"
    if preset == "quarter":
        quarters = quarters_between(first, last)
        if st.session_state.get("quarter") not in quarters:
            st.session_state["quarter"] = quarters[-1]
        key = sidebar.selectbox(translate("preset_quarter", lang), quarters, key="quarter")
        return Selection("quarter", key, *quarter_bounds(key))
    if preset == "ytd":
        years = sorted({m[:4] for m in months_between(first, last)})
        if st.session_state.get("year") not in years:
            st.session_state["year"] = years[-1]
        year = sidebar.selectbox(translate("year", lang), years, key="year")
        end = min(last + dt.timedelta(days=1), dt.date(int(year) + 1, 1, 1))
        return Selection("ytd", year, dt.date(int(year), 1, 1), end)
    if preset == "custom":
        chosen = st.session_state.get("range")
        if not (isinstance(chosen, tuple) and chosen and first <= chosen[0] <= last):
            st.session_state["range"] = (month_bounds(default_month(first, last))[0], last)
        picked = sidebar.date_input(
            translate("preset_custom", lang), min_value=first, max_value=last, key="range"
        )
        start, stop = (picked[0], picked[-1]) if picked else (first, last)
        return Selection("custom", f"{start}..{stop}", start, stop + dt.timedelta(days=1))
    months = months_between(first, last)
    if st.session_state.get("month") not in months:
        st.session_state["month"] = default_month(first, last)
    label = sidebar.selectbox(translate("preset_month", lang), months, key="month")
    return Selection("month", label, *month_bounds(label))


def _scope(lang: str, names: pl.DataFrame) -> Scope:
    """Township and outlet-type pickers, then the outlets they leave to choose from.

    Someone who sees no outlet (a teller's own card) gets no pickers at all.
    """
    if names.is_empty():
        return Scope()
    sidebar = st.sidebar
    townships = sidebar.multiselect(
        translate("township", lang),
        sorted(names["township"].drop_nulls().unique().to_list()),
        key="f_township",
        placeholder=translate("all", lang),
    )
    types = sidebar.multiselect(
        translate("outlet_type", lang),
        sorted(names["outlet_type"].drop_nulls().unique().to_list()),
        format_func=lambda code: code_label("outlet_type", code, lang),
        key="f_type",
        placeholder=translate("all", lang),
    )
    pool = names
    if townships:
        pool = pool.filter(pl.col("township").is_in(townships))
    if types:
        pool = pool.filter(pl.col("outlet_type").is_in(types))
    labels = dict(zip(pool["outlet_code"], pool["outlet_name"], strict=True))
    st.session_state["f_outlets"] = [
        o for o in st.session_state.get("f_outlets", []) if o in labels
    ]
    chosen = sidebar.multiselect(
        translate("outlets", lang),
        list(labels),
        format_func=lambda code: f"{code} {labels[code]}",
        key="f_outlets",
        placeholder=translate("all", lang),
    )
    return Scope(tuple(townships), tuple(types), tuple(chosen))


def _outside_notice(lang: str, reach: Reach, names: pl.DataFrame) -> None:
    """Say once per session that outlets in the link are outside the person's access.

    The filter then shows the person's own outlets; the codes named are only those the
    link itself held, so nothing about the other outlets is revealed.
    """
    if "_outside_outlets" not in st.session_state:
        asked = [o.strip() for o in st.query_params.get("outlets", "").split(",") if o.strip()]
        known = set(names["outlet_code"].to_list())
        st.session_state["_outside_outlets"] = [o for o in asked if o not in known]
    outside = st.session_state["_outside_outlets"]
    if outside and not reach.county:
        st.sidebar.warning(translate("url_outlets_outside", lang, outlets=", ".join(outside)))


def filter_bar(lang: str, reach: Reach) -> Selection | None:
    """Render the filter bar and return the selection; None when no data is loaded yet.

    The selection is also kept in ``st.session_state["selection"]`` for the page, and
    written to the URL (dropping parameters of presets not in use) for bookmarks. The
    outlets offered are those of ``reach`` (the reads are scoped to it either way).
    """
    st.session_state[SESSION_KEY] = None
    try:
        cov = data.fetch(coverage)
    except data.WarehouseMissing:
        return None
    if cov.is_empty:
        return None
    names = data.fetch(outlets)
    _outside_notice(lang, reach, names)
    known = {
        "township": names["township"].drop_nulls().to_list(),
        "type": names["outlet_type"].drop_nulls().to_list(),
        "outlets": names["outlet_code"].to_list(),
    }
    _seed_widgets(from_query(st.query_params.to_dict(), cov.first_day, cov.last_day, known))
    period = _period(lang, cov.first_day, cov.last_day)
    selection = Selection(period.preset, period.key, period.start, period.end, _scope(lang, names))
    wanted = to_query(selection)
    for param in FILTER_PARAMS:
        if param not in wanted and param in st.query_params:
            del st.query_params[param]
    st.query_params.update(wanted)
    st.session_state[SESSION_KEY] = selection
    return selection
