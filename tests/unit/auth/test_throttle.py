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


def test_failures_age_out_after_a_quiet_period_as_long_as_the_lockout() -> None:
    throttle = LoginThrottle(max_failures=3, lockout_seconds=60)
    throttle.record_failure("bob", now=0)
    throttle.record_failure("bob", now=10)

    # a month later, one more typo is the first of a new run, not the third
    assert throttle.record_failure("bob", now=30 * 86400) == 1
    assert throttle.locked_for("bob", now=30 * 86400) == 0


def test_failures_within_the_window_still_lock() -> None:
    throttle = LoginThrottle(max_failures=3, lockout_seconds=60)
    for t in (0, 50, 100):  # each within 60 s of the previous one
        throttle.record_failure("bob", now=t)
    assert throttle.locked_for("bob", now=101) == 59


def test_the_names_tracked_are_bounded_least_recent_first() -> None:
    throttle = LoginThrottle(max_failures=1, lockout_seconds=600, max_names=3)
    for i, name in enumerate(["a", "b", "c", "d"]):
        throttle.record_failure(name, now=i)

    assert throttle.locked_for("a", now=4) == 0  # forgotten: the oldest
    assert all(throttle.locked_for(n, now=4) > 0 for n in ("b", "c", "d"))
