"""Outlet and staff charts: star history, the person among peers, the complaint list."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.figures.profiles import complaint_table, peer_figure, star_history_figure
from dashboard.figures.stars import STAR_COLOURS
from dashboard.figures.style import BAD, GOOD, NEUTRAL
from warehouse.stars.model import load_model

BANDS = load_model().bands


def _history() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "month": ["2025-12", "2026-01", "2026-02"],
            "status": ["rated", "not_rated", "rated"],
            "score": [82.0, None, 91.5],
            "stars": [4, None, 5],
            "source": ["published v1", "provisional", "provisional"],
        },
        schema_overrides={"score": pl.Float64, "stars": pl.Int64},
    )


def test_star_history_marks_provisional_months_hollow() -> None:
    fig = star_history_figure(_history(), "en", BANDS)
    line = fig.data[0]
    assert list(line.x) == ["2025-12", "2026-02"]  # the month not rated is left out
    assert list(line.y) == [82.0, 91.5]
    assert list(line.text) == ["★★★★☆", "★★★★★"]
    assert list(line.marker.symbol) == ["circle", "circle-open"]
    assert list(line.marker.color) == [STAR_COLOURS[4], STAR_COLOURS[5]]
    assert sorted(s.y0 for s in fig.layout.shapes) == [60, 70, 80, 90]
    assert fig.layout.title.text.startswith("Score and stars")
    assert star_history_figure(_history(), "zh", BANDS).layout.title.text.startswith("各月得分")


def test_star_history_without_rated_months_says_so() -> None:
    fig = star_history_figure(_history().filter(pl.col("status") != "rated"), "en", BANDS)
    assert "No rated month in the selection." in [a.text for a in fig.layout.annotations]


def _peers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kpi": ["served_per_staff_hour", "errors_per_1000", "counter_staff_hours", "served"],
            "value": [12.0, 4.0, 100.0, None],
            "peer_median": [10.0, 6.0, 90.0, 500.0],
            "peer_min": [6.0, 0.0, 40.0, 100.0],
            "peer_max": [16.0, 20.0, 160.0, 900.0],
            "peers": [41, 41, 41, 41],
            "rank": [10, 12, None, None],
        }
    )


def test_peer_figure_puts_better_to_the_right() -> None:
    fig = peer_figure(_peers(), "en")
    person = fig.data[-1]
    assert list(person.y) == [
        "Served per counter staff-hour",
        "Errors per 1,000 served",
        "Counter staff-hours",
    ]  # a KPI without a value for the person is left out
    x = list(person.x)
    assert x[0] == pytest.approx((12 - 6) / (16 - 6))
    assert x[1] == pytest.approx((20 - 4) / (20 - 0))  # fewer errors is further right
    assert x[2] == pytest.approx((100 - 40) / (160 - 40))
    assert list(person.marker.color) == [GOOD, GOOD, NEUTRAL]
    median = fig.data[3]
    assert list(median.x)[1] == pytest.approx((20 - 6) / 20)
    worst, best = fig.data[4], fig.data[5]
    assert list(worst.text)[1] == "20.00" and list(best.text)[1] == "0.00"
    assert list(fig.layout.xaxis.ticktext) == ["← peers' worst", "peers' best →"]
    worse = _peers().with_columns(value=pl.Series([7.0, 15.0, 100.0, None]))
    assert list(peer_figure(worse, "en").data[-1].marker.color)[:2] == [BAD, BAD]
    assert list(peer_figure(_peers(), "zh").layout.xaxis.ticktext) == [
        "← 同岗位最差",
        "同岗位最好 →",
    ]


def test_complaint_table_in_words_with_links() -> None:
    complaints = pl.DataFrame(
        {
            "complaint_id": ["TS1", "TS2"],
            "received_at": [dt.datetime(2026, 2, 2, 9), dt.datetime(2026, 2, 3, 10)],
            "outlet_code": ["03101", "03101"],
            "staff_id": ["000108", None],
            "staff_name": ["郑平云", None],
            "channel": ["hotline", "in_person"],
            "category": ["attitude", "wait_time"],
            "severity": ["major", "minor"],
            "status": ["closed", "open"],
            "substantiated": [True, None],
            "resolved_at": [dt.datetime(2026, 2, 10), None],
            "resolution_days": [7.94, None],
            "penalty": ["fine", "none"],
            "penalty_amount": [500.0, 0.0],
            "description": ["<b>rude</b>", "slow"],
        }
    )
    frame, link_column = complaint_table(complaints, "en", lambda s: f"./staff?staff={s}")
    assert link_column == "Staff id"
    assert frame["Staff id"].to_list() == ["./staff?staff=000108", ""]
    assert frame["Staff member"].to_list() == ["郑平云", ""]
    assert frame["Substantiated"].to_list() == ["yes", "not decided"]
    assert frame["Channel"].to_list() == ["Hotline", "In person"]
    assert frame["Days to resolve"].to_list() == ["7.9", ""]  # open: nothing, not "None"
    assert frame["What the customer said"][0] == "<b>rude</b>"  # shown as text, as written
    chinese, no_link = complaint_table(complaints, "zh")
    assert no_link is None
    assert chinese["工号"].to_list() == ["000108", ""]
    assert chinese["类别"].to_list() == ["服务态度", "等候时间"]
    assert chinese["处理"].to_list() == ["罚款", "无"]
