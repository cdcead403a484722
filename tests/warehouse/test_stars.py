"""The star model and scoring, on tellers whose points are worked out by hand here."""

from __future__ import annotations

import copy

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.settings import load_config
from warehouse.stars.model import ModelError, load_model, parse_model
from warehouse.stars.scoring import breakdown, score_subjects

MODEL = load_model()
COLUMNS = {
    "subject_id": pl.String,
    "peer_group": pl.String,
    "hours": pl.Float64,
    "served_per_staff_hour": pl.Float64,
    "service_vs_standard": pl.Float64,
    "errors_per_1000": pl.Float64,
    "satisfaction_rate": pl.Float64,
    "business_types_handled": pl.Float64,
    "complaints_minor": pl.Int64,
    "complaints_major": pl.Int64,
    "complaints_critical": pl.Int64,
}
BEST = {
    "hours": 100.0,
    "service_vs_standard": 0.9,
    "errors_per_1000": 2.0,
    "satisfaction_rate": 0.98,
    "business_types_handled": 8.0,
    "complaints_minor": 0,
    "complaints_major": 0,
    "complaints_critical": 0,
}


def teller(subject_id: str, group: str, productivity: float, **over: object) -> dict:
    return {
        "subject_id": subject_id,
        "peer_group": group,
        "served_per_staff_hour": productivity,
        **BEST,
        **over,
    }


def frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=COLUMNS)


# The hand-worked month: every score below is worked out in the first test's comments.
HAND = {
    "T1": teller("T1", "teller", 12.0),
    "T2": teller(
        "T2",
        "teller",
        10.0,
        service_vs_standard=1.25,
        errors_per_1000=11.0,
        satisfaction_rate=0.84,
        business_types_handled=5.0,
        complaints_minor=1,
    ),
    "T3": teller("T3", "teller", 8.0, complaints_major=1),
    "T4": teller("T4", "lobby", 9.0, complaints_major=1),
    "T5": teller("T5", "teller", 30.0, hours=30.0),
    "T6": teller("T6", "new", 7.0, satisfaction_rate=None),
}


def hand(*ids: str) -> pl.DataFrame:
    return frame(*(HAND[i] for i in ids))


def by_id(rows: pl.DataFrame) -> dict:
    return {s.subject_id: s for s in score_subjects(rows, MODEL, "staff")}


def test_scores_stars_veto_and_not_rated_by_hand() -> None:
    scored = by_id(hand("T1", "T2", "T3", "T4", "T5", "T6"))
    # T1 is best of the three rated tellers (T5 has too few hours and is no peer): 100.
    assert scored["T1"].score == pytest.approx(100.0) and scored["T1"].stars == 5
    # T2: productivity middle of 3 -> 1/2 x 25 = 12.5; speed (1.25-1.6)/(0.9-1.6) = 0.5 -> 7.5;
    # accuracy (11-20)/(2-20) = 0.5 -> 7.5; satisfaction (0.84-0.7)/0.28 = 0.5 -> 10;
    # one minor complaint: 15 - 5 = 10; breadth (5-2)/6 = 0.5 -> 5. Total 52.5: one star.
    assert scored["T2"].points["productivity"] == pytest.approx(12.5)
    assert scored["T2"].score == pytest.approx(52.5) and scored["T2"].stars == 1
    # T3: worst productivity 0; a major complaint costs 10 of 15: 0+15+15+20+5+10 = 65 -> 2.
    assert scored["T3"].score == pytest.approx(65.0) and scored["T3"].stars == 2
    assert scored["T3"].capped_by is None  # the veto cap (2) does not bite at 2 stars
    # T4 is alone in its group (full 25): 25+15+15+20+5+10 = 90 -> 5, capped to 2.
    assert scored["T4"].score == pytest.approx(90.0)
    assert scored["T4"].stars == 2 and "major" in scored["T4"].capped_by
    assert scored["T5"].status == "not_rated" and scored["T5"].stars is None
    # T6 has no ratings: half of 20 -> 25+15+15+10+15+10 = 90.
    assert scored["T6"].score == pytest.approx(90.0)


def test_breakdown_says_what_lifts_the_next_star() -> None:
    scored = by_id(hand("T1", "T2", "T3"))
    lines, advice = breakdown(scored["T2"], MODEL, "staff")
    assert lines[0].indicator == "productivity"
    assert sum(line.points for line in lines) == pytest.approx(52.5)
    # 60 - 52.5 = 7.5 needed; productivity has 12.5 points of headroom.
    assert advice == "7.5 more points reach 2 stars, e.g. from productivity"
    assert breakdown(scored["T1"], MODEL, "staff")[1] == "top band reached"


