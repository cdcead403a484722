"""Star charts and the words around them: how many stars, scores, what earned each point.

Pure builders (data in, figure or text out, no Streamlit) shared by the star, outlet and
staff pages, so a star, an arrow and a piece of advice read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.figures.style import AMBER, BAD, GOOD, NEUTRAL, TARGET, house_layout
from dashboard.i18n import code_label, format_kpi, kpi_label, translate
from warehouse.kpi import kpi_names
from warehouse.settings import load_config
from warehouse.stars.board import Breakdown

MAX_STARS = 5
STAR_COLOURS = {1: BAD, 2: "#e8710a", 3: AMBER, 4: "#66a84f", 5: GOOD}
HEADROOM = "#d9d9d9"


def stars_text(stars: int | None) -> str:
    """Stars as glyphs, e.g. ★★★☆☆; a dash for "not rated"."""
    if stars is None:
        return "—"
    return "★" * stars + "☆" * (MAX_STARS - stars)


def movement_text(movement: int | None) -> str:
    """Stars gained or lost since last month as an arrow: ▲1, ▼2, or – for no change."""
    if movement is None:
        return ""
    if movement > 0:
        return f"▲{movement}"
    if movement < 0:
        return f"▼{-movement}"
    return "–"


def indicator_label(name: str, kpi_name: str, lang: str) -> str:
    """An indicator's label: its own if the star labels have one, else its KPI's."""
    try:
        return translate(f"stars_indicator_{name}", lang)
    except KeyError:
        return kpi_label(kpi_name, lang) if kpi_name in kpi_names() else name


def indicator_value(kpi_name: str, value: float | None, lang: str) -> str:
    """An indicator's raw value as people read it (KPIs in their format, counts plain)."""
    if value is None:
        return "—"
    if kpi_name in kpi_names():
        return format_kpi(kpi_name, value, lang)
    return f"{value:,.0f}"


def source_text(source: str, lang: str) -> str:
    """Where a month's stars come from ("provisional", "published v2", "no data") in words."""
    if source.startswith("published v"):
        return translate("stars_source_published", lang, version=source.removeprefix("published v"))
    if source == "no data":
        return translate("stars_source_no_data", lang)
    return translate("stars_source_provisional", lang)


def sources_text(sources: Sequence[str], lang: str) -> str:
    """A payout's sources ("2026-01: provisional", ...) in words, one per month."""
    parts = []
    for source in sources:
        month, _, where = source.partition(": ")
        parts.append(f"{month} {source_text(where, lang)}")
    return "; ".join(parts)


def group_text(subject: str, group: str | None, lang: str) -> str:
    """A peer group in words: a position for staff, an outlet type for outlets."""
    if group is None:
        return ""
    if subject != "staff":
        return code_label("outlet_type", group, lang)
    try:
        return translate("stars_position_" + group, lang)
    except KeyError:
        return group


def category_text(category: str | None, lang: str) -> str:
    """A complaint category's label (config/kpi.yaml), the code itself if it has none."""
    labels = load_config("kpi")["complaints"]["category_labels"]
    return labels.get(category, {}).get(lang, category or "")


def severity_text(severity: str | None, lang: str) -> str:
    """Complaint severities ("major/critical") in words."""
    parts = [translate(f"stars_severity_{s}", lang) for s in (severity or "").split("/") if s]
    return translate("stars_or", lang).join(parts)


def stars_distribution(boards: dict[str, pl.DataFrame], lang: str) -> go.Figure:
    """How many outlets and how many staff hold 1 to 5 stars (rated ones), side by side."""
    levels = list(range(1, MAX_STARS + 1))
    fig = go.Figure()
    for subject, colour in (("outlets", NEUTRAL), ("staff", AMBER)):
        counts = dict(
            boards[subject].filter(pl.col("status") == "rated").group_by("stars").len().iter_rows()
        )
        fig.add_bar(
            x=[f"{s}★" for s in levels],
            y=[counts.get(s, 0) for s in levels],
            name=translate(f"stars_subject_{subject}", lang),
            marker_color=colour,
            text=[counts.get(s, 0) for s in levels],
            textposition="outside",
        )
    house_layout(fig, translate("stars_distribution_title", lang), height="chart")
    fig.update_layout(
        barmode="group",
        legend={"orientation": "h", "y": -0.15},
        yaxis={"title": translate("stars_count_axis", lang), "rangemode": "tozero"},
    )
    return fig


