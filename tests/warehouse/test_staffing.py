"""Tests for the Erlang C staffing model.

Reference values come from published Erlang B tables, closed forms for M/M/1 and M/M/2 found
in every queueing textbook, and an exact rational evaluation of the textbook factorial
formulas with ``fractions.Fraction``.  The exact evaluation is a different method from the
Erlang B recurrence used by the implementation, so agreement is a genuine cross-check.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction

import pytest

from warehouse.staffing import (
    erlang_b,
    erlang_c_servers,
    expected_wait_s,
    offered_load,
    prob_wait,
    service_level,
)

# --------------------------------------------------------------------------- exact references


def exact_erlang_b(servers: int, load: Fraction) -> Fraction:
    """Erlang B from the factorial definition: (A^N/N!) / sum_{k<=N} A^k/k!."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(servers: int, load: Fraction) -> Fraction:
    """Erlang C from the textbook factorial formula (requires servers > load)."""
    assert servers > load
    top = load**servers / math.factorial(servers) * Fraction(servers) / (servers - load)
    below = sum(load**k / math.factorial(k) for k in range(servers))
    return top / (below + top)


def arrivals_for_load(load: float, mean_service_s: float = 300.0) -> float:
    """Hourly arrival rate that produces ``load`` erlangs with the given service time."""
    return load * 3600.0 / mean_service_s


# --------------------------------------------------------------------------- offered load


def test_offered_load_is_lambda_times_mean_service() -> None:
    # 120 customers/h * 180 s = 21600 customer-seconds per 3600 s = 6 erlangs.
    assert offered_load(120, 180) == pytest.approx(6.0)
    assert offered_load(30, 60) == pytest.approx(0.5)
    assert offered_load(0, 60) == 0.0


@pytest.mark.parametrize(
    ("arrivals", "service", "name"),
    [(-1, 60, "arrivals_per_hour"), (10, 0, "mean_service_s"), (10, -5, "mean_service_s")],
)
def test_offered_load_rejects_bad_inputs(arrivals: float, service: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        offered_load(arrivals, service)


# --------------------------------------------------------------------------- Erlang B


def test_erlang_b_textbook_table_values() -> None:
    # Standard Erlang B table entries: B(5, 3) = 0.1101 and B(10, 5) = 0.0184.
    assert erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)
    assert erlang_b(10, 5.0) == pytest.approx(0.0184, abs=5e-5)


@pytest.mark.parametrize(
    ("servers", "table_load", "grade_of_service"),
    [
        # Published Erlang B capacity tables: erlangs carried at a given blocking.
        (5, 1.3608, 0.01),
        (5, 1.6571, 0.02),
        (10, 4.4612, 0.01),
        (10, 5.0842, 0.02),
        (10, 6.2157, 0.05),
    ],
)
def test_erlang_b_reproduces_published_capacity_table(
    servers: int, table_load: float, grade_of_service: float
) -> None:
    # The table loads are rounded to 4 decimals, hence a 0.1 % relative tolerance.
    assert erlang_b(servers, table_load) == pytest.approx(grade_of_service, rel=1e-3)


@pytest.mark.parametrize(("servers", "load"), [(5, "3"), (10, "5"), (1, "0.5"), (30, "25.5")])
def test_erlang_b_matches_exact_factorial_formula(servers: int, load: str) -> None:
    expected = float(exact_erlang_b(servers, Fraction(load)))
    assert erlang_b(servers, float(load)) == pytest.approx(expected, rel=1e-12)


def test_erlang_b_edge_cases() -> None:
    assert erlang_b(0, 4.0) == 1.0  # no servers: every arrival is blocked
    assert erlang_b(3, 0.0) == 0.0  # no traffic: nothing is blocked
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # A / (1 + A)


