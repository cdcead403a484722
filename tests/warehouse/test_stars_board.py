"""The star board: provisional months equal the assessment, published months are read back.

Checked on the small synthetic county against ``assess_month``, the published tables and
independent SQL on the dimensions.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse.periods import quarter_of
from warehouse.stars.assess import assess_month
from warehouse.stars.board import (
    MonthBoards,
    assessment_month,
    month_board,
    month_boards,
    penalties,
    publication,
    quarter_payout,
    restatement,
    star_history,
    subject_breakdown,
)
from warehouse.stars.honours import awards
from warehouse.stars.model import load_model
from warehouse.stars.payout import payout
from warehouse.stars.publish import publish
from warehouse.stars.scoring import linear_share

MODEL = load_model()
MONTH = "2026-02"


@pytest.fixture(scope="module")
def con(small_warehouse: Path):
    connection = duckdb.connect(str(small_warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def assessed(con) -> dict[str, pl.DataFrame]:
    return assess_month(con, MONTH, MODEL)


@pytest.fixture(scope="module")
def boards(con) -> MonthBoards:
    return month_boards(con, month=MONTH)


@pytest.fixture()
def db(small_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, copy)
    return copy


def _township_outlets(con, township: str) -> set[str]:
    rows = con.execute("SELECT outlet_code FROM dim_outlet WHERE township = ?", [township])
    return {r[0] for r in rows.fetchall()}


@pytest.mark.parametrize("subject", ["staff", "outlets"])
def test_provisional_board_equals_the_assessment(boards, assessed, subject) -> None:
    board, expected = boards.of(subject), assessed[subject]
    assert board.height == expected.height > 0
    assert set(board["source"]) == {"provisional"}
    joined = board.join(expected, on="subject_id", suffix="_a")
    assert joined.height == expected.height
    for column in ("status", "score", "stars", "rank", "movement"):
        assert joined[column].to_list() == joined[f"{column}_a"].to_list(), column
    points = [c for c in expected.columns if c.startswith("points_")]
    assert points and all(c in board.columns for c in points)
    for column in points:
        assert joined[column].to_list() == joined[f"{column}_a"].to_list(), column
    ranks = board.filter(pl.col("rank").is_not_null())["rank"].to_list()
    assert ranks == sorted(ranks)  # best first
    assert board["status"].to_list()[-1] == "rated" or board["rank"].to_list()[-1] is None


def test_board_names_and_groups_come_from_the_dimensions(con, boards) -> None:
    outlets = dict(con.execute("SELECT outlet_code, outlet_name FROM dim_outlet").fetchall())
    types = dict(con.execute("SELECT outlet_code, outlet_type FROM dim_outlet").fetchall())
    for row in boards.outlets.iter_rows(named=True):
        assert row["name"] == outlets[row["subject_id"]]
        assert row["outlet_code"] == row["subject_id"]
        assert row["peer_group"] == types[row["subject_id"]]
    staff = dict(
        con.execute(
            """SELECT staff_id, staff_name FROM dim_staff
               WHERE valid_from <= DATE '2026-02-28'
                 AND (valid_to IS NULL OR valid_to > DATE '2026-02-28')"""
        ).fetchall()
    )
    for row in boards.staff.iter_rows(named=True):
        assert row["name"] == staff[row["subject_id"]]
        assert row["outlet_name"] == outlets[row["outlet_code"]]


def test_rank_in_group_counts_better_scores_in_the_same_group(boards) -> None:
    board = boards.outlets.filter(pl.col("status") == "rated")
    for row in board.iter_rows(named=True):
        group = board.filter(pl.col("peer_group") == row["peer_group"])
        better = group.filter(pl.col("score") > row["score"]).height
        assert row["rank_in_group"] == better + 1


def test_filters_choose_rows_but_keep_county_ranks(con, boards) -> None:
    chengguan = _township_outlets(con, "城关")
    scoped = month_boards(con, month=MONTH, township=("城关",))
    assert set(scoped.outlets["subject_id"]) == chengguan
    expected_staff = boards.staff.filter(pl.col("outlet_code").is_in(chengguan))
    assert 0 < scoped.staff.height == expected_staff.height < boards.staff.height
    assert scoped.staff["rank"].to_list() == expected_staff["rank"].to_list()
    one = month_board(con, month=MONTH, subject="staff", outlets=("03104",))
    assert set(one["outlet_code"]) == {"03104"}
    by_type = month_board(con, month=MONTH, subject="outlets", outlet_type="service_point")
    assert set(by_type["peer_group"]) == {"service_point"}
    with pytest.raises(ValueError, match="subject"):
        month_board(con, month=MONTH, subject="windows")


def test_published_month_is_read_back_and_marked(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        assessed = assess_month(con, MONTH, MODEL)
        assert publication(con, month=MONTH) is None
        # Publish numbers the data would not give, so reading them back proves the source.
        changed = {k: v.clone() for k, v in assessed.items()}
        changed["outlets"] = changed["outlets"].with_columns(
            score=pl.col("score") - 1.0, points_deposits=pl.col("points_deposits") - 1.0
        )
        publish(con, MONTH, changed, MODEL, by="tester")
        first = month_boards(con, month=MONTH)
        info = publication(con, month=MONTH)
        assert info is not None and (info.version, info.published_by, info.reason) == (
            1,
            "tester",
            None,
        )
        assert set(first.outlets["source"]) == {"published v1"}
        joined = first.outlets.join(assessed["outlets"], on="subject_id", suffix="_a")
        assert joined.height == assessed["outlets"].height
        assert (joined["score"] - (joined["score_a"] - 1.0)).abs().max() < 1e-9
        assert (joined["points_deposits"] - (joined["points_deposits_a"] - 1.0)).abs().max() < 1e-9
        assert first.staff.columns == month_boards(con, month="2026-01").staff.columns
        assert restatement(con, month=MONTH, subject="outlets").is_empty()

        publish(con, MONTH, assessed, MODEL, by="tester", restate=True, reason="late file")
        second = month_boards(con, month=MONTH)
        info = publication(con, month=MONTH)
        assert info is not None and (info.version, info.reason) == (2, "late file")
        assert set(second.staff["source"]) == {"published v2"}
        diff = restatement(con, month=MONTH, subject="outlets")
        assert diff.height == assessed["outlets"].height  # every outlet's score moved by 1
        assert ((diff["new_score"] - diff["old_score"]) - 1.0).abs().max() < 1e-9
        scoped = restatement(con, month=MONTH, subject="outlets", outlets=("03101",))
        assert scoped["subject_id"].to_list() == ["03101"]
        assert month_boards(con, month="2026-01").staff["source"][0] == "provisional"


def test_breakdown_explains_every_point(con, boards) -> None:
    rated = boards.staff.filter(pl.col("status") == "rated")
    picks = [0, rated.height // 2, rated.height - 1]  # best, middling, worst
    for row in rated[picks].iter_rows(named=True):
        found = subject_breakdown(con, month=MONTH, subject="staff", subject_id=row["subject_id"])
        assert found is not None and found.source == "provisional"
        lines = found.lines
        assert lines["points"].sum() == pytest.approx(row["score"], abs=1e-4)
        assert (lines["weight"] - lines["points"] - lines["headroom"]).abs().max() < 1e-9
        assert lines["weight"].sum() == pytest.approx(100)
        minimum = next((m for m, s in sorted(MODEL.bands) if s == row["stars"] + 1), None)
        if minimum is None or row["capped_by"]:
            assert found.next_stars is None
            continue
        assert found.next_stars == row["stars"] + 1
        assert found.points_needed == pytest.approx(minimum - row["score"])
        _check_lift(found)


def _check_lift(found) -> None:
    """lift_to, put back into the indicator's straight line, earns exactly the points needed."""
    spec = {i.name: i for i in MODEL.subjects["staff"].indicators}
    for line in found.lines.filter(pl.col("lift_to").is_not_null()).iter_rows(named=True):
        ind = spec[line["indicator"]]
        earned = ind.weight * linear_share(ind, line["lift_to"], missing=MODEL.missing_share)
        assert earned == pytest.approx(line["points"] + found.points_needed)
    best = found.lines["headroom"].max()
    if best >= found.points_needed:
        assert found.lines.filter(pl.col("indicator") == found.lift_from)["headroom"][0] == best
    else:
        assert found.lift_from is None