def band_lines(fig: go.Figure, bands: Sequence[tuple[float, int]], *, vertical: bool) -> None:
    """Dotted lines where each star band starts, labelled with its stars."""
    for minimum, stars in bands:
        if minimum <= 0:
            continue
        line = {"color": TARGET, "dash": "dot", "width": 1}
        if vertical:  # labels just above the plot, clear of the bars
            fig.add_vline(x=minimum, line=line)
            fig.add_annotation(
                x=minimum,
                y=1,
                yref="paper",
                yanchor="bottom",
                text=f"{stars}★",
                showarrow=False,
                font={"color": TARGET, "size": 11},
            )
        else:
            fig.add_hline(
                y=minimum, line=line, annotation_text=f"{stars}★", annotation_position="right"
            )


def score_bars(
    board: pl.DataFrame, lang: str, bands: Sequence[tuple[float, int]], *, title: str
) -> go.Figure:
    """Each rated subject's score as a bar coloured by its stars, best on top.

    Bars carry the subject id, so a click can open its page; dotted lines mark the bands.
    """
    rated = board.filter(pl.col("status") == "rated").sort("score", descending=True)
    labels = [
        f"{code} {name or ''}".strip()
        for code, name in zip(rated["subject_id"], rated["name"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=rated["score"].to_list(),
            y=labels,
            orientation="h",
            marker_color=[STAR_COLOURS.get(s, NEUTRAL) for s in rated["stars"]],
            customdata=rated["subject_id"].to_list(),
            text=[stars_text(s) for s in rated["stars"]],
            textposition="inside",
            insidetextanchor="end",
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    )
    band_lines(fig, bands, vertical=True)
    house_layout(fig, title, height=max(280, 26 * rated.height + 90))
    fig.update_layout(
        yaxis={"autorange": "reversed"},
        xaxis={"range": [0, 100], "title": translate("stars_score_axis", lang)},
    )
    return fig


def score_histogram(
    board: pl.DataFrame, lang: str, bands: Sequence[tuple[float, int]], *, title: str
) -> go.Figure:
    """How rated subjects' scores spread, in 5-point bins coloured by the band they fall in.

    Why not ``warehouse.distributions.binned_counts``: its bins are right-closed, as waits
    against a deadline are; a star band is left-closed (80 earns 4 stars), so here a score
    of exactly 80 must sit in [80, 85), the bin coloured 4 stars. The scores are already
    on the page (a few hundred rows), so they are counted here.
    """
    rated = board.filter(pl.col("status") == "rated")
    width = 5
    bins = list(range(0, 100, width))
    counts = {b: 0 for b in bins}
    for score in rated["score"].to_list():
        counts[min(int(score // width) * width, bins[-1])] += 1
    ordered = sorted(bands, reverse=True)
    colours = [STAR_COLOURS.get(next(s for m, s in ordered if b >= m), NEUTRAL) for b in bins]
    fig = go.Figure(
        go.Bar(
            x=[b + width / 2 for b in bins],
            y=[counts[b] for b in bins],
            width=width * 0.92,
            marker_color=colours,
            customdata=[f"{b}–{b + width}" for b in bins],
            hovertemplate="%{customdata}: %{y}<extra></extra>",
        )
    )
    band_lines(fig, bands, vertical=True)
    house_layout(fig, title, height="chart")
    fig.update_layout(
        xaxis={"range": [0, 100], "title": translate("stars_score_axis", lang)},
        yaxis={"title": translate("stars_count_axis", lang), "rangemode": "tozero"},
    )
    return fig


def breakdown_bars(lines: pl.DataFrame, lang: str, *, title: str) -> go.Figure:
    """Points earned per indicator (green) and the points still open (grey), on the weight.

    ``lines`` is :attr:`warehouse.stars.board.Breakdown.lines`; the longest grey part is
    where the next star is cheapest to find.
    """
    labels = [
        indicator_label(name, kpi_name, lang)
        for name, kpi_name in zip(lines["indicator"], lines["kpi"], strict=True)
    ]
    fig = go.Figure()
    fig.add_bar(
        x=lines["points"].to_list(),
        y=labels,
        orientation="h",
        name=translate("stars_points_earned", lang),
        marker_color=GOOD,
        text=[f"{p:.1f} / {w:g}" for p, w in zip(lines["points"], lines["weight"], strict=True)],
        textposition="inside",
        insidetextanchor="start",
        hovertemplate="%{y}: %{x:.1f}<extra></extra>",
    )
    fig.add_bar(
        x=lines["headroom"].to_list(),
        y=labels,
        orientation="h",
        name=translate("stars_points_open", lang),
        marker_color=HEADROOM,
        hovertemplate="%{y}: +%{x:.1f}<extra></extra>",
    )
    house_layout(fig, title, height=max(260, 34 * lines.height + 110))
    fig.update_layout(
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"rangemode": "tozero"},  # the bars say "points / weight" themselves
        legend={"orientation": "h", "y": -0.14, "yanchor": "top", "traceorder": "normal"},
        margin={"b": 40},
    )
    return fig


def advice_text(found: Breakdown, lang: str) -> str:
    """What would lift the next star, in words: the model's advice for any language."""
    if found.status != "rated":
        return translate("stars_advice_not_rated", lang)
    if found.capped_by:
        severity = severity_text(found.capped_severity, lang) or found.capped_by
        return translate("stars_advice_capped", lang, stars=found.stars, severity=severity)
    if found.next_stars is None or found.points_needed is None:
        return translate("stars_advice_top", lang)
    points = f"{found.points_needed:.1f}"
    if found.lift_from is None:
        return translate("stars_advice_several", lang, points=points, stars=found.next_stars)
    line = found.lines.filter(pl.col("indicator") == found.lift_from).row(0, named=True)
    label = indicator_label(line["indicator"], line["kpi"], lang)
    text = translate(
        "stars_advice_one", lang, points=points, stars=found.next_stars, indicator=label
    )
    if line["lift_to"] is not None:
        key = (
            "stars_advice_lift_to" if line["value"] is not None else "stars_advice_lift_to_missing"
        )
        text += " " + translate(
            key,
            lang,
            indicator=label,
            value=indicator_value(line["kpi"], line["value"], lang),
            target=indicator_value(line["kpi"], line["lift_to"], lang),
        )
    return text


def breakdown_table(lines: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The breakdown as a readable table with translated column names.

    One row per indicator: label, raw value (formatted), points, weight, points open and,
    where one indicator alone could lift the next star, the value it would need.
    """
    t = lambda key: translate(f"stars_col_{key}", lang)  # noqa: E731
    return pl.DataFrame(
        {
            t("indicator"): [
                indicator_label(n, k, lang)
                for n, k in zip(lines["indicator"], lines["kpi"], strict=True)
            ],
            t("value"): [
                indicator_value(k, v, lang)
                for k, v in zip(lines["kpi"], lines["value"], strict=True)
            ],
            t("points"): lines["points"].round(1),
            t("weight"): lines["weight"],
            t("headroom"): lines["headroom"].round(1),
            t("lift_to"): [
                "" if v is None else indicator_value(k, v, lang)
                for k, v in zip(lines["kpi"], lines["lift_to"], strict=True)
            ],
        }
    )
