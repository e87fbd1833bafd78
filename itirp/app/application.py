"""The application: everything the server serves, built in one place and closed in reverse.

`open_application(config)` opens the event store and verifies its hash chain (a tampered log
stops the start unless the config says read-only: then the replay skips, and reports, the events
it cannot fold, and nothing at all is written in the data folder), builds the journal, the
fan-out, the trading core and service with their executor, the market data hub and auth,
rebuilds their state by replaying the log, lists the instruments (and, with demo users on, seeds
the demo desk's accounts once: `itirp.app.accounts`), and starts them. Each step registers its clean-up on
one `AsyncExitStack` as soon as it has something to clean up, so a failure part-way closes
exactly what was opened, in reverse. `Application.aclose(grace)` runs the same clean-ups at
shutdown: executions drained (within `grace`), auth stopped, fan-out and market data detached,
the store closed last.

No grpc here: `itirp.server.bootstrap` wraps an `Application` in the gRPC edge.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from itirp.app.accounts import AccountService
from itirp.app.checkpointing import CheckpointFiles, open_checkpoint_files, verify_log
from itirp.app.fanout import EventFanout
from itirp.app.leadership import NodeStatus
from itirp.app.marketdata import MarketDataHub
from itirp.app.node import LeaderWork, Node
from itirp.app.order_history import MOMENTS_KEPT
from itirp.app.reference import ReferenceService
from itirp.app.replay import Unfolded, replay
from itirp.app.sessions import OrderEntrySessions
from itirp.app.sink import StoreSink
from itirp.app.throttles import Throttles
from itirp.app.trading import TradingService
from itirp.auth.service import AuthService, load_or_create_secret
from itirp.auth.state import AuthState
from itirp.auth.tokens import TokenCodec
from itirp.auth.users import UserStore
from itirp.config import Config, ConfigError
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.breaker import CircuitBreaker
from itirp.domain.controls import Settings
from itirp.execution.executor import Executor
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import SimulatedVenue, Venue
from itirp.observability.metrics import ServerMetrics
from itirp.page_tokens import page_token_key
from itirp.store import SqliteEventStore, StoreError, TamperedLogError, VerifyResult
from itirp.store.errors import LeaderInfo
from itirp.v1 import events_pb2

if TYPE_CHECKING:
    from typing import TypeAlias

    from itirp.store.postgres import PostgresEventStore

    #: The event log of a node: one SQLite file, or PostgreSQL (a leader and standbys).
    LogStore: TypeAlias = SqliteEventStore | PostgresEventStore

__all__ = ["Application", "TradingParts", "build_trading", "open_application", "open_event_store"]

log = logging.getLogger("itirp.server")

Clock = Callable[[], float]


@dataclass(eq=False)
class _Closing:
    """Clean-ups, and the grace period the executions get when they run (0: a failed start)."""

    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    grace: float = 0.0


@dataclass(eq=False)
class Application:
    """The opened, replayed and started application. Close it with `aclose(grace)`."""

    config: Config
    store: LogStore
    journal: Journal
    fanout: EventFanout
    core: Sequencer
    executor: Executor
    trading: TradingService
    market_data: MarketDataHub
    auth: AuthService
    reference: ReferenceService
    accounts: AccountService
    metrics: ServerMetrics | None
    checkpoints: CheckpointFiles
    #: The open order-entry sessions.
    sessions: OrderEntrySessions
    _closing: _Closing = field(repr=False)
    #: The key of page tokens (`itirp.page_tokens`), derived from the token secret with its own label.
    page_token_key: bytes = field(default=b"", repr=False)
    #: Events the replay could not fold (a read-only server on a damaged log), in order.
    unfolded: tuple[Unfolded, ...] = ()
    #: This node's place: the only one, or a leader or standby on PostgreSQL.
    node: Node | None = field(default=None, repr=False)
    #: The work only the appending node does (`itirp.app.node.LeaderWork`).
    work: LeaderWork | None = field(default=None, repr=False)

    @property
    def status(self) -> NodeStatus:
        """This node's role, term and leader (GetSystemInfo, NOT_LEADER answers)."""
        assert self.node is not None
        return self.node.status

    async def take_role(self, address: str, on_role: Callable[[NodeStatus], None]) -> None:
        """On PostgreSQL: take the lease and lead, or stand by (`itirp.app.leadership`); `on_role`
        hears of every change of role (the server's health). One node (SQLite): nothing to do."""
        assert self.node is not None
        if not self.node.replicated:
            return
        from itirp.store.lease import PostgresLease
        from itirp.store.postgres import PostgresEventStore

        assert isinstance(self.store, PostgresEventStore)
        assert self.config.store.database_url is not None
        lease = PostgresLease(
            self.config.store.database_url.value,
            node_id=self.node.node_id,
            address=self.config.ha.advertise or address,
            ttl_seconds=self.config.ha.lease_seconds,
        )
        await self.node.take_role(self.store, lease, _Duties(self, on_role), self.config.ha.advertise or address)

    async def verify_log(self) -> VerifyResult:
        """The hash chain and the signed checkpoints (VerifyAuditLog)."""
        return await verify_log(self.store, self.checkpoints)

    def end_streams(self, reason: str) -> None:
        """Streams never end by themselves: end every order, audit and market data stream with
        its resume point, so that clients reconnect and lose nothing; and every order-entry
        session (closed as cut: cancel-on-disconnect applies)."""
        self.fanout.end_streams(reason)
        self.market_data.end_streams(reason)
        self.sessions.cut_all()

    async def aclose(self, grace: float = 0.0) -> None:
        """Executions in flight get `grace` seconds; then auth, fan-out, market data, the store.
        A second call does nothing."""
        self._closing.grace = grace
        await self._closing.stack.aclose()


