"""Console queries in worker processes: what no in-process limit could stop ends there.

Each test runs the real pool (``python -m warehouse.console_worker`` processes) on the
hand-sized warehouse. The dashboard's process must come out of every case unharmed: no
exception, its memory flat, the pool still answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.conftest import build_warehouse
from warehouse.console_pool import GRACE_S, ConsolePool


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        build_warehouse(con)
        con.execute("CHECKPOINT")
    return path


@pytest.fixture(scope="module")
def pool() -> Iterator[ConsolePool]:
    workers = ConsolePool(size=2, memory_mb=600)
    yield workers
    workers.close()


def test_an_ordinary_query_answers_from_a_worker(db: Path, pool: ConsolePool) -> None:
    result = pool.run(db, "SELECT count(*) AS n FROM fact_transaction", row_cap=10, time_limit_s=5)
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM fact_transaction").fetchall()[0][0]
    assert result.problem is None and result.frame.rows() == [(expected,)]


def test_single_row_work_past_the_memory_budget_ends_the_worker_not_the_dashboard(
    db: Path, pool: ConsolePool
) -> None:
    before, started = _rss_mb(), pool.started
    result = pool.run(db, "SELECT len(range(60000000))", row_cap=10, time_limit_s=20)
    assert result.problem in ("memory", "stopped")  # it never returns 60,000,000 rows' worth
    assert result.frame is None
    assert pool.peak_mb > 500  # the worker did grow, and was stopped
    assert _rss_mb() - before < 50  # the dashboard's memory did not
    deadline = time.monotonic() + 30
    while len(pool.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool.started == started + 1 and len(pool.pids()) == 2  # replaced


def test_a_huge_value_fails_inside_the_worker(db: Path, pool: ConsolePool) -> None:
    before = _rss_mb()
    result = pool.run(db, "SELECT repeat('x', 1000000000) AS x", row_cap=10, time_limit_s=10)
    assert result.problem in ("memory", "failed") and result.frame is None
    assert _rss_mb() - before < 50


def test_a_query_past_its_time_is_stopped_within_the_grace(db: Path, pool: ConsolePool) -> None:
    started = time.monotonic()
    result = pool.run(
        db, "SELECT sum(x) FROM range(10000000000) t(x)", row_cap=10, time_limit_s=1.0
    )
    took = time.monotonic() - started
    assert result.problem == "stopped" and result.detail == "1"
    assert took < 1.0 + GRACE_S + 1.0


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + "(" * 5000 + "1" + ")" * 5000,
        "SELECT " + "1+" * 50000 + "1",
        "SELECT " + "coalesce(" * 3000 + "1" + ")" * 3000,
    ],
    ids=["parentheses", "sum", "calls"],
)
def test_deeply_nested_expressions_come_back_as_a_message(
    db: Path, pool: ConsolePool, sql: str
) -> None:
    result = pool.run(db, sql, row_cap=10, time_limit_s=5)  # nothing may raise here
    assert result.frame is None
    assert result.problem in ("syntax", "nested", "failed", "memory")
    assert pool.run(db, "SELECT 1 AS ok", row_cap=10, time_limit_s=5).frame.rows() == [(1,)]


def test_one_stuck_query_leaves_the_other_worker_to_everybody_else(
    db: Path, pool: ConsolePool
) -> None:
    stuck = threading.Thread(
        target=pool.run,
        args=(db, "SELECT sum(x) FROM range(10000000000) t(x)"),
        kwargs={"row_cap": 10, "time_limit_s": 4.0},
    )
    stuck.start()
    time.sleep(0.3)
    answers = []
    for _ in range(5):
        started = time.monotonic()
        answers.append(pool.run(db, "SELECT 2 AS two", row_cap=10, time_limit_s=4.0))
        assert time.monotonic() - started < 2.0
    assert all(a.frame.rows() == [(2,)] for a in answers)
    stuck.join(15)


def test_many_queries_at_once_all_get_their_own_answer(db: Path, pool: ConsolePool) -> None:
    results: dict[int, object] = {}

    def ask(n: int) -> None:
        results[n] = pool.run(db, f"SELECT {n} AS n", row_cap=10, time_limit_s=20)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {n: r.frame.rows() for n, r in results.items()} == {n: [(n,)] for n in range(12)}


def test_with_every_worker_busy_a_query_is_told_so_after_its_time(db: Path) -> None:
    single = ConsolePool(size=1, memory_mb=600)
    try:
        blocker = threading.Thread(
            target=single.run,
            args=(db, "SELECT sum(x) FROM range(10000000000) t(x)"),
            kwargs={"row_cap": 10, "time_limit_s": 3.0},
        )
        blocker.start()
        time.sleep(0.3)
        busy = single.run(db, "SELECT 1", row_cap=10, time_limit_s=0.5)
        assert busy.problem == "busy" and busy.frame is None
        blocker.join(15)
    finally:
        single.close()


def test_pay_columns_stay_hidden_in_the_worker(db: Path, tmp_path: Path, pool: ConsolePool) -> None:
    fined = tmp_path / "fined.duckdb"
    fined.write_bytes(db.read_bytes())
    with duckdb.connect(str(fined)) as con:  # the hand-sized county fined nobody: fine two
        con.execute(
            "UPDATE fact_complaint SET penalty_amount = 50 WHERE complaint_id IN ('c0', 'c1')"
        )
    sql = "SELECT count(penalty_amount) AS n, sum(penalty_amount) AS total FROM fact_complaint"
    hidden = {"fact_complaint": ("penalty_amount",)}
    shown = pool.run(fined, sql, row_cap=10, time_limit_s=5)
    masked = pool.run(fined, sql, row_cap=10, time_limit_s=5, hidden=hidden)
    direct = pool.run(
        fined,
        "SELECT sum(penalty_amount) FROM warehouse.main.fact_complaint",
        row_cap=10,
        time_limit_s=5,
        hidden=hidden,
    )
    assert shown.frame.rows()[0][0] == 2 and float(shown.frame.rows()[0][1]) == 100.0
    assert masked.frame.rows()[0][0] == 0 and masked.frame.rows()[0][1] is None
    assert direct.problem == "hidden" and direct.frame is None