@pytest.mark.parametrize(
    ("servers", "load", "name"),
    [(-1, 1.0, "servers"), (3, -0.5, "load"), (3, math.nan, "load"), (3, math.inf, "load")],
)
def test_erlang_b_rejects_bad_values(servers: int, load: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        erlang_b(servers, load)


@pytest.mark.parametrize("servers", [2.5, True, "3"])
def test_erlang_b_rejects_non_integer_servers(servers: object) -> None:
    with pytest.raises(TypeError, match="servers"):
        erlang_b(servers, 1.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Erlang C


def test_prob_wait_two_erlangs_three_servers_is_four_ninths() -> None:
    # Classic textbook value: C(3, 2) = 4/9.
    assert prob_wait(3, arrivals_for_load(2.0), 300) == pytest.approx(4 / 9, rel=1e-12)


def test_prob_wait_ten_erlangs_eleven_servers() -> None:
    # Table value C(11, 10) = 0.6821.
    result = prob_wait(11, arrivals_for_load(10.0), 300)
    assert result == pytest.approx(0.6821, abs=5e-5)
    assert result == pytest.approx(float(exact_erlang_c(11, Fraction(10))), rel=1e-12)


def test_mm1_closed_forms() -> None:
    # M/M/1: P(wait) = rho and Wq = rho / (mu - lambda).
    arrivals = 45.0  # per hour
    service = 60.0  # seconds -> mu = 60 per hour, rho = 0.75
    rho = 0.75
    assert prob_wait(1, arrivals, service) == pytest.approx(rho, rel=1e-12)
    wq_hours = rho / (60.0 - arrivals)
    assert expected_wait_s(1, arrivals, service) == pytest.approx(wq_hours * 3600, rel=1e-12)
    assert expected_wait_s(1, arrivals, service) == pytest.approx(180.0, rel=1e-12)
    # P(W <= t) = 1 - rho * exp(-(mu - lambda) t); (mu - lambda) = 15/h = 1/240 per second.
    assert service_level(1, arrivals, service, 120) == pytest.approx(
        1 - rho * math.exp(-0.5), rel=1e-12
    )


def test_mm2_closed_forms() -> None:
    # M/M/2 with utilisation rho = A/2: C = 2 rho^2 / (1 + rho), Wq = rho^2 / (mu (1 - rho^2)).
    service = 120.0  # mu = 30 per hour
    arrivals = 30.0  # A = 1 erlang, rho = 0.5
    rho = 0.5
    assert prob_wait(2, arrivals, service) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)
    assert prob_wait(2, arrivals, service) == pytest.approx(1 / 3, rel=1e-12)
    wq_hours = rho**2 / (30.0 * (1 - rho**2))
    assert expected_wait_s(2, arrivals, service) == pytest.approx(wq_hours * 3600, rel=1e-12)
    assert expected_wait_s(2, arrivals, service) == pytest.approx(40.0, rel=1e-12)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(2, "1.5"), (7, "6"), (12, "9.75"), (55, "48"), (80, "72.5")],
)
def test_prob_wait_matches_exact_factorial_formula(servers: int, load: str) -> None:
    exact = float(exact_erlang_c(servers, Fraction(load)))
    assert prob_wait(servers, arrivals_for_load(float(load)), 300) == pytest.approx(
        exact, rel=1e-10
    )


def test_prob_wait_stable_at_large_scale() -> None:
    arrivals = arrivals_for_load(190.0)
    at_200 = prob_wait(200, arrivals, 300)
    assert math.isfinite(at_200)
    assert 0.0 < at_200 < 1.0
    assert at_200 == pytest.approx(float(exact_erlang_c(200, Fraction(190))), rel=1e-9)

    at_250 = prob_wait(250, arrivals, 300)
    assert 0.0 < at_250 < 1e-3
    assert at_250 == pytest.approx(float(exact_erlang_c(250, Fraction(190))), rel=1e-9)

    # Well past the point where 200! or 190**200 would overflow a float.
    assert math.isfinite(prob_wait(600, arrivals_for_load(580.0), 300))


def test_prob_wait_decreases_as_servers_increase() -> None:
    arrivals = arrivals_for_load(20.0)
    values = [prob_wait(n, arrivals, 300) for n in range(21, 45)]
    assert all(b < a for a, b in itertools.pairwise(values))
    waits = [expected_wait_s(n, arrivals, 300) for n in range(21, 45)]
    assert all(b < a for a, b in itertools.pairwise(waits))
    levels = [service_level(n, arrivals, 300, 20) for n in range(21, 45)]
    assert all(b > a for a, b in itertools.pairwise(levels))


def test_unstable_and_empty_systems() -> None:
    # Exactly at capacity (N == A) and above it the queue grows without bound.
    assert prob_wait(6, 120, 180) == 1.0
    assert prob_wait(5, 120, 180) == 1.0
    assert prob_wait(0, 120, 180) == 1.0
    assert expected_wait_s(6, 120, 180) == math.inf
    assert service_level(6, 120, 180, 20) == 0.0
    # With no arrivals nobody ever waits.
    assert prob_wait(3, 0, 180) == 0.0
    assert expected_wait_s(3, 0, 180) == 0.0
    assert service_level(3, 0, 180, 20) == 1.0


def test_service_level_formula_against_exact_c() -> None:
    # A = 6 erlangs (120/h, 180 s), 9 windows, 20 s target.
    exact_c = float(exact_erlang_c(9, Fraction(6)))
    expected = 1 - exact_c * math.exp(-(9 - 6) * 20 / 180)
    assert service_level(9, 120, 180, 20) == pytest.approx(expected, rel=1e-12)
    # A zero-second target is the probability of not waiting at all.
    assert service_level(9, 120, 180, 0) == pytest.approx(1 - exact_c, rel=1e-12)