def test_breakdown_of_not_rated_and_out_of_view(con, boards) -> None:
    absent = boards.staff.filter(pl.col("status") == "not_rated")
    assert absent.height
    found = subject_breakdown(con, month=MONTH, subject="staff", subject_id=absent["subject_id"][0])
    assert found is not None and found.status == "not_rated" and found.lines.is_empty()
    outlet = boards.outlets["subject_id"][0]
    other = next(o for o in boards.outlets["subject_id"] if o != outlet)
    assert (
        subject_breakdown(con, month=MONTH, subject="outlets", subject_id=outlet, outlets=other)
        is None
    )


def test_breakdown_of_a_published_month_uses_published_points(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        assessed = assess_month(con, MONTH, MODEL)
        changed = {k: v.clone() for k, v in assessed.items()}
        changed["outlets"] = changed["outlets"].with_columns(
            score=pl.col("score") - 2.0, points_accuracy=pl.col("points_accuracy") - 2.0
        )
        publish(con, MONTH, changed, MODEL, by="tester")
        code = changed["outlets"]["subject_id"][0]
        stored = changed["outlets"].filter(pl.col("subject_id") == code).row(0, named=True)
        found = subject_breakdown(con, month=MONTH, subject="outlets", subject_id=code)
    assert found is not None and found.source == "published v1" and found.values_recomputed
    accuracy = found.lines.filter(pl.col("indicator") == "accuracy").row(0, named=True)
    assert accuracy["points"] == pytest.approx(stored["points_accuracy"])
    assert found.score == pytest.approx(stored["score"])
    assert accuracy["value"] is not None  # raw values recomputed from the data


def test_star_history_follows_the_months_boards(con, boards) -> None:
    january = month_board(con, month="2026-01", subject="staff")
    board = boards.staff
    person = board.filter(pl.col("status") == "rated")["subject_id"][0]
    history = star_history(con, subject="staff", subject_id=person, months=("2026-01", MONTH))
    assert history["month"].to_list() == ["2026-01", MONTH]
    for row, expected in zip(history.iter_rows(named=True), (january, board), strict=True):
        mine = expected.filter(pl.col("subject_id") == person).row(0, named=True)
        assert (row["stars"], row["score"], row["rank"]) == (
            mine["stars"],
            mine["score"],
            mine["rank"],
        )
    posts = {
        r[0]
        for r in con.execute(
            "SELECT outlet_code FROM dim_staff WHERE staff_id = ?", [person]
        ).fetchall()
    }
    outside = sorted(set(board["outlet_code"]) - posts)[0]
    assert star_history(
        con, subject="staff", subject_id=person, months=(MONTH,), outlets=outside
    ).is_empty()
    assert star_history(con, subject="outlets", subject_id="03101", months=()).is_empty()


def test_awards_are_the_countys_then_scoped(con, boards) -> None:
    honoured = awards({"outlets": boards.outlets, "staff": boards.staff}, MODEL)
    assert honoured.height, "the small county has someone honoured in February"
    assert sorted(boards.awards["subject_id"]) == sorted(honoured["subject_id"])
    first = boards.awards.row(0, named=True)
    board = boards.of(first["subject"]).filter(pl.col("subject_id") == first["subject_id"])
    assert (first["name"], first["stars"]) == (board["name"][0], board["stars"][0])
    outlet = first["outlet_code"]
    scoped = month_boards(con, month=MONTH, outlets=(outlet,)).awards
    assert set(scoped["outlet_code"]) == {outlet}
    assert scoped.height == boards.awards.filter(pl.col("outlet_code") == outlet).height
    other = sorted(set(boards.outlets["subject_id"]) - set(boards.awards["outlet_code"]))[0]
    assert month_boards(con, month=MONTH, outlets=(other,)).awards.is_empty()


def test_penalties_in_view_match_sql(con) -> None:
    start, end = dt.date(2025, 12, 1), dt.date(2026, 3, 1)
    chengguan = _township_outlets(con, "城关")
    expected = con.execute(
        """SELECT complaint_id FROM fact_complaint
           WHERE substantiated AND staff_id IS NOT NULL AND received_at >= DATE '2025-12-01'
             AND received_at < DATE '2026-03-01' AND outlet_code IN (SELECT outlet_code
             FROM dim_outlet WHERE township = '城关') ORDER BY received_at, complaint_id"""
    ).fetchall()
    found = penalties(con, start=start, end=end, township="城关")
    assert found["complaint_id"].to_list() == [r[0] for r in expected]
    assert set(found["outlet_code"]) <= chengguan and found.height
    person = found["staff_id"][0]
    mine = penalties(con, start=start, end=end, staff_id=person)
    count = con.execute(
        """SELECT count(*), sum(coalesce(penalty_amount, 0)) FROM fact_complaint
           WHERE substantiated AND staff_id = ? AND received_at >= DATE '2025-12-01'
             AND received_at < DATE '2026-03-01'""",
        [person],
    ).fetchall()[0]
    assert mine.height == count[0]
    assert mine["penalty_amount"].sum() == pytest.approx(float(count[1]))
    assert mine["staff_name"].null_count() == 0


def test_payout_in_view_is_the_countys_rows(con) -> None:
    county, sources = payout(con, "2026Q1", MODEL)
    scoped, scoped_sources = quarter_payout(con, quarter="2026Q1", outlets=("03101", "03102"))
    assert scoped_sources[:2] == tuple(sources[:2])
    assert scoped_sources[2] == "2026-03: no data"  # the small county ends in February
    expected = county.filter(pl.col("outlet_code").is_in(["03101", "03102"]))
    assert 0 < scoped.height == expected.height < county.height
    assert scoped["net"].to_list() == expected["net"].to_list()  # money never depends on view


@pytest.mark.parametrize(
    ("start", "end", "last", "expected"),
    [
        (dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 2, 28), "2026-02"),
        (dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 2, 28), "2026-02"),
        (dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 2, 20), "2026-01"),
        (dt.date(2026, 1, 1), dt.date(2026, 2, 21), dt.date(2026, 2, 28), "2026-01"),
        (dt.date(2026, 2, 3), dt.date(2026, 2, 21), dt.date(2026, 2, 28), "2026-02"),
        (dt.date(2025, 12, 15), dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026-01"),
    ],
)
def test_assessment_month_is_the_last_complete_month(start, end, last, expected) -> None:
    assert assessment_month(start, end, last) == expected


def test_quarter_of() -> None:
    assert [quarter_of(m) for m in ("2026-01", "2026-03", "2026-04", "2025-12")] == [
        "2026Q1",
        "2026Q1",
        "2026Q2",
        "2025Q4",
    ]
