"""A node's role on the PostgreSQL event store: lead, or stand by and take over.

Why this shape:
- Leadership is a lease in the database (`itirp.store.lease`), timed by the database's clock only,
  with a fencing token: the term. The leader's store appends under its term, and a commit made after
  a newer term began fails in the database itself (`FencedError`). So safety never rests on this
  module's timing: a leader paused, partitioned or slow cannot append a single event once another
  node took over, whatever it believes. This module only decides *when* to try.
- One loop per node: the leader's every third of a lease, a standby's every poll of the log (at
  most a third of a lease). The leader renews; a renewal refused (someone else
  holds a newer term) or impossible for a whole lease steps it down. A standby reads who leads
  (named in its NOT_LEADER answers) and, once the lease has lapsed, takes it: the new term, then
  the log read to its end (`promote`), then the leader's work (`Duties.lead`). A node that stepped
  down stays down (NOT_SERVING, appending nothing): restarted, it rejoins as a standby.
- What leading means (start executions, record checkpoints and marks, sync users) and what the
  outside sees (health, streams) belong to the application and the server; they come in through
  `Duties`. No grpc here.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from itirp.store.errors import LeaderInfo, StoreError

__all__ = ["Duties", "Leadership", "NodeStatus", "Role"]

log = logging.getLogger("itirp.server")


class Role(enum.StrEnum):
    SINGLE = "single"
    LEADER = "leader"
    STANDBY = "standby"
    STEPPED_DOWN = "stepped_down"


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What `GetSystemInfo` and NOT_LEADER answers say about this node and its leader."""

    node_id: str
    role: Role
    term: int = 0
    leader_node_id: str = ""
    leader_address: str = ""


class Lease(Protocol):
    async def current(self) -> LeaderInfo | None: ...

    async def acquire(self) -> int | None: ...

    async def renew(self, term: int) -> bool: ...

    async def release(self, term: int) -> None: ...

    async def close(self) -> None: ...


class FollowingStore(Protocol):
    leader_hint: LeaderInfo | None

    def start_following(self) -> None: ...

    async def stop_following(self) -> None: ...

    async def promote(self, term: int) -> None: ...


class Duties(Protocol):
    async def lead(self, term: int, previous: LeaderInfo | None) -> None:
        """Start the leader's work under `term` (the log is read to its end already)."""

    async def step_down(self, why: str) -> None:
        """Stop everything that could append, end the streams with their resume point."""

    def role_changed(self, status: NodeStatus) -> None:
        """Told of every change of role (health, logs)."""


