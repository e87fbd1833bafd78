"""What `itirp users ...` changed in users.db, as the events that record it in the log.

`itirp users` writes users.db (the server may not be running) and notes each change, with who ran
it and why, in its `user_changes` table. The server reads the changes it has not recorded yet (the
newest recorded is part of the log's fold, `AuthState.last_user_change`) and records one event per
change. Then it compares users.db with what the log knows, and records what differs without a
noted change (a users.db from before changes were noted, or edited by hand) with no actor.

Pure: users, changes and the state in, (payload, actor user id) pairs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from itirp.auth.roles import Role
from itirp.auth.state import AuthState
from itirp.auth.users import User, UserChange
from itirp.v1 import events_pb2

__all__ = ["user_events"]


@dataclass(slots=True)
class _Seen:
    disabled: bool
    role: int


def _change_event(change: UserChange, seen: dict[str, _Seen]) -> Message | None:
    who = {"actor": change.actor, "reason": change.reason, "change": change.change}
    user = seen.get(change.user_id)
    if change.action == "unlock":
        return events_pb2.UserUnlocked(username=change.username, **who)  # type: ignore[arg-type]
    if user is None:  # a user no longer in users.db
        return None
    ids = {"username": change.username, "user_id": change.user_id}
    if change.action == "disable":
        user.disabled = True
        return events_pb2.UserDisabled(**ids, **who)  # type: ignore[arg-type]
    if change.action == "enable":
        user.disabled = False
        return events_pb2.UserEnabled(**ids, **who)  # type: ignore[arg-type]
    if change.action == "passwd":
        return events_pb2.PasswordChanged(**ids, **who)  # type: ignore[arg-type]
    if change.action == "set-role":
        old, user.role = user.role, Role.parse(change.detail).value
        return events_pb2.UserRoleChanged(**ids, old_role=old, new_role=user.role, **who)  # type: ignore[arg-type]
    return None


def user_events(users: Sequence[User], changes: Sequence[UserChange], state: AuthState) -> list[tuple[Message, str]]:
    """The events that bring the log's view of the users up to date with users.db."""
    events: list[tuple[Message, str]] = []
    seen: dict[str, _Seen] = {}
    for u in users:
        known = state.users.get(u.user_id)
        if known is None:
            created = events_pb2.UserCreated(username=u.username, role=u.role.proto_name, user_id=u.user_id)
            events.append((created, ""))
            seen[u.user_id] = _Seen(False, u.role.value)
        else:
            seen[u.user_id] = _Seen(known.disabled, known.role or u.role.value)
    for change in changes:
        event = _change_event(change, seen)
        if event is not None:
            events.append((event, ""))
    for u in users:
        now = seen[u.user_id]
        if u.disabled != now.disabled:
            kind = events_pb2.UserDisabled if u.disabled else events_pb2.UserEnabled
            events.append((kind(username=u.username, user_id=u.user_id), ""))
        if u.role.value != now.role:
            changed = events_pb2.UserRoleChanged(
                username=u.username,
                user_id=u.user_id,
                old_role=now.role,  # type: ignore[arg-type]  # an enum field takes its number
                new_role=u.role.value,  # type: ignore[arg-type]
            )
            events.append((changed, ""))
    return events
