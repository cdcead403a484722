"""Star charts and texts: counts, colours, order, bands, the advice in both languages."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.figures.stars import (
    STAR_COLOURS,
    advice_text,
    breakdown_bars,
    breakdown_table,
    category_text,
    group_text,
    indicator_label,
    movement_text,
    score_bars,
    score_histogram,
    severity_text,
    source_text,
    stars_distribution,
    stars_text,
)
from dashboard.figures.style import GOOD
from warehouse.stars.board import Breakdown
from warehouse.stars.model import load_model

BANDS = load_model().bands


def _board(scores: list[float | None], stars: list[int | None]) -> pl.DataFrame:
    n = len(scores)
    return pl.DataFrame(
        {
            "subject_id": [f"0310{i}" for i in range(n)],
            "name": [f"outlet {i}" for i in range(n)],
            "status": ["rated" if s is not None else "not_rated" for s in scores],
            "score": scores,
            "stars": stars,
        },
        schema_overrides={"score": pl.Float64, "stars": pl.Int64},
    )


def _lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "indicator": ["productivity", "satisfaction", "breadth"],
            "kpi": ["served_per_staff_hour", "satisfaction_rate", "business_types_handled"],
            "normalise": ["peers", "linear", "linear"],
            "value": [12.0, 0.84, None],
            "share": [0.8, 0.5, 0.5],
            "weight": [25.0, 20.0, 10.0],
            "points": [20.0, 10.0, 5.0],
            "headroom": [5.0, 10.0, 5.0],
            "lift_to": [None, 0.875, 4.5],
        }
    )


def _found(**overrides) -> Breakdown:
    fields = {
        "subject_id": "000119",
        "month": "2026-02",
        "source": "provisional",
        "status": "rated",
        "score": 75.0,
        "stars": 3,
        "capped_by": None,
        "capped_severity": None,
        "next_stars": 4,
        "points_needed": 5.0,
        "lift_from": "satisfaction",
        "advice": "",
        "values_recomputed": False,
        "lines": _lines(),
    }
    return Breakdown(**(fields | overrides))


def test_glyphs_and_arrows() -> None:
    assert stars_text(3) == "★★★☆☆"
    assert stars_text(5) == "★★★★★"
    assert stars_text(None) == "—"
    assert [movement_text(m) for m in (2, -1, 0, None)] == ["▲2", "▼1", "–", ""]


def test_words_in_both_languages() -> None:
    assert source_text("published v2", "en") == "published v2"
    assert source_text("published v2", "zh") == "已发布第 2 版"
    assert source_text("provisional", "zh") == "临时结果"
    assert source_text("no data", "en") == "no data yet"
    assert severity_text("major/critical", "en") == "major or critical"
    assert severity_text("major/critical", "zh") == "重大或特别重大"
    assert severity_text(None, "en") == ""
    assert group_text("staff", "teller", "zh") == "柜员"
    assert group_text("outlets", "service_point", "en") == "Service point"
    assert group_text("staff", "janitor", "en") == "janitor"  # unknown: the code itself
    assert category_text("wait_time", "zh") == "等候时间"
    assert category_text("unheard_of", "en") == "unheard_of"
    assert (
        indicator_label("productivity", "served_per_staff_hour", "zh") == "人均效能（与同岗位比）"
    )
    # An indicator without its own label borrows its KPI's, else shows its name.
    assert indicator_label("waiting", "wait_p90_s", "en") == "Wait, 90th percentile"
    assert indicator_label("novel", "not_a_kpi", "en") == "novel"


def test_stars_distribution_counts_rated_subjects() -> None:
    outlets = _board([95.0, 91.0, 72.0, None], [5, 5, 3, None])
    staff = _board([55.0, 65.0, 66.0, 81.0, 40.0], [1, 2, 2, 4, 1])
    fig = stars_distribution({"outlets": outlets, "staff": staff}, "en")
    assert [t.name for t in fig.data] == ["Outlets", "Counter staff"]
    assert list(fig.data[0].x) == ["1★", "2★", "3★", "4★", "5★"]
    assert list(fig.data[0].y) == [0, 0, 1, 0, 2]  # the not-rated outlet is not counted
    assert list(fig.data[1].y) == [2, 2, 0, 1, 0]
    chinese = stars_distribution({"outlets": outlets, "staff": staff}, "zh")
    assert chinese.layout.title.text == "各星级数量"
    assert chinese.data[1].name == "柜面人员"


def test_score_bars_best_first_coloured_by_stars_with_band_lines() -> None:
    board = _board([61.0, 93.0, None, 75.0], [2, 5, None, 3])
    fig = score_bars(board, "en", BANDS, title="scores")
    bar = fig.data[0]
    assert list(bar.x) == [93.0, 75.0, 61.0]
    assert list(bar.customdata) == ["03101", "03103", "03100"]
    assert list(bar.marker.color) == [STAR_COLOURS[5], STAR_COLOURS[3], STAR_COLOURS[2]]
    assert list(bar.text) == ["★★★★★", "★★★☆☆", "★★☆☆☆"]
    lines = sorted(shape.x0 for shape in fig.layout.shapes)
    assert lines == [60, 70, 80, 90]  # no line at the lowest band's 0
    assert {a.text for a in fig.layout.annotations} == {"2★", "3★", "4★", "5★"}
    assert fig.layout.xaxis.range == (0, 100)


def test_score_histogram_bins_and_colours() -> None:
    board = _board([61.0, 63.0, 99.9, 100.0, 12.0, None], [2, 2, 5, 5, 1, None])
    fig = score_histogram(board, "en", BANDS, title="spread")
    bar = fig.data[0]
    counts = dict(zip(bar.x, bar.y, strict=True))
    assert sum(bar.y) == 5
    assert counts[62.5] == 2  # 60-65
    assert counts[97.5] == 2  # a perfect 100 falls in the last bin
    assert counts[12.5] == 1
    colours = dict(zip(bar.x, bar.marker.color, strict=True))
    assert colours[62.5] == STAR_COLOURS[2]
    assert colours[97.5] == STAR_COLOURS[5]
    assert colours[57.5] == STAR_COLOURS[1]


def test_breakdown_bars_stack_points_and_headroom_to_the_weight() -> None:
    fig = breakdown_bars(_lines(), "en", title="why")
    earned, headroom = fig.data
    assert fig.layout.barmode == "stack"
    assert [e + h for e, h in zip(earned.x, headroom.x, strict=True)] == [25.0, 20.0, 10.0]
    assert earned.marker.color == GOOD
    assert list(earned.y) == ["Productivity vs peers", "Satisfaction", "Breadth of business"]
    assert list(earned.text) == ["20.0 / 25", "10.0 / 20", "5.0 / 10"]
    chinese = breakdown_bars(_lines(), "zh", title="为何")
    assert list(chinese.data[0].y)[1] == "满意度"
    assert chinese.data[1].name == "可提升分"


def test_advice_for_every_case() -> None:
    one = advice_text(_found(), "en")
    assert "5.0 more points reach 4 stars" in one and "Satisfaction" in one
    assert "at 87.5% instead of 84.0%" in one
    assert "满意度" in advice_text(_found(), "zh")
    missing = advice_text(_found(lift_from="breadth"), "en")
    assert "Breadth of business has no value this month; at 4 it would do it alone" in missing
    peers_only = advice_text(_found(lift_from="productivity"), "en")
    assert "Productivity vs peers" in peers_only and "would do it alone" not in peers_only
    several = advice_text(_found(lift_from=None, points_needed=12.0), "en")
    assert "12.0 more points" in several and "several" in several
    top = advice_text(_found(stars=5, next_stars=None, points_needed=None), "en")
    assert top == "Top band reached."
    capped = advice_text(
        _found(capped_by="substantiated major complaint", capped_severity="major", stars=2), "zh"
    )
    assert "重大" in capped and "2 星" in capped
    rated_not = advice_text(_found(status="not_rated", lines=_lines().clear()), "en")
    assert "Not rated" in rated_not


def test_breakdown_table_formats_values_per_kpi() -> None:
    frame = breakdown_table(_lines(), "en")
    assert frame.columns[0] == "Indicator"
    assert frame["Value"].to_list() == ["12.0", "84.0%", "—"]
    assert frame["Next star alone at"].to_list() == ["", "87.5%", "4"]
    assert frame["Points open"].to_list() == [5.0, 10.0, 5.0]
    assert breakdown_table(_lines(), "zh").columns[:2] == ["指标", "数值"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_star_label_exists_in_both_languages(lang) -> None:
    for subject in load_model().subjects.values():
        for indicator in subject.indicators:
            label = indicator_label(indicator.name, indicator.kpi, lang)
            assert label and label != indicator.name
