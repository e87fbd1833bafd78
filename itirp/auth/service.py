"""Authentication as the server uses it: login, token checks, refresh, logout, lockout.

`authenticate()` runs on every call, so it is synchronous and does no I/O: a cache of verified
tokens, the in-memory set of revoked token ids and the set of disabled users. Everything that
touches disk or burns CPU (scrypt) runs on the auth threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from itirp.auth.passwords import hash_password, verify_password
from itirp.auth.roles import Role
from itirp.auth.tokens import Claims, TokenCodec
from itirp.auth.users import User, UserStore
from itirp.errors import ResourceExhausted, Unauthenticated

__all__ = ["AuthService", "IssuedToken", "LoginThrottle", "Principal", "load_or_create_secret"]

log = logging.getLogger("itirp.auth")

_BAD_LOGIN = "invalid username or password"
_TOKEN_CACHE_MAX = 50_000


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as handlers see it."""

    username: str
    user_id: str
    role: Role
    token_id: str
    issued_at: int
    expires_at: int

    @classmethod
    def from_claims(cls, claims: Claims) -> Principal:
        return cls(claims.sub, claims.user_id, claims.role, claims.jti, claims.iat, claims.exp)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    claims: Claims

    @property
    def expires_in(self) -> int:
        return self.claims.exp - self.claims.iat


class LoginThrottle:
    """Failed logins in a row per username; after `max_failures` the name is locked for a while.

    Keyed by the name as typed, whether or not such a user exists, so that the lockout reveals
    nothing about which usernames are real. Pure: the caller passes the time.
    """

    def __init__(self, *, max_failures: int, lockout_seconds: float) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def locked_for(self, username: str, now: float) -> float:
        """Seconds left on the lock, 0 when not locked."""
        until = self._locked_until.get(username)
        if until is None:
            return 0.0
        if now >= until:
            del self._locked_until[username]
            self._failures.pop(username, None)
            return 0.0
        return until - now

    def record_failure(self, username: str, now: float) -> int:
        count = self._failures.get(username, 0) + 1
        self._failures[username] = count
        if count >= self.max_failures:
            self._locked_until[username] = now + self.lockout_seconds
        return count

    def record_success(self, username: str) -> None:
        self._failures.pop(username, None)


def load_or_create_secret(data_dir: Path) -> bytes:
    """The HS256 secret kept in the data folder (mode 0600), created on first start."""
    path = data_dir / "jwt_secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path} holds a secret shorter than 32 bytes; remove it to generate a new one")
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
        *,
        clock: Callable[[], float],
        demo_users: bool,
        max_failed_logins: int,
        lockout_seconds: float,
        scrypt_n: int,
        user_refresh_seconds: float = 2.0,
    ) -> None:
        self._users = users
        self._codec = codec
        self._clock = clock
        self._demo_users = demo_users
        self._scrypt_n = scrypt_n
        self._refresh_seconds = user_refresh_seconds
        self._throttle = LoginThrottle(max_failures=max_failed_logins, lockout_seconds=lockout_seconds)
        self._revoked: set[str] = set()
        self._blocked_users: frozenset[str] = frozenset()
        self._token_cache: dict[str, Claims] = {}
        # scrypt releases the GIL, so two threads can verify two logins at once.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="itirp-auth")
        self._dummy_hash = ""
        self._poller: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable, *args: object):  # type: ignore[no-untyped-def]
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def start(self) -> None:
        if self._demo_users:
            created = await self._run(lambda: self._users.seed_demo_users(scrypt_n=self._scrypt_n))
            if created:
                log.info("seeded demo users", extra={"users": created})
            log.warning(
                "demo users are ON (trader1, risk1, compliance1, admin with well-known passwords); "
                "turn them off with --no-demo-users or ITIRP_DEMO_USERS=0"
            )
        self._dummy_hash = await self._run(lambda: hash_password(secrets.token_hex(8), n=self._scrypt_n))
        self._revoked = await self._run(self._users.revoked_token_ids, int(self._clock()))
        await self._refresh_blocked_users()
        if self._refresh_seconds > 0:
            self._poller = asyncio.create_task(self._poll_users(), name="itirp-auth-user-poller")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
        self._pool.shutdown(wait=True)

    async def _refresh_blocked_users(self) -> None:
        def blocked() -> frozenset[str]:
            ids = set(self._users.disabled_user_ids())
            if not self._demo_users:
                ids.update(u.user_id for u in self._users.list() if u.demo)
            return frozenset(ids)

        self._blocked_users = await self._run(blocked)

    async def _poll_users(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self._refresh_blocked_users()
            except Exception:  # keep polling; the next round may succeed
                log.exception("could not re-read the users table")

    def _usable(self, user: User | None) -> bool:
        return user is not None and not user.disabled and (self._demo_users or not user.demo)

    async def login(self, username: str, password: str) -> IssuedToken:
        now = self._clock()
        left = self._throttle.locked_for(username, now)
        if left > 0:
            raise ResourceExhausted(
                f"too many failed logins for {username!r}: locked out, try again in {int(left) + 1} s"
            )
        user = await self._run(self._users.get, username)
        stored = user.password_hash if self._usable(user) else self._dummy_hash
        ok = await self._run(verify_password, password, stored)
        if not ok or not self._usable(user):
            count = self._throttle.record_failure(username, self._clock())
            log.info("login failed", extra={"username": username, "failures": count})
            raise Unauthenticated(_BAD_LOGIN)
        assert user is not None
        self._throttle.record_success(username)
        return self._issue(user)

    def _issue(self, user: User) -> IssuedToken:
        token, claims = self._codec.issue(
            username=user.username, user_id=user.user_id, role=user.role, now=self._clock()
        )
        return IssuedToken(token, claims)

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind an `authorization` metadata value, or `Unauthenticated` saying why."""
        if not authorization:
            raise Unauthenticated("missing credentials: send 'authorization: Bearer <token>' metadata")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("malformed authorization metadata: expected 'Bearer <token>'")
        now = self._clock()
        claims = self._token_cache.get(token)
        if claims is None:
            claims = self._codec.verify(token, now=now)
            if len(self._token_cache) >= _TOKEN_CACHE_MAX:
                self._token_cache.clear()
            self._token_cache[token] = claims
        elif now >= claims.exp:
            raise Unauthenticated("token expired; log in again")
        if claims.jti in self._revoked:
            raise Unauthenticated("token has been revoked (logged out); log in again")
        if claims.user_id in self._blocked_users:
            raise Unauthenticated(f"user {claims.sub!r} is disabled")
        return Principal.from_claims(claims)

    def is_revoked(self, token_id: str) -> bool:
        return token_id in self._revoked

    async def refresh(self, principal: Principal) -> IssuedToken:
        """A fresh token for a still-valid one. The user is re-read, so a changed role applies and a
        disabled user gets nothing. The old token stays valid until it expires (streams opened with
        it keep running); log out to revoke it."""
        user = await self._run(self._users.get, principal.username)
        if not self._usable(user) or user is None or user.user_id != principal.user_id:
            raise Unauthenticated(f"user {principal.username!r} is disabled or no longer exists")
        return self._issue(user)

    async def logout(self, principal: Principal) -> int:
        """Revokes the caller's token durably; returns the revocation time (epoch seconds)."""
        revoked_at = int(self._clock())
        await self._run(self._users.revoke, principal.token_id, principal.user_id, principal.expires_at, revoked_at)
        self._revoked.add(principal.token_id)
        return revoked_at
