"""Data-quality charts: where each load's rows went, failed rules, outlets with missing days.

Pure builders (polars in, Plotly out), plus the plain-language name of a validation rule:
rule names are built from the contract (``not_allowed_channel``, ``out_of_range_amount``),
so the label follows the same pattern instead of listing every field.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go
import polars as pl

from dashboard.figures.style import BAD, GOOD, NEUTRAL, TARGET, house_layout
from dashboard.i18n import translate

FATES = {
    "rows_loaded": ("dq_fate_loaded", GOOD),
    "rows_duplicate": ("dq_fate_duplicate", NEUTRAL),
    "rows_quarantined": ("dq_fate_quarantined", BAD),
    "rows_dropped": ("dq_fate_dropped", TARGET),
}
# Rules named after a field of the contract: prefix -> label with a {field} placeholder.
FIELD_RULES = (
    ("bad_type_", "dq_rule_bad_type"),
    ("missing_", "dq_rule_missing"),
    ("id_not_text_", "dq_rule_id_not_text"),
    ("not_allowed_", "dq_rule_not_allowed"),
    ("out_of_range_", "dq_rule_out_of_range"),
)


def _count_axis(largest: object) -> dict:
    """An axis of whole counts: one tick per unit while counts are small (no "0 1 1 2 2")."""
    axis: dict = {"tickformat": ",d", "rangemode": "tozero"}
    if isinstance(largest, int) and largest <= 10:
        axis["dtick"] = 1
    return axis


def rule_label(rule: str, lang: str) -> str:
    """What a validation rule checks, in words; the rule's own name when it is unknown."""
    try:
        return translate(f"dq_rule_{rule}", lang)
    except KeyError:
        pass
    if match := re.fullmatch(r"duration_over_(\d+)h", rule):
        return translate("dq_rule_duration_over", lang, hours=match.group(1))
    for prefix, key in FIELD_RULES:
        if rule.startswith(prefix):
            return translate(key, lang, field=rule.removeprefix(prefix))
    return rule


def load_label(load_id: int, file_name: str) -> str:
    """How a load is named on charts and pickers: ``#13 transactions_2025-12.csv``."""
    return f"#{load_id} {file_name}"


def fates_figure(history: pl.DataFrame, lang: str) -> go.Figure:
    """Each load as one bar split into loaded / duplicate / quarantined / dropped, in %.

    ``history`` is ``load_history``'s output (newest first, drawn on top). Shares make a
    ten-row reference file and a million-row month comparable; the hover gives the rows.
    """
    labels = [
        load_label(i, f)
        for i, f in zip(history["load_id"].to_list(), history["file_name"].to_list(), strict=True)
    ]
    traces = []
    for column, (key, colour) in FATES.items():
        rows = history[column].to_list()
        traces.append(
            go.Bar(
                y=labels,
                x=rows,
                name=translate(key, lang),
                orientation="h",
                marker_color=colour,
                customdata=rows,
                hovertemplate="%{y}<br>%{customdata:,} (%{x:.1f}%)<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    house_layout(fig, translate("dq_fates_title", lang))
    fig.update_layout(
        barmode="stack",
        barnorm="percent",
        legend_traceorder="normal",
        height=max(300, 24 * history.height + 120),
        yaxis={"autorange": "reversed"},
        xaxis={"ticksuffix": "%", "range": [0, 100]},
        legend={"orientation": "h", "y": -0.1},
    )
    return fig


def rule_bars(counts: pl.DataFrame, lang: str) -> go.Figure:
    """Quarantined rows per failed rule, most frequent on top, described in words.

    ``counts`` is ``rule_counts``'s output (rule, rows, share).
    """
    fig = go.Figure(
        go.Bar(
            y=[rule_label(r, lang) for r in counts["rule"].to_list()],
            x=counts["rows"].to_list(),
            orientation="h",
            marker_color=BAD,
            customdata=counts["rule"].to_list(),
            hovertemplate="%{customdata}: %{x:,}<extra></extra>",
        )
    )
    house_layout(fig, translate("dq_rules_title", lang))
    fig.update_layout(
        height=max(260, 28 * counts.height + 100),
        yaxis={"autorange": "reversed"},
        xaxis=_count_axis(counts["rows"].max()),
    )
    return fig


def missing_bars(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Business days without events per outlet (only outlets with gaps), worst on top.

    ``frame`` is ``missing_days``'s output plus ``outlet_label``; each bar carries its
    outlet code so a click can open the outlet's page.
    """
    data = frame.filter(pl.col("missing_days") > 0).sort(
        ["missing_days", "outlet_code"], descending=[True, False]
    )
    fig = go.Figure(
        go.Bar(
            y=data["outlet_label"].to_list(),
            x=data["missing_days"].to_list(),
            orientation="h",
            marker_color=BAD,
            customdata=data["outlet_code"].to_list(),
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    house_layout(fig, translate("dq_missing_title", lang))
    fig.update_layout(
        height=max(170, 30 * data.height + 110),
        yaxis={"autorange": "reversed"},
        xaxis=_count_axis(data["missing_days"].max()),
    )
    return fig