def _broken(path: list[str], value: object) -> dict:
    data = copy.deepcopy(load_config("star_model"))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["subjects", "staff", "indicators", "speed", "weight"], 20, "weights add up to 105"),
        (["subjects", "staff", "indicators", "speed", "normalise"], "vibes", "speed.normalise"),
        (["subjects", "staff", "indicators", "speed", "zero_at"], "high", "speed.zero_at"),
        (
            ["subjects", "staff", "vetoes"],
            [{"severity": ["awful"], "max_stars": 2}],
            "vetoes[0].severity",
        ),
        (
            ["subjects", "staff", "vetoes"],
            [{"severity": ["major"], "max_stars": 9}],
            "vetoes[0].max_stars",
        ),
        (["bands"], [{"min_score": 50, "stars": 2}], "lowest band"),
        (["version"], "", "version"),
    ],
)
def test_an_invalid_model_names_the_key_and_the_problem(path, value, message) -> None:
    with pytest.raises(ModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_model(_broken(path, value))


values = st.floats(min_value=0, max_value=50, allow_nan=False)
shares = st.floats(min_value=0, max_value=1, allow_nan=False)
tellers = st.lists(
    st.fixed_dictionaries(
        {
            "productivity": values,
            "speed": st.floats(0.3, 3.0),
            "errors": values,
            "satisfaction": shares,
            "breadth": st.floats(0, 11),
            "minor": st.integers(0, 4),
            "major": st.integers(0, 2),
            "critical": st.integers(0, 1),
        }
    ),
    min_size=1,
    max_size=6,
)


def _frame(people: list[dict]) -> pl.DataFrame:
    return frame(
        *(
            teller(
                f"T{i}",
                "teller",
                p["productivity"],
                service_vs_standard=p["speed"],
                errors_per_1000=p["errors"],
                satisfaction_rate=p["satisfaction"],
                business_types_handled=p["breadth"],
                complaints_minor=p["minor"],
                complaints_major=p["major"],
                complaints_critical=p["critical"],
            )
            for i, p in enumerate(people)
        )
    )


@settings(max_examples=150, deadline=None)
@given(tellers)
def test_scores_stay_between_0_and_100(people: list[dict]) -> None:
    for scored in score_subjects(_frame(people), MODEL, "staff"):
        assert 0.0 <= scored.score <= 100.0
        assert 1 <= scored.stars <= 5


IMPROVE = {
    "productivity": lambda p: {**p, "productivity": p["productivity"] + 1},
    "speed": lambda p: {**p, "speed": p["speed"] - 0.1},
    "errors": lambda p: {**p, "errors": max(0.0, p["errors"] - 1)},
    "satisfaction": lambda p: {**p, "satisfaction": min(1.0, p["satisfaction"] + 0.05)},
    "breadth": lambda p: {**p, "breadth": p["breadth"] + 1},
    "complaints": lambda p: {**p, "minor": max(0, p["minor"] - 1)},
}


@settings(max_examples=150, deadline=None)
@given(tellers, st.sampled_from(sorted(IMPROVE)))
def test_improving_one_indicator_never_lowers_the_score(people: list[dict], which: str) -> None:
    before = score_subjects(_frame(people), MODEL, "staff")[0].score
    better = [IMPROVE[which](people[0]), *people[1:]]
    after = score_subjects(_frame(better), MODEL, "staff")[0].score
    assert after >= before - 1e-9


def test_ranks_by_hand_ties_share_the_better_rank() -> None:
    from warehouse.stars.assess import ranked

    rows = hand("T1", "T2", "T3", "T4", "T6")
    table = ranked(score_subjects(rows, MODEL, "staff"), rows, ["peer_group"])
    ranks = dict(zip(table["subject_id"], table["rank"], strict=True))
    # Scores: T1 100, T4 90, T6 90, T3 65, T2 52.5 (worked out in the test above).
    assert ranks == {"T1": 1, "T4": 2, "T6": 2, "T3": 4, "T2": 5}
    in_group = dict(zip(table["subject_id"], table["rank_in_peer_group"], strict=True))
    assert in_group == {"T1": 1, "T3": 2, "T2": 3, "T4": 1, "T6": 1}


def test_payout_split_by_hand() -> None:
    from warehouse.stars.payout import split_pool

    # Coefficients 1.6 + 1.0 + 0.6 = 3.2 share a pool of 3,200: 1,600 / 1,000 / 600;
    # the second person was fined 500.
    assert split_pool([1.6, 1.0, 0.6], [0.0, 500.0, 0.0], 3200.0) == [
        (1600.0, 1600.0),
        (1000.0, 500.0),
        (600.0, 600.0),
    ]
    # 100 yuan among three equal shares: 33.34 + 33.33 + 33.33, exactly 100.
    assert split_pool([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 100.0) == [
        (33.34, 33.34),
        (33.33, 33.33),
        (33.33, 33.33),
    ]
