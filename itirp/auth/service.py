"""Authentication as the server uses it: login, token checks, refresh, logout, lockout.

`authenticate()` runs on every call, so it is synchronous and does no I/O: a cache of verified
tokens, the revoked token ids and the disabled users, all in memory. Everything that touches disk
or burns CPU (scrypt, users.db) runs on the auth threads, never on the event loop.

Every outcome that matters to an auditor is an event (USER_LOGGED_IN, LOGIN_FAILED,
TOKEN_REVOKED, and the users.db changes of `itirp users ...`: USER_CREATED, USER_DISABLED,
USER_ENABLED, USER_ROLE_CHANGED, PASSWORD_CHANGED, USER_UNLOCKED), durable before the caller hears
the answer, and the state behind the checks (revocations, lockouts, roles, credential versions) is
the fold of those events (`AuthState`): the live path appends an event and applies that same
event, and a restart replays them. Open streams are judged again whenever access may have been
taken away (`itirp.auth.access`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from google.protobuf.message import Message

from itirp.auth.access import AccessWatch, WatchedStream, role_changed
from itirp.auth.passwords import hash_password, verify_password
from itirp.auth.roles import Role
from itirp.auth.state import AuthState, login_key
from itirp.auth.tokens import Claims, TokenCodec
from itirp.auth.user_sync import user_events
from itirp.auth.users import User, UserStore
from itirp.core.journal import Journal, new_uuid
from itirp.errors import FailedPrecondition, Reason, ResourceExhausted, Unauthenticated
from itirp.events import timestamp_from_seconds
from itirp.limits import check_length
from itirp.observability.context import correlation_id_var, request_id_var
from itirp.store.records import NewEvent, StoredEvent
from itirp.v1 import events_pb2

__all__ = ["AuthService", "IssuedToken", "Principal", "load_or_create_secret"]

log = logging.getLogger("itirp.auth")

_T = TypeVar("_T")

_BAD_LOGIN = "invalid username or password"
_TOKEN_CACHE_MAX = 50_000
#: The events after which every open stream's access is judged again.
_TAKES_ACCESS = frozenset({"TOKEN_REVOKED", "USER_DISABLED", "USER_ROLE_CHANGED", "PASSWORD_CHANGED"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as handlers see it."""

    username: str
    user_id: str
    role: Role
    token_id: str
    issued_at: int
    expires_at: int
    version: int = 0  # the user's credential version the token was issued under

    @classmethod
    def from_claims(cls, claims: Claims, role: Role | None = None) -> Principal:
        """The caller of a token; `role` is the user's current role when it differs from the token's."""
        return cls(claims.sub, claims.user_id, role or claims.role, claims.jti, claims.iat, claims.exp, claims.ver)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    claims: Claims

    @property
    def expires_in(self) -> int:
        return self.claims.exp - self.claims.iat


