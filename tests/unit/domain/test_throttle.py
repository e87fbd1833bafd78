"""The token bucket behind the message throttles: bursts, refill, the wait it reports."""

from __future__ import annotations

import pytest

from itirp.domain.throttle import TokenBucket


def test_a_full_bucket_allows_a_burst_of_its_rate_then_refuses() -> None:
    bucket = TokenBucket(100.0)
    assert [bucket.take(0.0) for _ in range(100)] == [0.0] * 100
    assert bucket.take(0.0) == pytest.approx(0.01)


def test_a_refusal_takes_nothing_and_names_the_wait_until_a_token_is_free() -> None:
    bucket = TokenBucket(2.0, burst=1)
    assert bucket.take(10.0) == 0.0
    assert bucket.take(10.0) == pytest.approx(0.5)
    assert bucket.take(10.25) == pytest.approx(0.25)  # the refused attempt took nothing
    assert bucket.take(10.5) == 0.0


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    bucket = TokenBucket(10.0, burst=5, now=0.0)
    for _ in range(5):
        bucket.take(0.0)
    assert not bucket.full(0.0)
    assert bucket.wait(0.3) == 0.0  # three tokens back
    assert [bucket.take(0.3) for _ in range(3)] == [0.0] * 3
    assert bucket.take(0.3) > 0
    assert bucket.full(100.0)
    assert [bucket.take(100.0) for _ in range(6)][-1] > 0  # never more than the burst


def test_time_going_backwards_gives_nothing_back() -> None:
    bucket = TokenBucket(1.0)
    assert bucket.take(5.0) == 0.0
    assert bucket.take(4.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, None), (-1.0, None), (5.0, 0.5)])
def test_a_bucket_needs_a_positive_rate_and_a_burst_of_at_least_one(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate, burst)
