"""The two real exports in shared/datasets load through their shipped profiles.

Figures are recomputed here independently, with Python's csv module over the raw files,
and compared with what the warehouse holds; the call centre's Wednesday hourly profile is
also compared with the figures published for this data set (shared/datasets/SOURCES.md).
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from etl.pipeline import LoadOptions, load_paths
from warehouse.settings import PROJECT_ROOT

DATASETS = Path(os.environ.get("RCCDASH_SHARED", PROJECT_ROOT.parent / "shared")) / "datasets"
BANK = DATASETS / "anonymous_bank_february_1999.txt"
CFPB = DATASETS / "cfpb_complaints_sample.csv"
PUBLISHED_WEDNESDAY = [
    6.75,
    1.75,
    1.25,
    0,
    0.5,
    0.25,
    4.75,
    39.5,
    97.25,
    107.5,
    124,
    110.25,
    95.5,
    203.5,
    115.75,
    115.5,
    67.75,
    75,
    88.75,
    85.5,
    68,
    61.5,
    57.5,
    44.25,
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    assert BANK.exists() and CFPB.exists(), f"shared datasets missing under {DATASETS}"
    folder = tmp_path_factory.mktemp("real")
    outlets = folder / "outlets.csv"
    outlets.write_text(
        "outlet_code,outlet_name,outlet_type\nCALLCTR,Call centre,county_department\n"
        "CFPB,CFPB referrals,county_department\n",
        encoding="utf-8",
    )
    db = folder / "w.duckdb"
    opts = LoadOptions(report=False)
    load_paths(db, [outlets], opts)
    [bank] = load_paths(db, [BANK], LoadOptions(profile="anonymous_bank", report=False))
    [cfpb] = load_paths(db, [CFPB], LoadOptions(profile="cfpb_complaints", report=False))
    return db, {"bank": bank, "cfpb": cfpb}


def _bank_rows() -> list[dict[str, str]]:
    with BANK.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_call_centre_conserves_rows_and_drops_by_rule(loaded) -> None:
    _, out = loaded
    bank = out["bank"]
    rows = _bank_rows()
    phantom = sum(r["outcome"] == "PHANTOM" for r in rows)
    negative = sum(r["outcome"] != "PHANTOM" and int(r["vru_time"]) < 0 for r in rows)
    assert bank.read == len(rows) == 33_344
    assert bank.read == bank.loaded + bank.duplicate + bank.quarantined + bank.dropped
    assert bank.rule_counts == {"phantom_call": phantom, "negative_vru_time": negative}
    assert bank.loaded == len(rows) - phantom - negative == 33_043


def test_call_centre_figures_match_an_independent_count(loaded) -> None:
    db, _ = loaded
    kept = [r for r in _bank_rows() if r["outcome"] != "PHANTOM" and int(r["vru_time"]) >= 0]
    per_day = collections.Counter(dt.datetime.strptime(r["date"], "%y%m%d").date() for r in kept)
    abandoned = sum(r["outcome"] == "HANG" for r in kept) / len(kept)
    with duckdb.connect(str(db), read_only=True) as con:
        got_days = dict(
            con.execute(
                "SELECT business_date, count(*) FROM fact_transaction"
                " WHERE outlet_code = 'CALLCTR' GROUP BY 1"
            ).fetchall()
        )
        got_abandoned = con.execute(
            "SELECT avg((status = 'abandoned')::INT) FROM fact_transaction"
            " WHERE outlet_code = 'CALLCTR'"
        ).fetchone()[0]
        wednesday = dict(
            con.execute(
                "SELECT hour(arrival_at), count(*) / 4 FROM fact_transaction"
                " WHERE outlet_code = 'CALLCTR' AND dayofweek(business_date) = 3 GROUP BY 1"
            ).fetchall()
        )
    assert got_days == dict(per_day)
    assert got_abandoned == pytest.approx(abandoned, abs=1e-12)
    assert [wednesday.get(h, 0) for h in range(24)] == PUBLISHED_WEDNESDAY


def test_cfpb_complaints_load_with_figures_matching_an_independent_count(loaded) -> None:
    db, out = loaded
    cfpb = out["cfpb"]
    with CFPB.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert cfpb.read == cfpb.loaded == len(rows) == 6_623
    per_year = collections.Counter(r["Date received"][:4] for r in rows)
    relief = sum(
        r["Company response to consumer"]
        in ("Closed with monetary relief", "Closed with non-monetary relief")
        for r in rows
    )
    decided = sum(
        r["Company response to consumer"] not in ("In progress", "Untimely response") for r in rows
    )
    by_channel = collections.Counter(r["Submitted via"] for r in rows)
    narratives = {
        r["Complaint ID"]: r["Consumer complaint narrative"]
        for r in rows
        if "\n" in r["Consumer complaint narrative"]
    }
    with duckdb.connect(str(db), read_only=True) as con:
        got_years = dict(
            con.execute(
                "SELECT year(received_at)::VARCHAR, count(*) FROM fact_complaint GROUP BY 1"
            ).fetchall()
        )
        share = con.execute("SELECT avg(substantiated::INT) FROM fact_complaint").fetchone()[0]
        hotline = con.execute(
            "SELECT count(*) FROM fact_complaint WHERE channel = 'hotline'"
        ).fetchone()[0]
        some_id, text = next(iter(narratives.items()))
        stored = con.execute(
            "SELECT description FROM fact_complaint WHERE complaint_id = ?", [some_id]
        ).fetchone()[0]
    assert got_years == dict(per_year)
    assert share == pytest.approx(relief / decided)
    assert hotline == by_channel["Phone"]
    assert stored == text  # embedded newlines and quotes survive