def load_or_create_secret(data_dir: Path) -> bytes:
    """The HS256 secret kept in the data folder (mode 0600), created on first start."""
    path = data_dir / "jwt_secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(
                f"{path} holds a secret shorter than 32 bytes; remove it to generate a new one"
            ) from None
        return secret
    secret = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(secret + b"\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("generated a new token signing secret", extra={"path": str(path)})
    return secret


class AuthService:
    def __init__(
        self,
        users: UserStore,
        codec: TokenCodec,
        journal: Journal,
        state: AuthState,
        *,
        append: Callable[[Sequence[NewEvent]], Awaitable[list[StoredEvent]]],
        clock: Callable[[], float],
        demo_users: bool,
        scrypt_n: int,
        user_refresh_seconds: float = 2.0,
        read_only: bool = False,
        token_clock: Callable[[], float] = time.time,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self._users = users
        self._codec = codec
        self._journal = journal
        self._append = append
        self.state = state
        self._clock = clock  # the log's time: lockouts are folded from event times
        # Token times are real time: PyJWT checks exp, nbf and iat against the wall clock, so tokens
        # are issued, cached and ended (streams) by the same clock.
        self._token_clock = token_clock
        self._demo_users = demo_users
        self._scrypt_n = scrypt_n
        self._refresh_seconds = user_refresh_seconds
        self._read_only = read_only
        # A standby records nothing of its own (users.db changes are the leader's to record); it
        # follows what the leader records (`followed`).
        self._leading = leading
        self._blocked_users: frozenset[str] = frozenset()
        self._token_cache: dict[str, Claims] = {}
        # scrypt releases the GIL, so two threads can verify two logins at once.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="itirp-auth")
        self._dummy_hash = ""
        self._poller: asyncio.Task[None] | None = None
        #: Every open server stream, ended when its access is taken away.
        self.streams = AccessWatch(self._check_stream, clock=token_clock)

    async def _run(self, fn: Callable[..., _T], *args: object) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def start(self) -> None:
        if self._demo_users:
            created = await self._run(lambda: self._users.seed_demo_users(scrypt_n=self._scrypt_n))
            if created:
                log.info("seeded demo users", extra={"users": created})
            log.warning(
                "demo users are ON (trader1, trader2, risk1, compliance1, admin with well-known passwords); "
                "turn them off with --no-demo-users or ITIRP_DEMO_USERS=0"
            )
        self._dummy_hash = await self._run(lambda: hash_password(secrets.token_hex(8), n=self._scrypt_n))
        await self.sync_users()
        if self._refresh_seconds > 0:
            self._poller = asyncio.create_task(self._poll_users(), name="itirp-auth-user-poller")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self._pool.shutdown(wait=True)

    async def _record(self, events: list[tuple[Message, str]]) -> None:
        """Append (payload, actor user id) events, apply them to the state, wait until durable."""
        correlation_id = correlation_id_var.get() or new_uuid()
        causation_id = request_id_var.get()
        new = [
            self._journal.new(payload, correlation_id=correlation_id, causation_id=causation_id, user_id=user_id)
            for payload, user_id in events
        ]
        durable = self._append(new)
        if isinstance(durable, asyncio.Future) and durable.done() and durable.exception() is not None:
            await durable  # refused at once (a standby, a failed log): nothing recorded, nothing applied
        self.followed(new)
        await durable

    def followed(self, events: Sequence[NewEvent | StoredEvent]) -> None:
        """Fold events into the state (recorded here, or followed from the leader's log on a
        standby), and judge the open streams again when one of them takes access away."""
        for event in events:
            self.state.apply(event)
        if any(event.event_type in _TAKES_ACCESS for event in events):
            self.streams.recheck()

    async def sync_users(self) -> None:
        """Re-read users.db: record as events what `itirp users ...` changed there (users created,
        disabled, enabled, role and password changes, unlocks; with who and why), refresh the set
        of users whose tokens are refused, and judge every open stream again."""
        users: list[User] = await self._run(self._users.list)
        changes = await self._run(self._users.changes_after, self.state.last_user_change)
        events = user_events(users, changes, self.state)
        if events and not self._read_only and self._leading():
            await self._record(events)
        self._blocked_users = frozenset(u.user_id for u in users if u.disabled or (u.demo and not self._demo_users))
        self.streams.recheck()

    async def _poll_users(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.sync_users()
            except Exception:  # keep polling; the next round may succeed
                log.exception("could not re-read the users table")

    def _usable(self, user: User | None) -> bool:
        return user is not None and not user.disabled and (self._demo_users or not user.demo)

    async def login(self, username: str, password: str, client_address: str = "") -> IssuedToken:
        """A token for the right password. The attempt takes its slot in the throttle (per name
        and client address) before the password is checked, so attempts sent at once cannot buy
        more guesses than the limit."""
        check_length("username", username)  # before the attempt is recorded: a failed login keeps the name
        throttle, key, now = self.state.throttle, login_key(username, client_address), self._clock()
        left = throttle.begin(key, now)
        if left > 0:
            wait = int(left) + 1  # whole seconds, never less than what is left
            why = "too many failed logins" if throttle.locked_for(key, now) > 0 else "too many login attempts at once"
            raise ResourceExhausted(
                f"{why} for {username!r}: locked out, try again in {wait} s",
                reason=Reason.LOCKED_OUT,
                metadata={"username": username, "retry_after_seconds": str(wait)},
                retry_after_seconds=wait,
            )
        try:
            return await self._check_login(username, password, client_address, key)
        finally:
            throttle.end(key)

    async def _check_login(self, username: str, password: str, client_address: str, key: str) -> IssuedToken:
        user = await self._run(self._users.get, username)
        stored = user.password_hash if user is not None and self._usable(user) else self._dummy_hash
        ok = await self._run(verify_password, password, stored)
        if not ok or not self._usable(user):
            log.info("login failed", extra={"username": username, "client_address": client_address})
            if not self._read_only:
                throttle = self.state.throttle
                failures = throttle.failures(key) + 1
                failed = events_pb2.LoginFailed(
                    username=username,
                    reason="invalid username or password",
                    consecutive_failures=failures,
                    locked=failures >= throttle.max_failures,
                    client_address=client_address,
                )
                await self._record([(failed, user.user_id if user else "")])
            raise Unauthenticated(_BAD_LOGIN, reason=Reason.BAD_CREDENTIALS)
        assert user is not None
        issued = self._issue(user)
        if not self._read_only:
            claims = issued.claims
            logged_in = events_pb2.UserLoggedIn(
                username=user.username,
                role=user.role.proto_name,
                token_id=claims.jti,
                expires_at=timestamp_from_seconds(claims.exp),
                client_address=client_address,
            )
            await self._record([(logged_in, user.user_id)])
        return issued

    def _issue(self, user: User) -> IssuedToken:
        # the version users.db holds now: the log may not have recorded the latest change yet
        token, claims = self._codec.issue(
            username=user.username,
            user_id=user.user_id,
            role=user.role,
            now=self._token_clock(),
            version=user.version,
        )
        return IssuedToken(token, claims)

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind an `authorization` metadata value, or `Unauthenticated` saying why."""
        if not authorization:
            raise Unauthenticated(
                "missing credentials: send 'authorization: Bearer <token>' metadata", reason=Reason.CREDENTIALS_MISSING
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("malformed authorization metadata: expected 'Bearer <token>'")
        claims = self._token_cache.get(token)
        if claims is None:
            claims = self._codec.verify(token)
            if len(self._token_cache) >= _TOKEN_CACHE_MAX:
                self._token_cache.clear()
            self._token_cache[token] = claims
        elif self._token_clock() >= claims.exp:
            raise Unauthenticated("token expired; log in again", reason=Reason.TOKEN_EXPIRED)
        self._refuse_taken_away(claims.jti, claims.user_id, claims.sub, claims.ver)
        return Principal.from_claims(claims, self.current_role(claims.user_id))

    def current_role(self, user_id: str) -> Role | None:
        """The user's role as the log knows it now (None: not known, the token's role stands)."""
        known = self.state.users.get(user_id)
        return Role(known.role) if known is not None and known.role else None

    def _refuse_taken_away(self, token_id: str, user_id: str, username: str, version: int) -> None:
        """Raise when this token's access was taken away: logged out, user disabled, or the
        password changed (or the user was disabled) after it was issued."""
        if token_id in self.state.revoked:
            raise Unauthenticated("token has been revoked (logged out); log in again", reason=Reason.TOKEN_REVOKED)
        if user_id in self._blocked_users:
            raise Unauthenticated(
                f"user {username!r} is disabled", reason=Reason.USER_DISABLED, metadata={"username": username}
            )
        known = self.state.users.get(user_id)
        if known is not None and known.disabled:
            raise Unauthenticated(
                f"user {username!r} is disabled", reason=Reason.USER_DISABLED, metadata={"username": username}
            )
        if known is not None and version < known.version:
            raise Unauthenticated(
                f"the password of {username!r} changed (or the user was disabled) after this token was issued;"
                " log in again",
                reason=Reason.CREDENTIALS_CHANGED,
                metadata={"username": username},
            )

    def watch_stream(self, principal: Principal, needs: Role) -> WatchedStream:
        """Register the current task's stream: it ends when `principal`'s access does."""
        stream = WatchedStream(
            username=principal.username,
            user_id=principal.user_id,
            role=principal.role,
            token_id=principal.token_id,
            expires_at=principal.expires_at,
            needs=needs,
            version=principal.version,
        )
        return self.streams.open(stream)

    def _check_stream(self, stream: WatchedStream) -> None:
        self._refuse_taken_away(stream.token_id, stream.user_id, stream.username, stream.version)
        role = self.current_role(stream.user_id)
        if role is not None and role != stream.role:
            raise role_changed(stream, role)

    async def authenticate_certificate(self, common_name: str, expires_at: int) -> Principal:
        """The principal a verified client certificate names (mutual TLS, `tls.client_cert_users`):
        the active user whose name is the subject's CN, until the certificate expires; it carries
        no token (`token_id` empty), so there is nothing to revoke but the user."""
        user = await self._run(self._users.get, common_name)
        if user is None or not self._usable(user) or user.user_id in self._blocked_users:
            raise Unauthenticated(
                f"the client certificate names no active user ({common_name[:64]!r})",
                reason=Reason.BAD_CREDENTIALS,
                metadata={"username": common_name[:64]},
            )
        return Principal(user.username, user.user_id, user.role, "", int(self._token_clock()), expires_at, user.version)

    async def find_user(self, username: str) -> User | None:
        """The user of that name in users.db (read on the auth thread), or None."""
        return await self._run(self._users.get, username)

    def is_revoked(self, token_id: str) -> bool:
        return token_id in self.state.revoked

    async def refresh(self, principal: Principal) -> IssuedToken:
        """A fresh token for a still-valid one. The user is re-read, so a changed role applies and a
        disabled user gets nothing. The old token stays valid until it expires (streams opened with
        it keep running until then); log out to revoke it."""
        user = await self._run(self._users.get, principal.username)
        if not self._usable(user) or user is None or user.user_id != principal.user_id:
            raise Unauthenticated(
                f"user {principal.username!r} is disabled or no longer exists",
                reason=Reason.USER_DISABLED,
                metadata={"username": principal.username},
            )
        return self._issue(user)

    async def logout(self, principal: Principal) -> int:
        """Revokes the caller's token durably; returns the revocation time (epoch seconds)."""
        if not principal.token_id:
            raise FailedPrecondition(
                "this session is by client certificate: there is no token to revoke", reason=Reason.FAILED_PRECONDITION
            )
        if self._read_only:
            raise FailedPrecondition(
                "the server is read-only (started for investigation): nothing can be recorded", reason=Reason.READ_ONLY
            )
        revoked = events_pb2.TokenRevoked(
            token_id=principal.token_id,
            expires_at=timestamp_from_seconds(principal.expires_at),
            username=principal.username,
        )
        await self._record([(revoked, principal.user_id)])
        return int(self._clock())
