"""LoginThrottle: lockout after repeated failures, per name, for a while."""

from __future__ import annotations

from itirp.auth.state import LoginThrottle


def test_locks_after_max_failures_and_unlocks_after_the_period() -> None:
    throttle = LoginThrottle(max_failures=3, lockout_seconds=60)
    for _ in range(2):
        throttle.record_failure("bob", now=100)
    assert throttle.locked_for("bob", now=100) == 0

    throttle.record_failure("bob", now=100)

    assert throttle.locked_for("bob", now=130) == 30
    assert throttle.locked_for("bob", now=160) == 0
    # the count starts again after the lock expires
    throttle.record_failure("bob", now=161)
    assert throttle.locked_for("bob", now=161) == 0


def test_success_resets_the_count() -> None:
    throttle = LoginThrottle(max_failures=2, lockout_seconds=60)
    throttle.record_failure("bob", now=0)
    throttle.record_success("bob")
    throttle.record_failure("bob", now=1)
    assert throttle.locked_for("bob", now=1) == 0


def test_names_are_locked_independently() -> None:
    throttle = LoginThrottle(max_failures=1, lockout_seconds=60)
    throttle.record_failure("bob", now=0)
    assert throttle.locked_for("bob", now=1) > 0
    assert throttle.locked_for("alice", now=1) == 0
