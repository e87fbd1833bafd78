"""user_events: what `itirp users ...` changed in users.db, as the events that record it, in order,
with who and why; differences found without a noted change recorded with no actor."""

from __future__ import annotations

from itirp.auth.roles import Role
from itirp.auth.state import AuthState, KnownUser
from itirp.auth.user_sync import user_events
from itirp.auth.users import User, UserChange
from itirp.core.journal import Journal


def _user(name: str, role: Role = Role.TRADER, *, disabled: bool = False) -> User:
    return User(f"id-{name}", name, role, "hash", disabled, False, 0)


def _state(*users: User) -> AuthState:
    state = AuthState(max_failed_logins=5, lockout_seconds=300)
    for u in users:
        state.users[u.user_id] = KnownUser(u.user_id, u.username, False, u.role.value)
    return state


def _change(n: int, user: User, action: str, detail: str = "") -> UserChange:
    return UserChange(n, user.username, user.user_id, action, detail, "ops", f"why {n}")


def test_each_noted_change_is_one_event_with_who_and_why() -> None:
    bob = _user("bob")
    changes = [
        _change(1, bob, "passwd"),
        _change(2, bob, "set-role", "RISK_MANAGER"),
        _change(3, bob, "unlock"),
        _change(4, bob, "disable"),
        _change(5, bob, "enable"),
    ]
    now = _user("bob", Role.RISK_MANAGER)

    events = [e for e, _ in user_events([now], changes, _state(bob))]

    assert [type(e).__name__ for e in events] == [
        "PasswordChanged",
        "UserRoleChanged",
        "UserUnlocked",
        "UserDisabled",
        "UserEnabled",
    ]
    assert [(e.actor, e.reason, e.change) for e in events] == [("ops", f"why {n}", n) for n in range(1, 6)]
    role_change = events[1]
    assert (role_change.old_role, role_change.new_role) == (Role.TRADER.value, Role.RISK_MANAGER.value)


def test_a_difference_without_a_noted_change_is_recorded_without_an_actor() -> None:
    bob = _user("bob")
    edited = _user("bob", Role.ADMIN, disabled=True)

    events = [e for e, _ in user_events([edited], [], _state(bob))]

    assert [type(e).__name__ for e in events] == ["UserDisabled", "UserRoleChanged"]
    assert all(e.actor == "" and e.change == 0 for e in events)


def test_a_new_user_is_created_before_its_changes() -> None:
    ann = _user("ann")
    events = [e for e, _ in user_events([ann], [_change(7, ann, "passwd")], _state())]
    assert [type(e).__name__ for e in events] == ["UserCreated", "PasswordChanged"]


def test_the_fold_keeps_the_latest_version_and_role() -> None:
    bob = _user("bob")
    state = _state(bob)
    journal = Journal(clock_us=lambda: 1_000_000)
    changes = [_change(3, bob, "passwd"), _change(4, bob, "set-role", "ADMIN")]
    for event, _ in user_events([_user("bob", Role.ADMIN)], changes, state):
        state.apply(journal.new(event, correlation_id="c", causation_id="", user_id=""))

    known = state.users[bob.user_id]
    assert (known.version, known.role, state.last_user_change) == (3, Role.ADMIN.value, 4)
