"""LoginThrottle: lockout after repeated failures, per name and client address, for a while; slots
taken before an attempt is checked."""

from __future__ import annotations

from itirp.auth.state import LoginThrottle, login_key


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


def test_an_attempt_takes_its_slot_before_it_is_checked() -> None:
    # Arrange: 3 allowed failures; 5 attempts arrive together
    throttle = LoginThrottle(max_failures=3, lockout_seconds=60)

    # Act: each asks for a slot before any has been checked
    waits = [throttle.begin("bob", now=0) for _ in range(5)]

    # Assert: only 3 may be checked; the others wait
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(w > 0 for w in waits[3:])


def test_a_slot_is_given_back_when_the_attempt_ends() -> None:
    throttle = LoginThrottle(max_failures=1, lockout_seconds=60)
    assert throttle.begin("bob", now=0) == 0.0
    assert throttle.begin("bob", now=0) > 0
    throttle.end("bob")  # it succeeded
    assert throttle.begin("bob", now=0) == 0.0


def test_a_failure_in_flight_and_recorded_locks_once_it_ends() -> None:
    throttle = LoginThrottle(max_failures=1, lockout_seconds=60)
    assert throttle.begin("bob", now=0) == 0.0
    throttle.record_failure("bob", now=0)
    throttle.end("bob")
    assert throttle.begin("bob", now=1) == 59


def test_names_are_kept_per_client_address_and_unlock_clears_every_address() -> None:
    throttle = LoginThrottle(max_failures=1, lockout_seconds=60)
    here, there = login_key("bob", "ipv4:10.0.0.1"), login_key("bob", "ipv4:10.0.0.2")
    throttle.record_failure(here, now=0)
    throttle.record_failure(there, now=0)
    throttle.record_failure(login_key("bobby", "ipv4:10.0.0.1"), now=0)
    assert throttle.locked_for(here, now=1) > 0
    assert throttle.locked_for(login_key("bob", "ipv6:[::1]"), now=1) == 0

    throttle.unlock(login_key("bob", ""))

    assert throttle.locked_for(here, now=1) == 0
    assert throttle.locked_for(there, now=1) == 0
    assert throttle.locked_for(login_key("bobby", "ipv4:10.0.0.1"), now=1) > 0
