"""Overview charts: a KPI's monthly trend, outlets ranked on a KPI, and who moved most."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.figures.style import (
    BAD,
    GOOD,
    NEUTRAL,
    TARGET,
    axis_format,
    empty_note,
    house_layout,
    minutes_scale,
    reference_line,
    unit_suffix,
)
from dashboard.i18n import format_kpi, kpi_label, translate
from warehouse.kpi import kpi


def trend_figure(
    frame: pl.DataFrame, name: str, lang: str, target: float | None = None
) -> go.Figure:
    """Monthly trend of one KPI (columns ``month`` and ``name``), with its target as a line."""
    label = kpi_label(name, lang)
    scale = minutes_scale(name)
    fig = go.Figure(
        go.Scatter(
            x=frame["month"].to_list(),
            y=[None if v is None else v * scale for v in frame[name].to_list()],
            mode="lines+markers",
            name=label,
            line={"color": NEUTRAL, "width": 3},
        )
    )
    if target is not None:
        reference_line(fig, target * scale, translate("target", lang))
    house_layout(fig, label + unit_suffix(name, lang), height="compact")
    fig.update_layout(
        showlegend=False,
        yaxis={"tickformat": axis_format(name), "rangemode": "tozero"},
        xaxis={"tickformat": "%Y-%m", "dtick": "M1"},
    )
    return fig


def _rows_axis(rows: int) -> dict:
    """A top-down category axis with room for ``rows`` bars, so one bar stays bar-sized."""
    return {"range": [max(rows, 1) - 0.5, -0.5], "autorange": False}


def _hover(scale: float) -> str:
    """Hover text: outlet and value (one decimal for minutes)."""
    return "%{y}: %{x:.1f}<extra></extra>" if scale != 1 else "%{y}: %{x}<extra></extra>"


def outlet_bars(
    frame: pl.DataFrame,
    name: str,
    lang: str,
    target: float | None = None,
    *,
    limit: int | None = None,
) -> go.Figure:
    """One KPI per outlet as horizontal bars, worst first, red where the target is missed.

    ``frame`` has outlet_code, outlet_label and the KPI column; ``limit`` keeps the worst
    ones. Each bar carries its outlet code, so a click can open the outlet's page.
    """
    entry = kpi(name)
    data = frame.drop_nulls(name).sort(name, descending=entry.direction != "up")
    if limit is not None:
        data = data.head(limit)
    scale = minutes_scale(name)
    values = [v * scale for v in data[name].to_list()]
    if target is None:
        colours = [NEUTRAL] * len(values)
    else:
        limit_value = target * scale
        missed = (
            (lambda v: v > limit_value)
            if entry.direction == "down"
            else (lambda v: v < limit_value)
        )
        colours = [BAD if missed(v) else GOOD for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=data["outlet_label"].to_list(),
            orientation="h",
            marker_color=colours,
            customdata=data["outlet_code"].to_list(),
            hovertemplate=_hover(scale),
        )
    )
    if target is not None:
        fig.add_vline(x=target * scale, line={"color": TARGET, "dash": "dash"})
    house_layout(fig, kpi_label(name, lang) + unit_suffix(name, lang))
    fig.update_layout(
        height=max(260, 26 * (limit or len(values)) + 90),
        yaxis=_rows_axis(limit or len(values)),
        xaxis={"tickformat": axis_format(name)},
    )
    return fig


def change_bars(frame: pl.DataFrame, name: str, lang: str, *, limit: int) -> go.Figure:
    """The outlets whose KPI improved most since the previous period, best first.

    ``frame`` has outlet_code, outlet_label, change and improved (see
    ``warehouse.headline.outlet_changes``). Only improvements are listed; bars show the
    size of the change in the KPI's good direction.
    """
    scale = minutes_scale(name)
    data = (
        frame.filter(pl.col("improved"))
        .with_columns(gain=pl.col("change").abs() * scale)
        .sort("gain", descending=True)
        .head(limit)
    )
    fig = go.Figure(
        go.Bar(
            x=data["gain"].to_list(),
            y=data["outlet_label"].to_list(),
            orientation="h",
            marker_color=GOOD,
            customdata=data["outlet_code"].to_list(),
            hovertemplate=_hover(scale),
        )
    )
    title = translate("improvement_of", lang, kpi=kpi_label(name, lang))
    house_layout(fig, title + unit_suffix(name, lang))
    fig.update_layout(
        height=max(260, 26 * limit + 90),
        yaxis=_rows_axis(limit),
        xaxis={"tickformat": axis_format(name)},
    )
    if data.is_empty():
        empty_note(fig, translate("no_improvement", lang))
    return fig


def ordinal(rank: int, of: int, lang: str) -> str:
    """A rank among ``of`` in words: "3rd of 24", "第3名（共24个）".

    >>> ordinal(3, 24, "en"), ordinal(11, 24, "en"), ordinal(22, 24, "en")
    ('3rd of 24', '11th of 24', '22nd of 24')
    """
    if lang == "zh":
        return translate("rank_of", lang, rank=rank, n=of)
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return translate("rank_of", lang, rank=f"{rank}{suffix}", n=of)


def benchmark_table(frame: pl.DataFrame, lang: str, names: dict[str, str]) -> pl.DataFrame:
    """Outlets against the county (:func:`warehouse.benchmark.outlet_benchmark`) in words.

    One row per KPI and outlet: the outlet's value, its rank among the county's outlets,
    the county's value and the median outlet, each formatted as the KPI is.
    """
    t = lambda key: translate(key, lang)  # noqa: E731
    rows = frame.to_dicts()
    return pl.DataFrame(
        {
            t("benchmark_col_outlet"): [
                names.get(r["outlet_code"], r["outlet_code"]) for r in rows
            ],
            t("benchmark_col_kpi"): [kpi_label(r["kpi"], lang) for r in rows],
            t("benchmark_col_value"): [format_kpi(r["kpi"], r["value"], lang) for r in rows],
            t("benchmark_col_rank"): [
                "—" if r["rank"] is None else ordinal(r["rank"], r["ranked"], lang) for r in rows
            ],
            t("benchmark_col_county"): [format_kpi(r["kpi"], r["county"], lang) for r in rows],
            t("benchmark_col_median"): [
                format_kpi(r["kpi"], r["county_median"], lang) for r in rows
            ],
        },
        schema={
            t(k): pl.String
            for k in (
                "benchmark_col_outlet",
                "benchmark_col_kpi",
                "benchmark_col_value",
                "benchmark_col_rank",
                "benchmark_col_county",
                "benchmark_col_median",
            )
        },
    )
