"""The user directory (credentials and roles), kept in `users.db` in the data folder.

Revocations, logins and lockouts are events in the event log; this file holds only what an audit
log must not: password hashes.

Synchronous SQLite: the CLI (`itirp users ...`) uses it directly, the server only from its own
single auth thread (see `itirp.auth.service`), never on the event loop. SQLite's locking lets the
CLI change users while the server runs; the server re-reads on each login and polls for changes.
Each change (`set_password`, `set_disabled`, `set_role`, `note_unlock`) is noted in `user_changes`,
in the same transaction, with who made it and why: the server records each as an event once.
"""

from __future__ import annotations

import builtins
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itirp.auth.passwords import hash_password
from itirp.auth.roles import Role
from itirp.store.sqlite_files import ReadOnlyFile

__all__ = ["ACTIONS", "DEMO_USERS", "User", "UserChange", "UserExists", "UserNotFound", "UserStore"]

#: The demo desk of the REST design, seeded when demo users are on.
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("trader1", "trader123", Role.TRADER),
    ("trader2", "trader234", Role.TRADER),
    ("risk1", "risk123", Role.RISK_MANAGER),
    ("compliance1", "compliance123", Role.COMPLIANCE),
    ("admin", "admin123", Role.ADMIN),
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    demo          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_changes (
    change   INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '',
    actor    TEXT NOT NULL DEFAULT '',
    reason   TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL
);
"""

#: What a row of `user_changes` says was done; the server records each as an event.
ACTIONS = ("disable", "enable", "set-role", "passwd", "unlock")


class UserExists(ValueError):
    pass


class UserNotFound(KeyError):
    def __str__(self) -> str:
        return f"no such user: {self.args[0]}"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    username: str
    role: Role
    password_hash: str
    disabled: bool
    demo: bool
    created_at: int
    #: Credential version: the number of the user's latest password change or disable (0: none).
    #: Tokens carry the version they were issued under; the server refuses older ones.
    version: int = 0


@dataclass(frozen=True, slots=True)
class UserChange:
    """One change made by `itirp users ...` (who, why), in the order made."""

    change: int
    username: str
    user_id: str
    action: str
    detail: str  # the new role of a set-role
    actor: str
    reason: str


def _row_to_user(row: tuple[Any, ...]) -> User:
    user_id, username, role, password_hash, disabled, demo, created_at, version = row
    return User(user_id, username, Role[role], password_hash, bool(disabled), bool(demo), created_at, version)


_COLUMNS = "user_id, username, role, password_hash, disabled, demo, created_at"
#: A user with their credential version: the latest change that refuses older tokens.
_SELECT = (
    f"SELECT {_COLUMNS}, (SELECT COALESCE(MAX(change), 0) FROM user_changes c"
    " WHERE c.user_id = users.user_id AND c.action IN ('passwd', 'disable')) FROM users"
)


class UserStore:
    """One SQLite connection, guarded by a lock so that any single thread may use it."""

    def __init__(self, path: Path, *, connection: sqlite3.Connection | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if connection is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
        self._db = connection
        self._db.executescript(_SCHEMA)

    @classmethod
    def copy_in_memory(cls, path: Path, *, lock: Path | None = None) -> UserStore:
        """The users of `path` copied into memory, `path` untouched (a read-only server: whatever
        it seeds or changes lasts until it stops). No file: an empty directory. `lock`: the flock
        of a server running on the folder (then `path` is read in place, consistently)."""
        memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        try:
            source = ReadOnlyFile.open(path, lock=lock)
        except FileNotFoundError:
            return cls(path, connection=memory)
        try:
            db = source.connect()
            try:
                db.backup(memory)
            finally:
                db.close()
        finally:
            source.close()
        return cls(path, connection=memory)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, username: str) -> User | None:
        with self._lock:
            row = self._db.execute(f"{_SELECT} WHERE username = ?", (username,)).fetchone()
        return _row_to_user(row) if row else None

    def list(self) -> list[User]:
        with self._lock:
            rows = self._db.execute(f"{_SELECT} ORDER BY username").fetchall()
        return [_row_to_user(r) for r in rows]

    def add(self, username: str, password: str, role: Role, *, demo: bool = False, scrypt_n: int = 2**14) -> User:
        username = username.strip()
        if not username or len(username) > 64 or not username.isprintable() or " " in username:
            raise ValueError("username must be 1-64 printable characters without spaces")
        user = User(
            user_id=str(uuid.uuid4()),
            username=username,
            role=role,
            password_hash=hash_password(password, n=scrypt_n),
            disabled=False,
            demo=demo,
            created_at=int(time.time()),
        )
        try:
            with self._lock:
                self._db.execute(
                    f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (user.user_id, user.username, role.name, user.password_hash, int(demo), user.created_at),
                )
        except sqlite3.IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        return user

    def set_password(
        self, username: str, password: str, *, scrypt_n: int = 2**14, actor: str = "", reason: str = ""
    ) -> None:
        """New password; the server then refuses every token issued before it."""
        new_hash = hash_password(password, n=scrypt_n)
        self._change(
            username, "passwd", "UPDATE users SET password_hash = ? WHERE username = ?", (new_hash,), actor, reason
        )

    def set_disabled(self, username: str, disabled: bool = True, *, actor: str = "", reason: str = "") -> User:
        action = "disable" if disabled else "enable"
        self._change(
            username, action, "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled),), actor, reason
        )
        user = self.get(username)
        assert user is not None
        return user

    def set_role(self, username: str, role: Role, *, actor: str = "", reason: str = "") -> User:
        self._change(
            username, "set-role", "UPDATE users SET role = ? WHERE username = ?", (role.name,), actor, reason, role.name
        )
        user = self.get(username)
        assert user is not None
        return user

    def note_unlock(self, username: str, *, actor: str = "", reason: str = "") -> None:
        """Ask the server to lift the failed-login lockout of a name (any name: lockouts are kept
        for names that are not users too, so that they reveal nothing)."""
        user = self.get(username)
        with self._lock:
            self._note(username, user.user_id if user else "", "unlock", "", actor, reason)

    def changes_after(self, change: int) -> builtins.list[UserChange]:
        with self._lock:
            rows = self._db.execute(
                "SELECT change, username, user_id, action, detail, actor, reason FROM user_changes"
                " WHERE change > ? ORDER BY change",
                (change,),
            ).fetchall()
        return [UserChange(*row) for row in rows]

    def _change(
        self,
        username: str,
        action: str,
        sql: str,
        params: tuple[object, ...],
        actor: str,
        reason: str,
        detail: str = "",
    ) -> None:
        """The update and its row in `user_changes`, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT user_id FROM users WHERE username = ?", (username,)).fetchone()
                if row is None:
                    raise UserNotFound(username)
                self._db.execute(sql, (*params, username))
                self._note(username, row[0], action, detail, actor, reason)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _note(self, username: str, user_id: str, action: str, detail: str, actor: str, reason: str) -> None:
        self._db.execute(
            "INSERT INTO user_changes (username, user_id, action, detail, actor, reason, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, user_id, action, detail, actor, reason, int(time.time())),
        )

    def disabled_user_ids(self) -> frozenset[str]:
        with self._lock:
            rows = self._db.execute("SELECT user_id FROM users WHERE disabled = 1").fetchall()
        return frozenset(r[0] for r in rows)

    def seed_demo_users(self, *, scrypt_n: int = 2**14) -> builtins.list[str]:
        """Create the demo desk users that do not exist yet; returns the names created."""
        created = []
        for username, password, role in DEMO_USERS:
            if self.get(username) is None:
                try:
                    self.add(username, password, role, demo=True, scrypt_n=scrypt_n)
                    created.append(username)
                except UserExists:  # created concurrently
                    pass
        return created
