"""The writer's lease on a shared PostgreSQL event store: who may write, under which term.

Why this shape:
- One row (`itirp_leader`) with a term that grows by one per takeover: the term is the fencing
  token every commit checks (`itirp.store.postgres`), so a leader that lost the lease cannot
  append even if it never noticed.
- Only the database's clock (`now()`) decides expiry, never a node's: nodes' clocks may disagree,
  the database is the one place they all ask.
- A takeover first terminates the backends of other nodes' writers (their connections are named
  `itirp-writer:<node>:<term>`). A leader paused in the middle of a commit holds the lease row
  `FOR SHARE`; without this the takeover's UPDATE would wait for it forever. Its unfinished
  transaction was never acknowledged, so rolling it back loses nothing.
- The lease runs on its own connection in its own thread: renewals never queue behind event
  writes.
"""

from __future__ import annotations

import functools
from typing import Any

import psycopg

from itirp.store.errors import LeaderInfo, StoreError
from itirp.store.postgres import broken
from itirp.store.workers import Worker

__all__ = ["LeaderInfo", "PostgresLease"]

_Conn = psycopg.Connection[Any]

_ACQUIRE_KEY = 0x1717_4C45_4153  # pg_advisory_xact_lock key of acquirers ("ITIRP LEAS")
_CURRENT = """SELECT term, node_id, address, extract(epoch FROM expires_at - now())::float8,
    expires_at > now() FROM itirp_leader"""
_TERMINATE = """SELECT count(pg_terminate_backend(pid, 2000)) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND application_name LIKE 'itirp-writer:%%' AND application_name NOT LIKE %s"""
_TAKE = """UPDATE itirp_leader SET term = term + 1, node_id = %s, address = %s,
    expires_at = now() + make_interval(secs => %s), acquired_at = now()
    WHERE expires_at < now() RETURNING term"""
_FIRST = """INSERT INTO itirp_leader (term, node_id, address, expires_at, acquired_at)
    VALUES (1, %s, %s, now() + make_interval(secs => %s), now())
    ON CONFLICT (singleton) DO NOTHING RETURNING term"""


def _info(row: tuple[Any, ...] | None) -> LeaderInfo | None:
    if row is None:
        return None
    return LeaderInfo(
        term=int(row[0]), node_id=str(row[1]), address=str(row[2]),
        expires_in=float(row[3]), valid=bool(row[4]),
    )  # fmt: skip


def _current(conn: _Conn) -> LeaderInfo | None:
    return _info(conn.execute(_CURRENT).fetchone())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _acquire(conn: _Conn, node_id: str, address: str, ttl: float) -> int | None:
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '5s'")
        # Acquirers queue here, not on the row (a paused writer may hold it FOR SHARE): the second
        # of two racing nodes then sees the first one's fresh lease, and terminates nobody.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ACQUIRE_KEY,))
        holder = _current(conn)
        if holder is not None and holder.valid:
            return None
        conn.execute(_TERMINATE, (f"itirp-writer:{_like_escape(node_id)}:%",))
        sql, args = (_FIRST, (node_id, address, ttl)) if holder is None else (
            _TAKE, (node_id, address, ttl)
        )
        row = conn.execute(sql, args).fetchone()
        return None if row is None else int(row[0])


def _renew(conn: _Conn, term: int, node_id: str, ttl: float) -> bool:
    row = conn.execute(
        "UPDATE itirp_leader SET expires_at = now() + make_interval(secs => %s) "
        "WHERE term = %s AND node_id = %s RETURNING term",
        (ttl, term, node_id),
    ).fetchone()
    return row is not None


def _release(conn: _Conn, term: int, node_id: str) -> bool:
    row = conn.execute(
        "UPDATE itirp_leader SET expires_at = now() WHERE term = %s AND node_id = %s RETURNING term",
        (term, node_id),
    ).fetchone()
    return row is not None


def _connect(url: str, node_id: str) -> _Conn:
    return psycopg.connect(
        url, autocommit=True, connect_timeout=10, application_name=f"itirp-lease:{node_id}"
    )


class PostgresLease:
    """The writer's lease, for one node; see the module docstring. The schema must exist (a
    `PostgresEventStore` opened on the database creates it)."""

    def __init__(self, url: str, *, node_id: str, address: str, ttl_seconds: float = 5.0) -> None:
        if not node_id:
            raise ValueError("node_id is required")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be > 0")
        self.url = url
        self.node_id = node_id
        self.address = address
        self.ttl_seconds = ttl_seconds
        self._worker: Worker[_Conn] | None = None

    async def _call(self, fn: Any, *args: Any, again: bool = False) -> Any:
        if self._worker is None:
            connect = functools.partial(_connect, self.url, self.node_id)
            self._worker = Worker("itirp-pg-lease", connect, 1, broken=broken)
        try:
            return await self._worker.call(fn, *args, again=again)
        except psycopg.Error as exc:
            raise StoreError(f"lease: {exc}") from exc

    async def current(self) -> LeaderInfo | None:
        """The lease as the database sees it now, or None when nobody ever held it."""
        info: LeaderInfo | None = await self._call(_current, again=True)
        return info

    async def acquire(self) -> int | None:
        """Take the lease when nobody holds a valid one: the new term, else None.

        Terminates the backends of other nodes' writers first (see the module docstring). Raises
        StoreError when the database cannot be reached or a lock is not granted in 5 s."""
        term: int | None = await self._call(_acquire, self.node_id, self.address, self.ttl_seconds)
        return term

    async def renew(self, term: int) -> bool:
        """Extend the lease by the ttl; False when it is no longer this node's under `term`."""
        ok: bool = await self._call(_renew, term, self.node_id, self.ttl_seconds, again=True)  # idempotent
        return ok

    async def release(self, term: int) -> None:
        """A clean stop: expire the lease now, so that a standby takes over at once."""
        await self._call(_release, term, self.node_id)

    async def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.stop()
