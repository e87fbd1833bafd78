"""Authentication state as a fold over events: revoked tokens, failed-login lockouts, known users.

Pure and deterministic: the times come from the events, never from a clock, so a restart rebuilds
exactly the state before it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from itirp.events import decode_payload
from itirp.store.records import NewEvent, StoredEvent
from itirp.v1 import events_pb2

__all__ = ["AuthState", "KnownUser", "LoginThrottle", "login_key"]


def login_key(username: str, client_address: str) -> str:
    """The throttle's key: a name as typed, from one client address (so that guessing from one
    address locks that name out from that address only, never the user's desk everywhere)."""
    return f"{username}\x00{client_address}"


class LoginThrottle:
    """Failed logins in a row per username; after `max_failures` the name is locked for a while.

    Keyed by the name as typed, whether or not such a user exists, so that the lockout reveals
    nothing about which usernames are real. Failures age: after a quiet period as long as the
    lockout, the count starts again (four typos a month apart do not lock anyone out). At most
    `max_names` names are tracked, the least recently failed forgotten first, so guessing random
    names cannot grow it without bound. Pure and deterministic: the caller passes the time (the
    events' time on replay).
    """

    def __init__(self, *, max_failures: int, lockout_seconds: float, max_names: int = 100_000) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.max_names = max_names
        self._failures: dict[str, tuple[int, float]] = {}  # name -> (count, time of the last failure)
        self._locked_until: dict[str, float] = {}
        self._pending: dict[str, int] = {}

    def locked_for(self, username: str, now: float) -> float:
        """Seconds left on the lock, 0 when not locked (and forgets what has aged out)."""
        until = self._locked_until.get(username)
        if until is not None:
            if now < until:
                return until - now
            del self._locked_until[username]
            self._failures.pop(username, None)
        entry = self._failures.get(username)
        if entry is not None and now - entry[1] >= self.lockout_seconds:
            del self._failures[username]
        return 0.0

    def failures(self, username: str) -> int:
        """Failed logins in a row so far (call `locked_for` first to age them)."""
        entry = self._failures.get(username)
        return entry[0] if entry else 0

    def record_failure(self, username: str, now: float) -> int:
        """Counts a failure; returns the failures in a row (the lock starts at the maximum)."""
        self.locked_for(username, now)
        count = self.failures(username) + 1
        self._failures.pop(username, None)  # re-insert: dict order is the order of last failure
        self._failures[username] = (count, now)
        if count >= self.max_failures:
            self._locked_until.pop(username, None)
            self._locked_until[username] = now + self.lockout_seconds
        for table in (self._failures, self._locked_until):
            while len(table) > self.max_names:
                del table[next(iter(table))]
        return count

    def record_success(self, username: str) -> None:
        self._failures.pop(username, None)

    def unlock(self, prefix: str) -> None:
        """Forget the failures and locks of every key that starts with `prefix`."""
        for table in (self._failures, self._locked_until):
            for key in [k for k in table if k.startswith(prefix)]:
                del table[key]

    # Attempts being checked right now. Not part of the fold (nothing of it survives a restart):
    # an attempt takes its slot here before its password is checked, so that attempts sent at
    # once cannot all be checked before the first failure is counted.

    def begin(self, key: str, now: float) -> float:
        """Take a slot for one attempt: 0.0 when taken, else the seconds to wait (locked out, or
        as many attempts in progress as failures are still allowed). Call `end` after it."""
        left = self.locked_for(key, now)
        if left > 0:
            return left
        if self.failures(key) + self._pending.get(key, 0) >= self.max_failures:
            return 1.0
        self._pending[key] = self._pending.get(key, 0) + 1
        return 0.0

    def end(self, key: str) -> None:
        left = self._pending.get(key, 0) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)


@dataclass(frozen=True, slots=True)
class KnownUser:
    user_id: str
    username: str
    disabled: bool
    role: int = 0  # `itirp.v1.Role` number (0: not known from the log)
    #: Credential version: the users.db change number of the latest password change or disable
    #: (as `User.version`); tokens that carry an older one are refused.
    version: int = 0


_AUTH_EVENTS = frozenset(
    {
        "LOGIN_FAILED",
        "USER_LOGGED_IN",
        "TOKEN_REVOKED",
        "USER_CREATED",
        "USER_DISABLED",
        "USER_ENABLED",
        "USER_ROLE_CHANGED",
        "PASSWORD_CHANGED",
        "USER_UNLOCKED",
    }
)


class AuthState:
    def __init__(self, *, max_failed_logins: int, lockout_seconds: float) -> None:
        self.throttle = LoginThrottle(max_failures=max_failed_logins, lockout_seconds=lockout_seconds)
        #: Revoked token id -> its expiry (epoch seconds).
        self.revoked: dict[str, int] = {}
        #: user_id -> what the event log knows of the user.
        self.users: dict[str, KnownUser] = {}
        #: The newest change of users.db (`itirp users ...`) recorded in the log.
        self.last_user_change = 0

    def apply(self, event: NewEvent | StoredEvent) -> None:
        """Fold one authentication event (others are ignored); live, before it is durable, too."""
        kind = event.event_type
        if kind not in _AUTH_EVENTS:
            return
        p = decode_payload(kind, event.schema_version, event.payload)
        change = getattr(p, "change", 0)
        self.last_user_change = max(self.last_user_change, change)
        if isinstance(p, events_pb2.LoginFailed):
            self.throttle.record_failure(login_key(p.username, p.client_address), event.timestamp_us / 1e6)
        elif isinstance(p, events_pb2.UserLoggedIn):
            self.throttle.record_success(login_key(p.username, p.client_address))
        elif isinstance(p, events_pb2.TokenRevoked):
            self.revoked[p.token_id] = p.expires_at.seconds
        elif isinstance(p, events_pb2.UserUnlocked):
            self.throttle.unlock(login_key(p.username, ""))
        elif isinstance(p, events_pb2.UserCreated):
            self.users[p.user_id] = KnownUser(p.user_id, p.username, False, p.role)
        else:
            self._apply_user_change(p)

    def _apply_user_change(self, p: object) -> None:
        known = self.users.get(getattr(p, "user_id", ""))
        if known is None:
            return
        if isinstance(p, events_pb2.UserDisabled):
            known = replace(known, disabled=True, version=max(known.version, p.change))
        elif isinstance(p, events_pb2.UserEnabled):
            known = replace(known, disabled=False)
        elif isinstance(p, events_pb2.UserRoleChanged):
            known = replace(known, role=p.new_role)
        elif isinstance(p, events_pb2.PasswordChanged):
            known = replace(known, version=max(known.version, p.change))
        self.users[known.user_id] = known
