"""Throughput figure builders, checked on their Plotly specs with hand-made frames."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.figures.style import AMBER, BAD, GOOD, NEUTRAL
from dashboard.figures.throughput import (
    SELF_SERVICE,
    channel_figure,
    day_figure,
    demand_heatmap,
    first_weekday,
    flow_figure,
    gap_heatmap,
    hour_bars,
    label,
    needed_heatmap,
    needed_hours,
    open_slots,
    outlet_bars,
    self_service_figure,
    staffing_known,
    staffing_outlet_bars,
    status_counts,
    type_bars,
)

D1, D2 = dt.date(2026, 2, 2), dt.date(2026, 2, 3)


def _plan(slots: dict[tuple[int, int], tuple[int, float, str]]) -> pl.DataFrame:
    """A 168-row staffing plan: (weekday, hour) -> (needed, staffed, status), else empty."""
    rows = []
    for day in range(7):
        for hour in range(24):
            needed, staffed, status = slots.get((day, hour), (0, 0.0, "ok"))
            rows.append((day, hour, needed, staffed, staffed - needed, status))
    return pl.DataFrame(
        rows,
        schema=["weekday", "hour", "windows_needed", "windows_staffed", "gap", "status"],
        orient="row",
    )


def test_flow_bars_arrivals_and_draws_served_per_period() -> None:
    frame = pl.DataFrame({"day": [D1, D2], "arrivals": [120, 80], "served": [100, 70]})
    fig = flow_figure(frame, "day", "en")
    assert list(fig.data[0].y) == [120, 80] and fig.data[0].type == "bar"
    assert list(fig.data[1].y) == [100, 70] and fig.data[1].type == "scatter"
    assert fig.layout.title.text == "Customers per day"
    weekly = flow_figure(frame.rename({"day": "week"}), "week", "zh")
    assert weekly.layout.title.text.startswith("每周客户数")
    assert weekly.data[0].name == "到达客户"


def test_self_service_share_with_its_target() -> None:
    frame = pl.DataFrame({"month": [D1], "self_service_share": [0.25]})
    fig = self_service_figure(frame, "month", "en", target=0.3)
    assert list(fig.data[0].y) == [0.25]
    assert fig.layout.shapes[0].y0 == 0.3
    assert fig.layout.yaxis.tickformat == ".0%"
    assert not self_service_figure(frame, "month", "en").layout.shapes


def test_channels_stack_counter_first_and_keep_unknown_codes() -> None:
    frame = pl.DataFrame(
        {
            "day": [D1, D1, D1, D2, D2],
            "channel": ["atm", "counter", "carrier_pigeon", "counter", "atm"],
            "arrivals": [5, 40, 1, 30, 7],
        }
    )
    fig = channel_figure(frame, "day", "zh", order=["counter", "atm"])
    assert [t.name for t in fig.data] == ["柜面", "自动柜员机", "carrier_pigeon"]
    assert list(fig.data[0].y) == [40, 30] and list(fig.data[1].y) == [5, 7]
    assert fig.data[0].marker.color == NEUTRAL
    assert fig.layout.barmode == "stack"
    assert label("channel", "carrier_pigeon", "en") == "carrier_pigeon"


def test_business_types_split_assisted_and_self_service_busiest_first() -> None:
    frame = pl.DataFrame(
        {
            "business_type": ["enquiry", "withdrawal", "deposit"],
            "arrivals": [10, 90, 50],
            "assisted_arrivals": [10, 60, 45],
            "self_service_arrivals": [0, 30, 5],
        }
    )
    fig = type_bars(frame, "en")
    assert list(fig.data[0].y) == ["Withdrawal", "Deposit", "Enquiry"]
    assert list(fig.data[0].x) == [60, 45, 10]  # assisted (counter, phone)
    assert fig.data[0].name == "Assisted service" and fig.data[0].marker.color == NEUTRAL
    assert list(fig.data[1].x) == [30, 5, 0]  # self-service
    assert fig.data[1].marker.color == SELF_SERVICE


def test_outlet_bars_carry_the_outlet_code_for_a_click() -> None:
    frame = pl.DataFrame(
        {
            "outlet_code": ["01", "02", "03"],
            "outlet_label": ["01 A", "02 B", "03 C"],
            "arrivals": [100, 300, 100],
            "assisted_arrivals": [80, 200, 100],
            "self_service_arrivals": [20, 100, 0],
        }
    )
    fig = outlet_bars(frame, "en")
    assert list(fig.data[0].y) == ["02 B", "01 A", "03 C"]  # busiest first, ties by code
    assert list(fig.data[0].customdata) == ["02", "01", "03"]
    assert list(fig.data[1].customdata) == ["02", "01", "03"]
    assert list(fig.data[1].x) == [100, 20, 0]


def test_hours_run_from_first_to_last_busy_hour_with_gaps_as_zero() -> None:
    frame = pl.DataFrame(
        {
            "hour": [3, 8, 9, 11],
            "arrivals": [0, 20, 35, 12],
            "assisted_arrivals": [0, 15, 30, 12],
            "self_service_arrivals": [0, 5, 5, 0],
        }
    )
    fig = hour_bars(frame, "en")
    assert list(fig.data[0].x) == [8, 9, 10, 11]  # the quiet 10:00 stays, 03:00 (empty) not
    assert list(fig.data[0].y) == [15, 30, 0, 12]
    assert list(fig.data[1].y) == [5, 5, 0, 0]


def test_demand_heatmap_monday_on_top_and_only_busy_hours() -> None:
    rows = [(d, h, 0, 0.0) for d in range(7) for h in range(24)]
    frame = pl.DataFrame(
        rows, schema=["weekday", "hour", "arrivals", "arrivals_per_hour"], orient="row"
    ).with_columns(
        arrivals=pl.when((pl.col("weekday") == 4) & (pl.col("hour") == 9))
        .then(40)
        .when((pl.col("weekday") == 0) & (pl.col("hour") == 11))
        .then(8)
        .otherwise(pl.col("arrivals")),
        arrivals_per_hour=pl.when((pl.col("weekday") == 4) & (pl.col("hour") == 9))
        .then(10.0)
        .when((pl.col("weekday") == 0) & (pl.col("hour") == 11))
        .then(2.0)
        .otherwise(pl.col("arrivals_per_hour")),
    )
    fig = demand_heatmap(frame, "zh")
    heat = fig.data[0]
    assert list(heat.y) == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    assert list(heat.x) == [9, 10, 11]
    assert heat.z[4][0] == 10.0 and heat.z[0][2] == 2.0 and heat.z[6][1] == 0.0
    assert fig.layout.yaxis.autorange == "reversed"


def test_status_counts_only_count_open_hours() -> None:
    plan = _plan({(0, 9): (3, 1.0, "under"), (0, 10): (1, 3.0, "over"), (1, 9): (2, 2.0, "ok")})
    assert status_counts(plan) == {"under": 1, "ok": 1, "over": 1}  # 165 empty slots ignored


def test_gap_heatmap_colours_by_status_and_labels_the_gap() -> None:
    plan = _plan(
        {
            (0, 9): (3, 1.0, "under"),
            (0, 11): (1, 2.5, "over"),
            (2, 10): (2, 1.75, "ok"),
        }
    )
    fig = gap_heatmap(plan, "en")
    heat = fig.data[0]
    assert list(heat.x) == [9, 10, 11]
    assert list(heat.z[0]) == [-1, None, 1]  # Monday: under at 9, nothing at 10, over at 11
    assert heat.z[2][1] == 0  # Wednesday 10:00 ok
    assert list(heat.text[0]) == ["-2", "", "+1.5"] and heat.text[2][1] == "-0.25"
    colours = {t.name: t.marker.color for t in fig.data[1:]}
    assert colours == {"Under-staffed": BAD, "About right": GOOD, "Over-staffed": AMBER}


def test_day_figure_bars_staffed_by_status_and_draws_needed() -> None:
    plan = _plan(
        {
            (0, 8): (1, 1.0, "ok"),
            (1, 8): (2, 0.5, "under"),
            (1, 9): (3, 1.0, "under"),
            (1, 10): (1, 3.0, "over"),
        }
    )
    fig = day_figure(plan, 1, "en")
    bars = {t.name: (list(t.x), list(t.y), t.marker.color) for t in fig.data if t.type == "bar"}
    assert bars["Windows staffed · Under-staffed"] == ([8, 9], [0.5, 1.0], BAD)
    assert bars["Windows staffed · Over-staffed"] == ([10], [3.0], AMBER)
    needed = fig.data[-1]
    assert needed.name == "Windows needed"
    assert list(needed.x) == [8, 9, 10] and list(needed.y) == [2, 3, 1]
    assert fig.layout.title.text.startswith("Tuesday")
    monday = day_figure(plan, 0, "zh")
    assert monday.layout.title.text.startswith("周一")
    assert list(monday.data[-1].y) == [1, 0, 0]  # Tuesday's hours, Monday's needs


def test_staffing_outlets_most_under_staffed_first() -> None:
    frame = pl.DataFrame(
        {"outlet_label": ["01 A", "02 B", "03 C"], "under": [2, 9, 2], "over": [0, 1, 5]}
    )
    fig = staffing_outlet_bars(frame, "en")
    assert list(fig.data[0].y) == ["02 B", "03 C", "01 A"]
    assert list(fig.data[0].x) == [9, 2, 2] and fig.data[0].marker.color == BAD
    assert list(fig.data[1].x) == [1, 5, 0] and fig.data[1].marker.color == AMBER


def _agent_plan(needs: dict[tuple[int, int], int]) -> pl.DataFrame:
    """A 168-row plan of a queue the roster does not cover: staffed, gap and status null."""
    rows = [(d, h, needs.get((d, h), 0)) for d in range(7) for h in range(24)]
    return pl.DataFrame(
        rows, schema=["weekday", "hour", "windows_needed"], orient="row"
    ).with_columns(
        windows_staffed=pl.lit(None, dtype=pl.Float64),
        gap=pl.lit(None, dtype=pl.Float64),
        status=pl.lit(None, dtype=pl.String),
    )


def test_a_plan_without_a_roster_counts_needs_and_no_statuses() -> None:
    plan = _agent_plan({(0, 9): 3, (0, 10): 5, (2, 9): 2, (4, 13): 12})
    assert not staffing_known(plan)
    assert staffing_known(_plan({(0, 9): (1, 1.0, "ok")}))
    assert open_slots(plan).height == 4  # a null staffed side is not an open window
    assert status_counts(plan) == {"under": 0, "ok": 0, "over": 0}
    assert needed_hours(plan) == 3 + 5 + 2 + 12
    assert first_weekday(plan) == 4  # Friday needs 12 agent-hours, Monday 8
    assert first_weekday(_agent_plan({})) == 0
    under = _plan({(3, 9): (3, 1.0, "under"), (1, 9): (1, 1.0, "ok")})
    assert first_weekday(under) == 3  # with a roster: the weekday with most under-staffing


def test_needed_heatmap_shows_agents_per_weekday_hour() -> None:
    plan = _agent_plan({(0, 9): 3, (0, 11): 5, (6, 10): 1})
    fig = needed_heatmap(plan, "en", "agents")
    heat = fig.data[0]
    assert list(heat.x) == [9, 10, 11]
    assert list(heat.z[0]) == [3, None, 5] and list(heat.z[6]) == [None, 1, None]
    assert fig.layout.title.text == "Agents needed by weekday and hour"
    assert "Agents needed" in heat.hovertemplate
    assert needed_heatmap(plan, "zh", "agents").layout.title.text == "各星期、各时段所需坐席"
    empty = needed_heatmap(_agent_plan({}), "en", "agents")
    assert "No calls" in empty.layout.annotations[0].text


def test_day_figure_of_agents_draws_the_need_alone() -> None:
    plan = _agent_plan({(2, 8): 4, (2, 9): 7, (3, 10): 2})
    fig = day_figure(plan, 2, "en", "agents")
    assert [t.type for t in fig.data] == ["scatter"]  # no staffed bars: nothing is known
    assert fig.data[0].name == "Agents needed"
    assert list(fig.data[0].x) == [8, 9, 10] and list(fig.data[0].y) == [4, 7, 0]
    assert fig.layout.title.text == "Wednesday: agents needed by hour"
    assert fig.layout.yaxis.title.text == "Agents"
