"""What a node does as the one that appends, and how a standby keeps its state warm.

- `LeaderWork`: the work only the appending node does: signed checkpoints, the users.db changes
  recorded, executions started (those in flight reconciled with the venue, as after a restart;
  client commands are taken from then on), the instrument file listed, the demo desk seeded, the
  market data feed and its marks. A single
  node (SQLite) starts it at once; on PostgreSQL, the node that takes the lease starts it after
  reading the log to its end, and a node that steps down stops what could still append.
- `Follower`: a standby folds every event its store follows from the leader's log into the same
  state the replay built (the core, authentication), before any other listener of the batch hears
  of it (market data, streams): the standby's reads and streams are those of the leader, one poll
  or notification behind. The leader itself folds its events as it makes them, so the follower is
  switched off on taking over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from itirp.app.checkpointing import Checkpointer, CheckpointFiles
from itirp.app.feed import QuoteBoard
from itirp.app.feed_recorder import MarkRecorder, RunningFeed, open_feed
from itirp.app.leadership import Duties, FollowingStore, Leadership, Lease, NodeStatus, Role
from itirp.config import Config, ConfigError
from itirp.domain.instrument_lists import DEMO_INSTRUMENTS, InstrumentListError, parse_instruments_csv
from itirp.execution.venue import SimulatedVenue
from itirp.store import StoredEvent, StoreError
from itirp.store.errors import LeaderInfo, NotLeaderError

if TYPE_CHECKING:
    from itirp.app.accounts import AccountService
    from itirp.app.application import LogStore, TradingParts
    from itirp.app.reference import ReferenceService
    from itirp.auth.service import AuthService
    from itirp.core.journal import Journal

__all__ = ["Follower", "LeaderWork", "Node"]

log = logging.getLogger("itirp.server")

Applier = Callable[[StoredEvent], None]


@dataclass(eq=False)
class Follower:
    """A commit listener that folds followed batches into the state while `active`."""

    active: bool = False
    appliers: Sequence[Applier] = ()
    batch_appliers: Sequence[Callable[[Sequence[StoredEvent]], None]] = ()

    def __call__(self, batch: list[StoredEvent]) -> None:
        if not self.active:
            return
        for event in batch:
            for apply in self.appliers:
                apply(event)
        for apply_batch in self.batch_appliers:
            apply_batch(batch)


@dataclass(eq=False)
class LeaderWork:
    """See the module docstring. `start` once; `stop_feed` and `stop_checkpointer` are registered
    on the application's clean-ups where they must run (the feed first, the last checkpoint just
    before the log closes) and do nothing when nothing was started."""

    config: Config
    parts: TradingParts
    auth: AuthService
    reference: ReferenceService
    accounts: AccountService
    store: LogStore
    journal: Journal
    checkpoints: CheckpointFiles
    clock: Callable[[], float]
    checkpointer: Checkpointer | None = field(default=None, init=False)
    feed: RunningFeed | None = field(default=None, init=False)
    started: bool = field(default=False, init=False)

    async def start(self, opened: Callable[[], None] | None = None) -> None:
        """Start it; `opened` is called once executions are started (and those in flight
        reconciled), when client commands may come in."""
        self.started = True
        config = self.config
        if not config.read_only:
            self.checkpointer = Checkpointer(
                self.store,
                self.journal,
                self.checkpoints,
                interval=config.store.checkpoint_seconds,
                clock_us=lambda: int(self.clock() * 1_000_000),
            )
            await self.checkpointer.start()
        await self.auth.sync_users()
        await self.parts.trading.start()
        if opened is not None:
            opened()
        await _list_instruments(config, self.reference)
        if config.auth.demo_users:
            await self.accounts.seed_demo()
        await self._start_feed()

    async def stop_feed(self) -> None:
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.stop()

    async def stop_checkpointer(self) -> None:
        checkpointer, self.checkpointer = self.checkpointer, None
        if checkpointer is not None:
            await checkpointer.stop()

    async def _start_feed(self) -> None:
        """The market data feed and its mark recorder (nothing on a read-only server, which records
        nothing): a submit records the feed's price it uses."""
        config, parts = self.config, self.parts
        feed = None if config.read_only else await open_feed(config.feed, parts.core.queries, clock=self.clock)
        if feed is None:
            return
        board = QuoteBoard()
        recorder = MarkRecorder(
            parts.core.reference,
            parts.core.queries,
            board,
            parts.trading.sink.durable,
            interval_seconds=config.feed.mark_interval_seconds,
            clock=self.clock,
        )
        self.feed = RunningFeed(feed, recorder, board)
        self.feed.start()
        parts.trading.prices = board.latest
        venue = parts.executor.venue
        if isinstance(venue, SimulatedVenue) and venue.prices is None:
            venue.prices = board.latest  # the simulated market trades at the feed's quotes