async def open_event_store(
    config: Config,
    on_failure: Callable[[StoreError], None] | None = None,
    checkpoints: CheckpointFiles | None = None,
    *,
    node_id: str = "",
) -> LogStore:
    """Open `events.db` and verify its chain and its signed checkpoints (`checkpoints`, else those
    of the config). A broken chain, a log that ends before its latest checkpoint or differs from
    one raises `TamperedLogError` naming the first bad sequence, unless the config says read-only
    (then the store refuses appends)."""
    path = config.data_dir / "events.db"
    where = str(path)
    files = checkpoints or open_checkpoint_files(config)
    store: LogStore
    if config.store.kind == "postgres":
        from itirp.store.postgres import PostgresEventStore

        url = config.store.database_url
        assert url is not None  # the config refuses postgres without one
        where = "on PostgreSQL"
        store = PostgresEventStore(
            url.value, on_failure=on_failure, node_id=node_id, poll_seconds=config.ha.poll_seconds
        )
        await store.open()
    elif config.read_only:
        if not await asyncio.to_thread(path.is_file):
            raise StoreError(
                f"no event log in {config.data_dir} ({path.name} is missing): --read-only investigates an existing "
                "log and creates nothing; check --data-dir, or start without --read-only to begin a new log"
            )
        store = await SqliteEventStore.open_read_only(path)
    else:
        store = SqliteEventStore(path, on_failure=on_failure)
        await store.open()
    try:
        result = await verify_log(store, files)
    except BaseException:
        await store.close()
        raise
    if not result.ok:
        if not config.read_only:
            await store.close()
            raise TamperedLogError(
                result.first_bad_sequence,
                f"the event log {where} does not verify: {result.message}. Refusing to start; "
                "start with --read-only to investigate",
            )
        log.error("the event log does not verify; serving read-only", extra={"problem": result.message})
    log.info(
        "event log verified" if result.ok else "event log opened read-only",
        extra={"events": result.events_checked, "head_sequence": store.head_sequence},
    )
    return store


