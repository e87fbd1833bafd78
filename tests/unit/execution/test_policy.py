"""Retry policy: exponential backoff with half jitter, capped, deterministic for a seeded rng."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.execution.policy import RetryPolicy

# Hypothesis caches into ./.hypothesis even with database=None; keep the checkout clean (as
# tests/unit/domain/test_risk_properties.py does) unless the caller chose a location.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")


class FixedRandom(random.Random):
    """A random source that always returns the same draw."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@settings(max_examples=300, deadline=None, database=None)
@given(
    base=st.floats(0.001, 10.0),
    max_delay=st.floats(0.001, 120.0),
    attempt=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_delay_lies_between_half_the_ceiling_and_the_ceiling(
    base: float, max_delay: float, attempt: int, seed: int
) -> None:
    # Arrange
    policy = RetryPolicy(base_delay=base, max_delay=max_delay)
    ceiling = min(max_delay, base * 2 ** (attempt - 1))

    # Act
    delay = policy.delay(attempt, random.Random(seed))

    # Assert
    assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0)])
def test_ceiling_doubles_with_each_attempt_from_the_base(attempt: int, ceiling: float) -> None:
    # Arrange
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)

    # Act
    lowest = policy.delay(attempt, FixedRandom(0.0))
    highest = policy.delay(attempt, FixedRandom(0.999999999))

    # Assert
    assert lowest == pytest.approx(ceiling / 2)
    assert highest == pytest.approx(ceiling, rel=1e-6)


@pytest.mark.parametrize("attempt", [6, 7, 10, 30])
def test_ceiling_is_capped_at_max_delay(attempt: int) -> None:
    # Arrange: 1 s doubling reaches 32 s at attempt 6, above the 30 s cap
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)

    # Act
    lowest = policy.delay(attempt, FixedRandom(0.0))
    highest = policy.delay(attempt, FixedRandom(0.999999999))

    # Assert
    assert lowest == pytest.approx(15.0)
    assert highest == pytest.approx(30.0, rel=1e-6)


def test_delays_are_reproducible_for_the_same_seed() -> None:
    # Arrange
    policy = RetryPolicy(base_delay=0.5, max_delay=10.0)

    # Act
    first = [policy.delay(attempt, rng) for rng in [random.Random(1234)] for attempt in range(1, 9)]
    second = [policy.delay(attempt, rng) for rng in [random.Random(1234)] for attempt in range(1, 9)]
    other = [policy.delay(attempt, rng) for rng in [random.Random(4321)] for attempt in range(1, 9)]

    # Assert
    assert first == second
    assert first != other


def test_jitter_spreads_delays_of_many_orders_apart() -> None:
    # Arrange
    policy = RetryPolicy(base_delay=1.0)
    rng = random.Random(99)

    # Act
    delays = {policy.delay(1, rng) for _ in range(100)}

    # Assert
    assert len(delays) == 100


def test_default_policy_is_three_attempts_one_second_base_thirty_second_cap() -> None:
    assert RetryPolicy() == RetryPolicy(attempts=3, base_delay=1.0, max_delay=30.0, attempt_timeout=5.0)


def test_a_very_late_attempt_is_still_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)

    delay = policy.delay(1_100, FixedRandom(0.0))

    assert delay == pytest.approx(15.0)
