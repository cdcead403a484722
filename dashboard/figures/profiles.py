"""Charts of one outlet or one person: stars month by month, KPIs against their peers.

Pure builders (data in, figure out) for the outlet and staff pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.figures.stars import (
    HEADROOM,
    STAR_COLOURS,
    band_lines,
    category_text,
    severity_text,
    stars_text,
)
from dashboard.figures.style import BAD, GOOD, NEUTRAL, TARGET, empty_note, house_layout
from dashboard.i18n import code_label, format_kpi, kpi_label, translate
from warehouse.kpi import kpi


def star_history_figure(
    history: pl.DataFrame, lang: str, bands: Sequence[tuple[float, int]]
) -> go.Figure:
    """Score month by month with the stars written above each point and the band lines.

    ``history`` is :func:`warehouse.stars.board.star_history`; provisional months are
    drawn hollow so a published month stands out as final.
    """
    rated = history.filter(pl.col("status") == "rated")
    provisional = [s == "provisional" for s in rated["source"]]
    fig = go.Figure(
        go.Scatter(
            x=rated["month"].to_list(),
            y=rated["score"].to_list(),
            mode="lines+markers+text",
            text=[stars_text(s) for s in rated["stars"]],
            textposition="top center",
            line={"color": NEUTRAL, "width": 2},
            marker={
                "size": 12,
                "color": [STAR_COLOURS.get(s, NEUTRAL) for s in rated["stars"]],
                "symbol": ["circle-open" if p else "circle" for p in provisional],
                "line": {
                    "width": 3,
                    "color": [STAR_COLOURS.get(s, NEUTRAL) for s in rated["stars"]],
                },
            },
            hovertemplate="%{x}: %{y:.1f}<extra></extra>",
        )
    )
    band_lines(fig, bands, vertical=False)
    house_layout(fig, translate("stars_history_title", lang), height="short")
    fig.update_layout(
        margin={"r": 36},
        yaxis={"range": [0, 105], "title": translate("stars_score_axis", lang)},
        xaxis={"type": "category", "range": [-0.5, max(rated.height, 1) - 0.5]},
        showlegend=False,
    )
    if rated.is_empty():
        empty_note(fig, translate("stars_history_none", lang))
    return fig


def peer_figure(comparison: pl.DataFrame, lang: str) -> go.Figure:
    """Where the person stands among their peers, KPI by KPI, better always to the right.

    Each KPI's grey bar runs from the peers' worst value (left) to their best (right),
    whatever its good direction; the tick is the peers' median and the dot this person,
    green when better than the median, red when worse, blue for volumes (more to the
    right). ``comparison`` is :func:`warehouse.profiles.peer_comparison`.
    """
    rows = comparison.drop_nulls("value").to_dicts()
    labels = [kpi_label(r["kpi"], lang) for r in rows]
    placed = [_placed(r) for r in rows]
    fig = go.Figure()
    for label in labels:
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[label, label],
                mode="lines",
                line={"color": HEADROOM, "width": 12},
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p["median"] for p in placed],
            y=labels,
            mode="markers",
            marker={"symbol": "line-ns", "size": 20, "line": {"width": 3, "color": TARGET}},
            hovertext=[
                translate("staff_peer_median", lang)
                + ": "
                + format_kpi(r["kpi"], r["peer_median"], lang)
                for r in rows
            ],
            hoverinfo="text",
        )
    )
    for side, position in (("worst", "middle left"), ("best", "middle right")):
        fig.add_trace(
            go.Scatter(
                x=[-0.04 if side == "worst" else 1.04] * len(rows),
                y=labels,
                mode="text",
                text=[
                    format_kpi(r["kpi"], p[side], lang) for r, p in zip(rows, placed, strict=True)
                ],
                textposition=position,
                textfont={"color": TARGET, "size": 11},
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p["value"] for p in placed],
            y=labels,
            mode="markers+text",
            marker={"size": 15, "color": [p["colour"] for p in placed]},
            text=[format_kpi(r["kpi"], r["value"], lang) for r in rows],
            textposition="top center",
            hoverinfo="text",
            hovertext=[format_kpi(r["kpi"], r["value"], lang) for r in rows],
        )
    )
    house_layout(fig, translate("staff_peers_title", lang), height=52 * len(rows) + 110)
    fig.update_layout(
        showlegend=False,
        xaxis={
            "range": [-0.3, 1.3],
            "tickvals": [0, 1],
            "ticktext": [translate("staff_peer_worse", lang), translate("staff_peer_better", lang)],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return fig


def _placed(row: dict) -> dict:
    """A KPI's person and median on a 0 (peers' worst) to 1 (peers' best) scale, and colour."""
    direction = kpi(row["kpi"]).direction
    low, high = row["peer_min"], row["peer_max"]
    worst, best = (high, low) if direction == "down" else (low, high)
    span = best - worst

    def scale(v: float) -> float:
        return 0.5 if span == 0 else (v - worst) / span

    value, median = scale(row["value"]), scale(row["peer_median"])
    colour = NEUTRAL if direction == "none" else GOOD if value >= median else BAD
    return {"value": value, "median": median, "worst": worst, "best": best, "colour": colour}


def complaint_table(
    frame: pl.DataFrame,
    lang: str,
    staff_link: Callable[[str], str] | None = None,
    *,
    fines: bool = True,
) -> tuple[pl.DataFrame, str | None]:
    """A complaint list (:func:`warehouse.profiles.outlet_complaints`) in words.

    Translated columns and values; with ``staff_link`` the staff id becomes a link and
    its column's name is returned so the page can show it as one. ``fines=False`` leaves
    out the fine column (for viewers who may not see pay).
    """
    t = lambda key: translate(key, lang)  # noqa: E731
    staff = frame["staff_id"].to_list()
    link_column = t("outlet_col_staff_id")
    table = pl.DataFrame(
        {
            t("outlet_col_received"): frame["received_at"],
            t("outlet_col_complaint"): frame["complaint_id"],
            t("outlet_col_outlet"): frame["outlet_code"],
            link_column: [  # empty, not null: a null cell reads "None" in any language
                "" if s is None else (staff_link(s) if staff_link else s) for s in staff
            ],
            t("outlet_col_staff_name"): frame["staff_name"].fill_null(""),
            t("outlet_col_channel"): [
                code_label("complaint_channel", c, lang) for c in frame["channel"]
            ],
            t("outlet_col_category"): [category_text(c, lang) for c in frame["category"]],
            t("outlet_col_severity"): [severity_text(s, lang) for s in frame["severity"]],
            t("outlet_col_status"): [t(f"outlet_status_{s}") for s in frame["status"]],
            t("outlet_col_substantiated"): [_yes_no(v, lang) for v in frame["substantiated"]],
            t("outlet_col_days"): [
                "" if d is None else f"{d:.1f}" for d in frame["resolution_days"]
            ],
            t("outlet_col_penalty"): [t(f"stars_penalty_{p}") for p in frame["penalty"]],
            t("outlet_col_fine"): frame["penalty_amount"],
            t("outlet_col_description"): frame["description"],
        },
        schema_overrides={link_column: pl.String},
    )
    if not fines:
        table = table.drop(t("outlet_col_fine"))
    return table, link_column if staff_link else None


def _yes_no(value: bool | None, lang: str) -> str:
    """Substantiated or not, or not decided yet."""
    if value is None:
        return translate("outlet_undecided", lang)
    return translate("outlet_yes" if value else "outlet_no", lang)