class Leadership:
    """Runs the lease loop of one node; see the module docstring."""

    def __init__(
        self,
        store: FollowingStore,
        lease: Lease,
        duties: Duties,
        *,
        node_id: str,
        address: str,
        lease_seconds: float,
        look_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._lease = lease
        self._duties = duties
        self._node_id = node_id
        self._address = address
        self._lease_seconds = lease_seconds
        self._look_seconds = lease_seconds / 3 if look_seconds is None else look_seconds
        self._monotonic = monotonic
        self._status = NodeStatus(node_id, Role.STANDBY)
        self._task: asyncio.Task[None] | None = None
        self._renewed_at = 0.0
        self._changing = asyncio.Lock()
        self._following = False
        self._term = 0  # the term this node appends under (0: none)
        self._leading_task: asyncio.Task[None] | None = None

    @property
    def status(self) -> NodeStatus:
        return self._status

    @property
    def leading(self) -> bool:
        """Whether this node takes client commands: it leads, and its leader's work has started."""
        return self._status.role is Role.LEADER

    @property
    def term(self) -> int:
        """The term this node appends under (0: none)."""
        return self._term

    @property
    def appending(self) -> bool:
        """Whether this node appends under a term of its own (from its promotion, while it starts
        the leader's work, until it steps down)."""
        return self._term != 0

    async def start(self) -> None:
        """Take the lease if it is free (then lead before returning), else follow the leader."""
        previous = await self._lease.current()
        term = await self._lease.acquire() if previous is None or not previous.valid else None
        self._task = asyncio.create_task(self._run(), name="itirp-leadership")  # renews while we start
        if term is not None:
            await self._take_over(term, previous)
            if self._leading_task is not None:
                await self._leading_task
        else:
            self._follow(previous)

    async def stop(self) -> None:
        """Stop the loop (and a takeover under way). The lease itself is released by `release`,
        once the log is closed."""
        for task in (self._leading_task, self._task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._leading_task = None

    async def release(self) -> None:
        """A clean stop: give the lease up at once, so that a standby takes over now rather than a
        lease later. Called after the log is closed: nothing more is appended under this term."""
        try:
            if self._term:
                await self._lease.release(self._term)
        except Exception:  # the lease then lapses by itself
            log.warning("could not release the lease; a standby takes over when it lapses", exc_info=True)
        finally:
            await self._lease.close()

    def store_failed(self, error: StoreError) -> None:
        """The store failed (fenced by a newer term, or the database lost): a leader steps down.
        On the loop thread."""
        if self._term:
            asyncio.get_running_loop().create_task(self._step_down(f"the event log refused a commit: {error}"))

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        renew_every = self._lease_seconds / 3
        while True:
            # a standby looks as often as it polls the log: a lease released by a clean stop is
            # taken within a poll, not a third of a lease
            await asyncio.sleep(renew_every if self._term else min(renew_every, self._look_seconds))
            try:
                if self._term:
                    await self._renew()
                elif self._status.role is Role.STANDBY:
                    await self._watch()
                else:  # stepped down: keep naming the leader in NOT_LEADER answers, never take over
                    self._store.leader_hint = await self._lease.current()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be unreachable for a while: try again next round
                log.warning("leadership: the database could not be reached", exc_info=True)
                if self._term and self._monotonic() - self._renewed_at > self._lease_seconds:
                    await self._step_down("the lease could not be renewed for a whole lease")

    async def _renew(self) -> None:
        if await self._lease.renew(self._term):
            self._renewed_at = self._monotonic()
        else:
            await self._step_down("another node holds a newer term")

    async def _watch(self) -> None:
        leader = await self._lease.current()
        if leader is not None and leader.valid:
            self._follow(leader)
            return
        term = await self._lease.acquire()
        if term is not None:
            await self._take_over(term, leader)

    # ------------------------------------------------------------------ changes of role

    def _follow(self, leader: LeaderInfo | None) -> None:
        self._store.leader_hint = leader
        status = NodeStatus(
            self._node_id,
            Role.STANDBY,
            leader.term if leader else 0,
            leader.node_id if leader else "",
            leader.address if leader else "",
        )
        if not self._following:
            self._following = True
            self._store.start_following()
        if status != self._status:
            if self._status.leader_node_id != status.leader_node_id or self._status.term != status.term:
                log.info("standing by", extra={"leader": status.leader_node_id, "term": status.term})
            self._set(status)

    async def _take_over(self, term: int, previous: LeaderInfo | None) -> None:
        """The log read to its end and this node appending under `term`; the leader's work is then
        started in a task of its own, so that the loop renews the lease meanwhile (starting it
        reconciles executions with the venue, which may take a while). Client commands are taken
        only once it has started (`leading`)."""
        async with self._changing:
            log.info("took the lease: reading the log to its end", extra={"term": term})
            self._renewed_at = self._monotonic()
            try:
                await self._store.promote(term)
            except Exception as exc:
                log.exception("the takeover failed")
                await self._step_down_locked(f"the takeover failed: {exc}")
                return
            self._term = term
            self._leading_task = asyncio.create_task(self._lead(term, previous), name="itirp-takeover")

    async def _lead(self, term: int, previous: LeaderInfo | None) -> None:
        try:
            await self._duties.lead(term, previous)
        except Exception as exc:
            log.exception("the takeover failed")
            await self._step_down(f"the takeover failed: {exc}")
            return
        async with self._changing:
            if self._status.role is Role.STEPPED_DOWN:
                return
            self._set(NodeStatus(self._node_id, Role.LEADER, term, self._node_id, self._address))
        log.info("leading", extra={"term": term, "previous_node": previous.node_id if previous else ""})

    async def _step_down(self, why: str) -> None:
        async with self._changing:
            await self._step_down_locked(why)

    async def _step_down_locked(self, why: str) -> None:
        if self._status.role is Role.STEPPED_DOWN:
            return
        term, self._term = self._term, 0
        log.error("stepping down: this node appends nothing more", extra={"why": why, "term": term})
        with contextlib.suppress(Exception):  # refusals name the new leader at once when it is known
            self._store.leader_hint = await self._lease.current()
        self._set(NodeStatus(self._node_id, Role.STEPPED_DOWN, term))
        await self._duties.step_down(why)

    def _set(self, status: NodeStatus) -> None:
        self._status = status
        self._duties.role_changed(status)
