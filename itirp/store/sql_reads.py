"""The reads both SQL backends answer the same way: each is one job a reader thread runs on its
own connection, never past the committed head (reads never run ahead of the commit listeners).

A backend names its jobs (`ReadJobs`: the driver's SQL differs) and how a job reaches a reader
(`_call_reader`: its threads, its driver's errors turned into `StoreError`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from itirp.store.base import EventQuery
from itirp.store.group_commit import GroupCommitStore
from itirp.store.records import StoredEvent, VerifyResult

__all__ = ["ReadJobs", "SqlReads"]


@dataclass(frozen=True, slots=True)
class ReadJobs:
    """A backend's reader jobs: `read(conn, after, head, limit)`, `query(conn, sql, args)`,
    `hashes_at(conn, sequences)`, `verify(conn, head)`, the SQL of a query page, and the limit
    that means "no limit" to its `read`."""

    read: Callable[..., list[StoredEvent]]
    query: Callable[..., list[StoredEvent]]
    hashes_at: Callable[..., dict[int, str]]
    verify: Callable[..., VerifyResult]
    build_query: Callable[[EventQuery, int, int], tuple[str, list[Any]]]
    no_limit: int | None


class SqlReads(GroupCommitStore):
    """`read`, `query`, `hashes_at` and `verify` of a SQL backend, from its `JOBS`."""

    JOBS: ClassVar[ReadJobs]

    async def _call_reader(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    async def read(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        n = self.JOBS.no_limit if limit is None else max(limit, 0)
        result: list[StoredEvent] = await self._call_reader(self.JOBS.read, after, self._head_seq, n)
        return result

    async def query(self, *, filter: EventQuery, limit: int) -> list[StoredEvent]:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        sql, args = self.JOBS.build_query(filter, limit, self._head_seq)
        result: list[StoredEvent] = await self._call_reader(self.JOBS.query, sql, args)
        return result

    async def hashes_at(self, sequences: list[int]) -> dict[int, str]:
        """The stored hash at each of `sequences` that is committed (a missing row is left out):
        what signed checkpoints are checked against, after `verify` has walked the chain."""
        head = self._head_seq
        wanted = sorted({s for s in sequences if 0 < s <= head})
        result: dict[int, str] = await self._call_reader(self.JOBS.hashes_at, wanted)
        return result

    async def verify(self) -> VerifyResult:
        head_seq, head_hash = self._head_seq, self._head_hash
        result: VerifyResult = await self._call_reader(self.JOBS.verify, head_seq)
        return self._verify_against_head(result, head_seq, head_hash)