def test_expected_wait_against_exact_c() -> None:
    exact_c = float(exact_erlang_c(9, Fraction(6)))
    assert expected_wait_s(9, 120, 180) == pytest.approx(exact_c * 180 / 3, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: prob_wait(3, -1, 60), "arrivals_per_hour"),
        (lambda: prob_wait(3, 10, 0), "mean_service_s"),
        (lambda: prob_wait(-1, 10, 60), "servers"),
        (lambda: expected_wait_s(3, -1, 60), "arrivals_per_hour"),
        (lambda: expected_wait_s(3, 10, -60), "mean_service_s"),
        (lambda: service_level(3, -1, 60, 20), "arrivals_per_hour"),
        (lambda: service_level(3, 10, 0, 20), "mean_service_s"),
        (lambda: service_level(3, 10, 60, -1), "target_wait_s"),
    ],
)
def test_queue_metrics_reject_bad_inputs(call: Callable[[], float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------- staffing search


def exact_min_servers(load: Fraction, predicate: Callable[[int, Fraction], bool]) -> int:
    """Independent linear search using the exact factorial Erlang C."""
    n = math.floor(load) + 1
    while not predicate(n, exact_erlang_c(n, load)):
        n += 1
    return n


def test_erlang_c_servers_zero_arrivals() -> None:
    assert erlang_c_servers(0, 180, target_wait_s=20, service_level=0.8) == 0
    assert erlang_c_servers(0, 180, max_wait_probability=0.1) == 0


def test_erlang_c_servers_service_level_target() -> None:
    # 120 customers/h, 180 s each (A = 6 erlangs); 80 % must wait at most 20 s.
    load = Fraction(6)

    def meets(n: int, c: Fraction) -> bool:
        return 1 - float(c) * math.exp(-(n - 6) * 20 / 180) >= 0.8

    expected = exact_min_servers(load, meets)
    assert expected == 9  # C(8, 6) = 0.357 gives 71.4 %, C(9, 6) = 0.196 gives 86.0 %
    result = erlang_c_servers(120, 180, target_wait_s=20, service_level=0.8)
    assert result == expected
    assert service_level(result, 120, 180, 20) >= 0.8
    assert service_level(result - 1, 120, 180, 20) < 0.8


@pytest.mark.parametrize(("max_prob", "expected"), [(0.2, 9), (0.05, 11), (0.5, 8)])
def test_erlang_c_servers_wait_probability_target(max_prob: float, expected: int) -> None:
    load = Fraction(6)
    independent = exact_min_servers(load, lambda n, c: c <= Fraction(max_prob))
    assert independent == expected
    result = erlang_c_servers(120, 180, max_wait_probability=max_prob)
    assert result == expected
    assert prob_wait(result, 120, 180) <= max_prob
    assert prob_wait(result - 1, 120, 180) > max_prob


def test_erlang_c_servers_never_returns_an_unstable_count() -> None:
    # Even a lax target must leave N > A (search starts at floor(A) + 1).
    assert erlang_c_servers(120, 180, max_wait_probability=1.0) == 7
    assert erlang_c_servers(130, 180, target_wait_s=600, service_level=0.01) == 7  # A = 6.5


def test_erlang_c_servers_large_outlet() -> None:
    # A = 190 erlangs; the exact search and the float search must agree.
    load = Fraction(190)
    expected = exact_min_servers(load, lambda n, c: c <= Fraction(1, 10))
    assert erlang_c_servers(arrivals_for_load(190.0), 300, max_wait_probability=0.1) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "target"),
        ({"target_wait_s": 20}, "together"),
        ({"service_level": 0.8}, "together"),
        (
            {"target_wait_s": 20, "service_level": 0.8, "max_wait_probability": 0.1},
            "not both",
        ),
        ({"max_wait_probability": 0.1, "service_level": 0.8}, "not both"),
        ({"target_wait_s": 20, "service_level": 0.0}, "service_level"),
        ({"target_wait_s": 20, "service_level": 1.5}, "service_level"),
        ({"target_wait_s": -1, "service_level": 0.8}, "target_wait_s"),
        ({"max_wait_probability": 0.0}, "max_wait_probability"),
        ({"max_wait_probability": 1.2}, "max_wait_probability"),
        ({"max_wait_probability": 0.1, "max_servers": 0}, "max_servers"),
    ],
)
def test_erlang_c_servers_rejects_invalid_targets(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        erlang_c_servers(120, 180, **kwargs)


def test_erlang_c_servers_rejects_bad_rates() -> None:
    with pytest.raises(ValueError, match="arrivals_per_hour"):
        erlang_c_servers(-5, 180, max_wait_probability=0.1)
    with pytest.raises(ValueError, match="mean_service_s"):
        erlang_c_servers(120, 0, max_wait_probability=0.1)


def test_erlang_c_servers_reports_unreachable_target() -> None:
    # A = 6 erlangs cannot be served by at most 6 windows.
    with pytest.raises(ValueError, match="max_servers"):
        erlang_c_servers(120, 180, max_wait_probability=0.1, max_servers=6)
    # 7..8 windows exist but none gets P(wait) below 1 %.
    with pytest.raises(ValueError, match="max_servers"):
        erlang_c_servers(120, 180, max_wait_probability=0.01, max_servers=8)