async def _list_instruments(config: Config, reference: ReferenceService) -> None:
    """The instrument file's instruments (listed or changed where they differ), then the demo
    desk's list when nothing is listed at all and the config asks for it."""
    path = config.reference.instruments_file
    if path:
        try:
            text = await asyncio.to_thread(Path(path).read_text)
        except OSError as exc:
            raise ConfigError(f"cannot read the instruments file {path}: {exc}") from None
        try:
            instruments = parse_instruments_csv(text)
        except InstrumentListError as exc:
            raise ConfigError(f"the instruments file {path}: {exc}") from None
        await reference.list_at_start(instruments, reason=f"listed from {Path(path).name} at start")
    if config.reference.demo_instruments and not reference.queries.instruments():
        await reference.list_at_start(DEMO_INSTRUMENTS, reason="the demo desk's instruments")


class Node:
    """This node's place: the only one (SQLite), or one of several on PostgreSQL with its lease
    loop (`Leadership`), started by `take_role` once the server listens."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.replicated = config.store.kind == "postgres"
        _, port = config.host_port
        self.node_id = config.ha.node_id or f"{socket.gethostname()}:{port or os.getpid()}"
        self.follower = Follower()
        self.leadership: Leadership | None = None
        #: Where terminals reach this node (`ha.advertise`, else the address it listens on).
        self.address = ""
        self._commands_open = False
        #: The leader's work, once the application built it.
        self.work: LeaderWork | None = None

    def appends(self) -> bool:
        """Whether this node records events of its own now (a standby records nothing)."""
        return not self.replicated or (self.leadership is not None and self.leadership.appending)

    def gate(self) -> StoreError | None:
        """A node taking over appends (its election, its leader's work) but takes client commands
        only once its executions are started and those in flight reconciled: until then they are
        refused NOT_LEADER naming this node, which the client tries again in a moment."""
        leadership = self.leadership
        if leadership is None or self._commands_open or not leadership.appending:
            return None
        term = leadership.term
        here = LeaderInfo(term, self.node_id, self.address, 0.0, True)
        return NotLeaderError(f"this node is taking over the log (term {term}): try again in a moment", leader=here)

    @property
    def status(self) -> NodeStatus:
        if self.leadership is None:
            return NodeStatus(self.node_id, Role.SINGLE if not self.replicated else Role.STANDBY)
        return self.leadership.status

    def open_commands(self) -> None:
        """The leader's executions are started: client commands may come in (`gate`)."""
        self._commands_open = True

    async def take_role(self, store: FollowingStore, lease: Lease, duties: Duties, address: str) -> None:
        """Lead (the lease is free) or stand by, following the leader's log."""
        self.follower.active = True
        self.address = address
        self.leadership = Leadership(
            store,
            lease,
            duties,
            node_id=self.node_id,
            address=address,
            lease_seconds=self.config.ha.lease_seconds,
            look_seconds=self.config.ha.poll_seconds,
        )
        await self.leadership.start()

    def store_failed(self, error: StoreError) -> None:
        if self.leadership is not None:
            self.leadership.store_failed(error)

    async def stop_checkpointer(self) -> None:
        """The last checkpoint of a clean stop (see `LeaderWork.stop_checkpointer`)."""
        if self.work is not None:
            await self.work.stop_checkpointer()

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()

    async def release(self) -> None:
        if self.leadership is not None:
            await self.leadership.release()
