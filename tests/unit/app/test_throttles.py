"""The message throttles of the application (`itirp.app.throttles`): per trader and per session,
per kind of message, the defaults of `config.throttle`, and the error a refusal raises."""

from __future__ import annotations

import pytest

from itirp.app.throttles import Throttles
from itirp.config import Config, ConfigError, ThrottleConfig
from itirp.errors import Reason, ResourceExhausted


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_defaults_are_100_per_second_of_each_kind() -> None:
    throttle = Config().throttle
    assert (throttle.new_per_second, throttle.amend_per_second, throttle.cancel_per_second) == (100, 100, 100)
    clock = Clock()
    throttles = Throttles(throttle, clock=clock)
    for _ in range(100):
        throttles.check("new", "trader1")
    with pytest.raises(ResourceExhausted) as refused:
        throttles.check("new", "trader1")
    error = refused.value
    assert error.reason is Reason.THROTTLED
    assert error.metadata == {"message": "new", "scope": "TRADER:trader1", "rate_per_second": "100"}
    assert error.retry_after_seconds == pytest.approx(0.01)
    throttles.check("cancel", "trader1")  # another kind: its own bucket
    throttles.check("new", "trader2")  # another trader: theirs
    clock.now += 0.01
    throttles.check("new", "trader1")  # a token back


def test_a_session_has_its_own_bucket_besides_the_traders() -> None:
    clock = Clock()
    throttles = Throttles(ThrottleConfig(new_per_second=2), clock=clock)
    throttles.check("new", "trader1", "s1")
    throttles.check("new", "trader1", "s1")
    with pytest.raises(ResourceExhausted) as refused:
        throttles.check("new", "trader1", "s1")
    assert refused.value.metadata["scope"] == "SESSION:s1"
    with pytest.raises(ResourceExhausted) as refused:  # the trader's bucket is empty too
        throttles.check("new", "trader1", "s2")
    assert refused.value.metadata["scope"] == "TRADER:trader1"
    throttles.forget_session("s1")
    clock.now += 1.0
    throttles.check("new", "trader1", "s1")


def test_zero_turns_a_throttle_off_and_a_rate_below_one_is_refused() -> None:
    throttles = Throttles(ThrottleConfig(cancel_per_second=0), clock=Clock())
    for _ in range(10_000):
        throttles.check("cancel", "trader1")
    with pytest.raises(ConfigError):
        ThrottleConfig(new_per_second=0.5)
    assert Config.from_flat(throttle_amend_per_second=5).throttle.amend_per_second == 5