async def _rebuild(config: Config, store: LogStore, parts: TradingParts) -> tuple[AuthState, list[Unfolded] | None]:
    """Replay the log into the core and a new authentication state (tolerantly when read-only)."""
    auth_state = AuthState(max_failed_logins=config.auth.max_failed_logins, lockout_seconds=config.auth.lockout_seconds)
    unfolded: list[Unfolded] | None = [] if config.read_only else None
    replayed = await replay(store, [auth_state.apply, parts.core.apply], unfolded=unfolded)
    parts.core.state.keep_moments(MOMENTS_KEPT)  # live events only: what order streams show
    log.info("state rebuilt from the event log", extra={"events": replayed, "orders": parts.core.queries.total_orders})
    _report_unfolded(unfolded or [])
    return auth_state, unfolded


async def open_application(
    config: Config,
    *,
    clock: Clock = time.time,
    venue: Venue | None = None,
    on_store_failure: Callable[[StoreError], None] | None = None,
) -> Application:
    """Open, verify, replay and start (see the module docstring). `venue` replaces the simulated
    venue the config describes (tests hold or fail executions with it); `on_store_failure` hears
    of a failed append, possibly from another thread (the server turns health NOT_SERVING).

    On PostgreSQL the node opens as a standby: `Application.take_role` (once the server listens)
    takes the lease and leads, or follows the leader."""
    if not config.read_only:  # read-only: nothing created, not even the folder
        config.data_dir.mkdir(parents=True, exist_ok=True)
    closing = _Closing()
    released: list[StoreSink] = []  # durability waiters, released on a store failure
    node = Node(config)
    async with AsyncExitStack() as stack:
        checkpoints = open_checkpoint_files(config)
        failure = _failure_handler(released, on_store_failure, node)
        store = await open_event_store(config, failure, checkpoints, node_id=node.node_id)
        stack.push_async_callback(node.release)  # after the log is closed: a standby takes over at once
        stack.push_async_callback(store.close)
        # the last checkpoint is signed right before the log closes, after everything else stopped
        stack.push_async_callback(node.stop_checkpointer)
        if node.replicated:  # first of the listeners: a standby's state takes each followed batch first
            store.add_listener(node.follower)
        journal = Journal(clock_us=_micros(clock))
        fanout = EventFanout(store, max_queue=config.streams.subscriber_queue)
        gate = node.gate if node.replicated else None  # one node: nothing to check per command
        parts = build_trading(config, journal, store, clock=clock, venue=venue, gate=gate)
        released.append(parts.trading.sink)
        stack.callback(parts.trading.sink.close)
        # Book changes reach market data once their events are durable (those seen during the
        # replay are durable already). Set before the replay, which rebuilds the books.
        store.add_listener(parts.market_data.on_commit)
        stack.callback(_detach_market_data, store, parts.market_data)
        stack.callback(fanout.close)

        auth_state, unfolded = await _rebuild(config, store, parts)

        secret = _token_secret(config)
        auth = _auth_service(config, journal, store, auth_state, clock, secret, leading=node.appends)
        stack.push_async_callback(auth.stop)
        node.follower.appliers, node.follower.batch_appliers = (parts.core.apply,), (auth.followed,)
        await auth.start()
        reference = ReferenceService(parts.core, parts.trading.sink.durable, clock=clock, read_only=config.read_only)
        accounts = AccountService(parts.core, parts.trading, auth.find_user, read_only=config.read_only)
        node.work = work = LeaderWork(config, parts, auth, reference, accounts, store, journal, checkpoints, clock)

        store.add_listener(TradingService.log_order_events)
        metrics: ServerMetrics | None = None
        if config.metrics.listen:
            metrics = ServerMetrics(
                core=parts.core.queries, store=store, fanout=fanout, submit_latency=parts.trading.submit_latency
            )
            store.add_listener(metrics.on_commit)
        stack.push_async_callback(_stop_trading, parts.trading, closing)
        sessions = OrderEntrySessions(parts.trading)
        stack.push_async_callback(sessions.stop)  # before the executor drains: their cancels go out
        stack.push_async_callback(work.stop_feed)  # the feed stops first; before it, the lease loop
        stack.push_async_callback(node.stop)
        if not node.replicated:
            await work.start()  # one node (SQLite): it leads from the start
        closing.stack = stack.pop_all()
    return Application(
        config, store, journal, fanout, parts.core, parts.executor, parts.trading, parts.market_data, auth,
        reference, accounts, metrics, checkpoints, sessions, closing,
        page_token_key=page_token_key(secret), unfolded=tuple(unfolded or ()), node=node, work=work,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------
# The trading core, the trading service (with its executor) and the market data hub: built here,
# and only here. Their constructors are being reshaped; adapt this function when they change.


@dataclass(frozen=True, slots=True)
class TradingParts:
    core: Sequencer
    executor: Executor
    trading: TradingService
    market_data: MarketDataHub


def build_trading(
    config: Config,
    journal: Journal,
    store: LogStore,
    *,
    clock: Clock,
    venue: Venue | None,
    gate: Callable[[], StoreError | None] | None = None,
) -> TradingParts:
    """Construct, wire nothing outside themselves, start nothing: the caller registers the hub's
    commit listener and replays the log into the core."""
    execution = config.execution
    sink = StoreSink(store)
    core = Sequencer(
        journal,
        sink,
        breaker=CircuitBreaker(threshold=execution.breaker_threshold, open_seconds=execution.breaker_open_seconds),
        venue=config.venue.kind,
        max_order_quantity=config.orders.max_quantity,
        settings=Settings(
            duplicate_window_us=config.orders.duplicate_window_ms * 1000,
            execution_throttle_fills=config.orders.execution_throttle_fills,
            execution_throttle_window_us=int(config.orders.execution_throttle_seconds * 1_000_000),
        ),
    )
    market_data = MarketDataHub(lambda: store.head_sequence)
    core.matching.on_book_change = market_data.record
    executor = Executor(
        core,
        venue
        or SimulatedVenue(
            latency_seconds=config.venue.latency_seconds,
            failure_rate=config.venue.failure_rate,
            seed=config.venue.seed,
            depth=config.venue.depth,
            match_seconds=config.venue.match_seconds,
        ),
        RetryPolicy(
            attempts=execution.attempts,
            base_delay=execution.retry_base_delay_seconds,
            attempt_timeout=execution.attempt_timeout_seconds,
        ),
        durable=sink.durable,
        clock_us=_micros(clock),
        rng=random.Random(config.venue.seed),
        max_in_flight=execution.max_in_flight,
        reconcile_seconds=execution.reconcile_seconds,
    )
    trading = TradingService(
        core,
        executor,
        sink,
        clock=clock,
        read_only=config.read_only,
        reconcile_timeout=2 * execution.attempt_timeout_seconds,
        throttles=Throttles(config.throttle),
        gate=gate,
    )
    return TradingParts(core, executor, trading, market_data)


# ------------------------------------------------------------------------------------------------


def _token_secret(config: Config) -> bytes:
    auth = config.auth
    if auth.jwt_secret:
        return auth.jwt_secret.value.encode()
    return _read_only_secret(config.data_dir) if config.read_only else load_or_create_secret(config.data_dir)


def _report_unfolded(unfolded: list[Unfolded], shown: int = 20) -> None:
    """Log the events a read-only replay skipped: the first `shown` one by one, then the count."""
    for skipped in unfolded[:shown]:
        log.error(
            "event %d could not be folded into the state (skipped)",
            skipped.sequence,
            extra={"sequence": skipped.sequence, "event_type": skipped.event_type, "error": skipped.error},
        )
    if unfolded:
        log.error(
            "%d event(s) could not be folded into the state; serving what could be (read-only)",
            len(unfolded),
            extra={"events": len(unfolded), "first_sequence": unfolded[0].sequence},
        )


def _read_only_secret(data_dir: Path) -> bytes:
    """A read-only server signs with the folder's secret when there is one (tokens of the desk's
    server work), else with one of its own that lasts until it stops: it writes nothing."""
    path = data_dir / "jwt_secret"
    try:
        secret = path.read_bytes().strip()
    except FileNotFoundError:
        log.warning("no token signing secret in the data folder: tokens last until this read-only server stops")
        return secrets.token_urlsafe(48).encode()
    if len(secret) < 32:
        raise ConfigError(f"{path} holds a secret shorter than 32 bytes")
    return secret


def _auth_service(
    config: Config,
    journal: Journal,
    store: LogStore,
    state: AuthState,
    clock: Clock,
    secret: bytes,
    *,
    leading: Callable[[], bool],
) -> AuthService:
    auth = config.auth
    users_db = config.data_dir / "users.db"
    return AuthService(
        UserStore.copy_in_memory(users_db, lock=config.data_dir / "events.db.lock")
        if config.read_only
        else UserStore(users_db),
        TokenCodec(secret, ttl_seconds=auth.token_ttl_seconds),
        journal,
        state,
        append=store.append,
        clock=clock,
        demo_users=auth.demo_users,
        scrypt_n=auth.scrypt_n,
        user_refresh_seconds=auth.user_refresh_seconds,
        read_only=config.read_only,
        leading=leading,
    )


def _micros(clock: Clock) -> Callable[[], int]:
    def clock_us() -> int:
        return int(clock() * 1_000_000)

    return clock_us


def _failure_handler(
    waiters: list[StoreSink], notify: Callable[[StoreError], None] | None, node: Node
) -> Callable[[StoreError], None]:
    """A failed append: tell `notify`, release everyone waiting for durability and, on
    PostgreSQL, step a leader down (those two on the loop)."""
    loop = asyncio.get_running_loop()

    def release(error: StoreError) -> None:
        for waiter in waiters:
            waiter.fail(error)
        node.store_failed(error)

    def on_failure(error: StoreError) -> None:
        if notify is not None:
            notify(error)
        loop.call_soon_threadsafe(release, error)

    return on_failure


def _detach_market_data(store: LogStore, market_data: MarketDataHub) -> None:
    store.remove_listener(market_data.on_commit)
    market_data.close()


async def _stop_trading(trading: TradingService, closing: _Closing) -> None:
    await trading.stop(closing.grace)


class _Duties:
    """What leading and stepping down mean for this application (`itirp.app.leadership.Duties`)."""

    def __init__(self, app: Application, on_role: Callable[[NodeStatus], None]) -> None:
        self._app = app
        self._on_role = on_role

    async def lead(self, term: int, previous: LeaderInfo | None) -> None:
        """The log is read to its end: stop following, record the election (the first event of the
        term), then the leader's work: executions in flight reconciled as after a restart."""
        app = self._app
        assert app.node is not None
        assert app.work is not None
        app.node.follower.active = False
        if previous is None:
            reason = "first start"
        elif previous.node_id == app.node.node_id:
            reason = "restarted"
        else:
            reason = "took over: the leader's lease lapsed or was released"
        elected = events_pb2.LeaderElected(
            node_id=app.node.node_id,
            address=app.node.address,
            term=term,
            previous_node_id=previous.node_id if previous else "",
            previous_term=previous.term if previous else 0,
            reason=reason,
        )
        journal = app.journal
        await app.store.append([journal.new(elected, correlation_id=journal.new_id())])
        await app.work.start(opened=app.node.open_commands)

    async def step_down(self, why: str) -> None:
        """Nothing more is appended here (the log refuses it anyway, by term): the feed and the
        executions stop, and every stream ends with its resume point, to reconnect to the leader."""
        app = self._app
        from itirp.store.postgres import PostgresEventStore

        assert app.work is not None
        assert isinstance(app.store, PostgresEventStore)
        app.store.demote()
        await app.work.stop_feed()
        await app.work.stop_checkpointer()
        app.end_streams(f"this node is no longer the leader ({why}); reconnect to the leader")
        await app.trading.stop(0.0)

    def role_changed(self, status: NodeStatus) -> None:
        self._on_role(status)
