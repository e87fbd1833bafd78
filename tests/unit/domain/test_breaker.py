"""The circuit breaker: pure decisions (`admit`, `on_failure`, `on_success`) that return the
transition to record, and a fold (`apply_*`) that changes state only when the caller applies it.

The helpers below drive it the way `TradingCore` does: decide, then apply what was decided
(begin_attempt -> admit + apply_transition; attempt_failed -> on_failure + apply_failure +
apply_transition; completed -> on_success + apply_success + apply_transition).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.domain.breaker import BreakerState, CircuitBreaker, Transition

# Hypothesis caches into ./.hypothesis even with database=None; keep the checkout clean (as
# tests/unit/domain/test_risk_properties.py does) unless the caller chose a location.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

SECOND = 1_000_000
OPEN_SECONDS = 10.0


def make_breaker(threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(threshold=threshold, open_seconds=OPEN_SECONDS)


# -- the core's protocol: decide, then apply ------------------------------------------------------


def begin(breaker: CircuitBreaker, now_us: int) -> bool:
    allowed, transition = breaker.admit(now_us)
    if allowed and transition is not None:
        breaker.apply_transition(transition)
    return allowed


def fail(breaker: CircuitBreaker, now_us: int) -> Transition | None:
    transition = breaker.on_failure(now_us)
    breaker.apply_failure()  # EXECUTION_RETRIED / EXECUTION_FAILED come first in the events
    if transition is not None:
        breaker.apply_transition(transition)
    return transition


def succeed(breaker: CircuitBreaker) -> Transition | None:
    transition = breaker.on_success()
    breaker.apply_success()  # EXECUTION_COMPLETED comes first
    if transition is not None:
        breaker.apply_transition(transition)
    return transition


def opened(threshold: int = 3, at_us: int = 0) -> CircuitBreaker:
    breaker = make_breaker(threshold)
    for _ in range(threshold):
        assert begin(breaker, at_us)
        fail(breaker, at_us)
    assert breaker.state is BreakerState.OPEN
    return breaker


# -- closed ---------------------------------------------------------------------------------------


def test_new_breaker_is_closed_and_admits_without_a_transition() -> None:
    breaker = make_breaker()

    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit(0) == (True, None)


def test_failures_below_the_threshold_return_no_transition() -> None:
    # Arrange
    breaker = make_breaker(threshold=3)

    # Act
    transitions = [fail(breaker, 0), fail(breaker, 0)]

    # Assert
    assert transitions == [None, None]
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 2


def test_failure_reaching_the_threshold_returns_the_open_transition_with_its_deadline() -> None:
    # Arrange
    breaker = make_breaker(threshold=3)
    fail(breaker, 0)
    fail(breaker, 0)

    # Act
    transition = breaker.on_failure(5 * SECOND)

    # Assert
    assert transition == Transition(BreakerState.OPEN, 3, 5 * SECOND + int(OPEN_SECONDS * SECOND))


def test_on_failure_only_decides_the_state_changes_when_the_caller_applies_it() -> None:
    # Arrange
    breaker = make_breaker(threshold=1)

    # Act
    transition = breaker.on_failure(0)

    # Assert: decided but not applied
    assert transition is not None
    assert transition.to is BreakerState.OPEN
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    assert breaker.admit(0) == (True, None)

    # Act: apply
    breaker.apply_failure()
    breaker.apply_transition(transition)

    # Assert
    assert breaker.state is BreakerState.OPEN
    assert breaker.consecutive_failures == 1
    assert breaker.open_until_us == int(OPEN_SECONDS * SECOND)


def test_a_success_resets_the_consecutive_failure_count_so_failures_must_be_consecutive() -> None:
    # Arrange
    breaker = make_breaker(threshold=3)
    fail(breaker, 0)
    fail(breaker, 0)

    # Act
    no_transition = succeed(breaker)
    after = [fail(breaker, 0), fail(breaker, 0)]

    # Assert
    assert no_transition is None
    assert after == [None, None]
    assert breaker.state is BreakerState.CLOSED


def test_on_success_while_closed_returns_no_transition() -> None:
    assert make_breaker().on_success() is None


# -- open -----------------------------------------------------------------------------------------


def test_open_breaker_refuses_calls_until_the_open_period_ends() -> None:
    # Arrange
    breaker = opened(at_us=0)
    until = breaker.open_until_us

    # Act / Assert
    assert breaker.admit(0) == (False, None)
    assert breaker.admit(until - 1) == (False, None)


def test_open_breaker_admits_a_probe_with_a_half_open_transition_once_the_period_is_over() -> None:
    # Arrange
    breaker = opened(at_us=0)

    # Act
    allowed, transition = breaker.admit(breaker.open_until_us)

    # Assert: decided, not yet applied
    assert allowed is True
    assert transition == Transition(BreakerState.HALF_OPEN, 3)
    assert breaker.state is BreakerState.OPEN
    assert breaker.probe_in_flight is False


def test_half_open_breaker_lets_only_one_probe_out_at_a_time() -> None:
    # Arrange
    breaker = opened(at_us=0)
    later = breaker.open_until_us + SECOND

    # Act
    first = begin(breaker, later)
    second = breaker.admit(later)
    third = breaker.admit(later + 60 * SECOND)

    # Assert
    assert first is True
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.probe_in_flight is True
    assert second == (False, None)
    assert third == (False, None)


def test_probe_success_closes_the_breaker_and_clears_the_failures() -> None:
    # Arrange
    breaker = opened(at_us=0)
    begin(breaker, breaker.open_until_us)

    # Act
    transition = succeed(breaker)

    # Assert
    assert transition == Transition(BreakerState.CLOSED, 0)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    assert breaker.open_until_us == 0
    assert breaker.probe_in_flight is False
    assert breaker.admit(breaker.open_until_us) == (True, None)


def test_probe_failure_opens_the_breaker_again_with_a_new_deadline() -> None:
    # Arrange
    breaker = opened(at_us=0)
    probe_at = breaker.open_until_us + 3 * SECOND
    begin(breaker, probe_at)

    # Act
    transition = fail(breaker, probe_at)

    # Assert
    assert transition == Transition(BreakerState.OPEN, 4, probe_at + int(OPEN_SECONDS * SECOND))
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until_us == probe_at + int(OPEN_SECONDS * SECOND)
    assert breaker.probe_in_flight is False
    assert breaker.admit(probe_at + SECOND) == (False, None)
    allowed, again = breaker.admit(breaker.open_until_us)
    assert allowed
    assert again is not None
    assert again.to is BreakerState.HALF_OPEN


def test_a_single_failure_while_half_open_reopens_even_far_below_the_threshold() -> None:
    # Arrange
    breaker = opened(threshold=5, at_us=0)
    begin(breaker, breaker.open_until_us)

    # Act
    transition = breaker.on_failure(breaker.open_until_us)

    # Assert
    assert transition is not None
    assert transition.to is BreakerState.OPEN


def test_failures_reported_while_already_open_do_not_extend_the_open_period() -> None:
    # Arrange: a call admitted before the breaker opened fails late
    breaker = opened(at_us=0)
    until = breaker.open_until_us

    # Act
    transition = fail(breaker, SECOND)

    # Assert
    assert transition is None
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until_us == until
    assert breaker.consecutive_failures == 4


def test_the_same_transitions_applied_to_a_fresh_breaker_rebuild_the_same_state() -> None:
    # Arrange: record what the live breaker decided, in order, like events
    live = make_breaker(threshold=2)
    log: list[object] = []

    def record_fail(now: int) -> None:
        t = live.on_failure(now)
        live.apply_failure()
        log.append("failure")
        if t is not None:
            live.apply_transition(t)
            log.append(t)

    record_fail(0)
    record_fail(0)
    _, half = live.admit(live.open_until_us)
    assert half is not None
    live.apply_transition(half)
    log.append(half)
    record_fail(live.open_until_us)

    # Act: fold the log into a fresh breaker
    fresh = make_breaker(threshold=2)
    for entry in log:
        if entry == "failure":
            fresh.apply_failure()
        else:
            fresh.apply_transition(entry)  # type: ignore[arg-type]

    # Assert
    assert (fresh.state, fresh.consecutive_failures, fresh.open_until_us, fresh.probe_in_flight) == (
        live.state,
        live.consecutive_failures,
        live.open_until_us,
        live.probe_in_flight,
    )


# -- against a reference model --------------------------------------------------------------------

steps = st.lists(
    st.tuples(st.sampled_from(["ok", "fail"]), st.integers(0, 15 * SECOND)),
    max_size=60,
)


@settings(max_examples=200, deadline=None, database=None)
@given(threshold=st.integers(1, 4), script=steps)
def test_breaker_driven_one_call_at_a_time_matches_a_reference_model(
    threshold: int, script: list[tuple[str, int]]
) -> None:
    # Arrange
    breaker = make_breaker(threshold)
    open_us = int(OPEN_SECONDS * SECOND)
    model_state, model_failures, model_until = "closed", 0, 0
    now = 0

    for outcome, advance in script:
        now += advance
        # the reference: is a call allowed now?
        expected_allowed = model_state == "closed" or now >= model_until

        # Act
        allowed = begin(breaker, now)

        # Assert
        assert allowed is expected_allowed
        if not allowed:
            assert breaker.state is BreakerState.OPEN
            continue
        probing = model_state == "open"
        if outcome == "ok":
            succeed(breaker)
            model_state, model_failures, model_until = "closed", 0, 0
        else:
            fail(breaker, now)
            model_failures += 1
            if probing or model_failures >= threshold:
                model_state, model_until = "open", now + open_us
        expected = BreakerState.CLOSED if model_state == "closed" else BreakerState.OPEN
        assert breaker.state is expected
        assert breaker.consecutive_failures == model_failures
        assert breaker.probe_in_flight is False
        if model_state == "open":
            assert breaker.open_until_us == model_until
