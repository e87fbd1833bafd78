"""Start and stop the server: `serve(config) -> RunningServer`, port 0 allowed (tests use it).

Start: open the event store, verify its hash chain (a tampered log stops the start unless the
server is started read-only), rebuild state by replaying every event, then wire the servicers,
the interceptor, health (`grpc.health.v1`) and reflection.

Stop (graceful): health turns NOT_SERVING, new calls are refused, in-flight calls get a grace
period, then the store is flushed and closed.

A failed append (disk full, corrupt file) turns health NOT_SERVING at once: the server never
acknowledges what it could not store.

Metrics (`config.metrics_listen`, off by default): Prometheus text over HTTP on their own port,
served from a thread; see `itirp.observability.metrics`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from itirp.app.marketdata import MarketDataHub
from itirp.app.replay import replay
from itirp.app.sink import StoreSink
from itirp.app.trading import TradingService
from itirp.auth.service import AuthService, load_or_create_secret
from itirp.auth.state import AuthState
from itirp.auth.tokens import TokenCodec
from itirp.auth.users import UserStore
from itirp.config import Config
from itirp.core.journal import Journal
from itirp.core.matching import INTERNAL_VENUE
from itirp.core.protos import SIDE_PROTO
from itirp.core.sequencer import Sequencer
from itirp.domain.breaker import CircuitBreaker
from itirp.execution.executor import Executor
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import SimulatedVenue, Venue
from itirp.observability.metrics import MetricsEndpoint, ServerMetrics
from itirp.server.fanout import EventFanout
from itirp.server.interceptors import CallInterceptor
from itirp.server.servicers.audit import AuditServicer
from itirp.server.servicers.auth import AuthServicer
from itirp.server.servicers.market_data import MarketDataServicer
from itirp.server.servicers.orders import OrderServicer
from itirp.server.servicers.risk import RiskServicer
from itirp.server.servicers.system import SystemServicer
from itirp.store import SqliteEventStore, StoreError, TamperedLogError
from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    market_data_pb2,
    market_data_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    risk_pb2,
    risk_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)

__all__ = ["SERVICE_NAMES", "RunningServer", "serve"]

log = logging.getLogger("itirp.server")

#: The API's services, by full name.
SERVICE_NAMES: tuple[str, ...] = (
    auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,
    order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
    risk_pb2.DESCRIPTOR.services_by_name["RiskService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    system_pb2.DESCRIPTOR.services_by_name["SystemService"].full_name,
    market_data_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name,
)

_SERVER_OPTIONS = (
    # Refuse to share a port with another process: a second server must fail to start.
    ("grpc.so_reuseport", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    # Find vanished clients (and end their streams) within ~40 s.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


@dataclass(eq=False)
class RunningServer:
    server: grpc.aio.Server
    port: int
    config: Config
    health: health.aio.HealthServicer
    auth: AuthService
    store: SqliteEventStore
    journal: Journal
    fanout: EventFanout
    trading: TradingService
    market_data: MarketDataHub
    started_at: float
    metrics: ServerMetrics | None = None
    metrics_endpoint: MetricsEndpoint | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    @property
    def metrics_port(self) -> int | None:
        """The bound metrics port, or None when metrics are off."""
        return self.metrics_endpoint.port if self.metrics_endpoint is not None else None

    @property
    def address(self) -> str:
        host, _ = self.config.host_port
        return f"{host}:{self.port}" if ":" not in host else f"[{host}]:{self.port}"

    async def _set_all(self, status: int) -> None:
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status)

    async def shutdown(self, grace: float | None = None) -> None:
        """Drain and stop; safe to call more than once (later callers wait for the first)."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        log.info("shutting down: health NOT_SERVING, draining", extra={"grace_seconds": grace})
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.config.drain_delay_seconds > 0:
            await asyncio.sleep(self.config.drain_delay_seconds)
        # streams never end by themselves: tell them to reconnect (with their resume point), then
        # give the unary calls in flight the grace period
        self.fanout.end_streams("the server is shutting down")
        self.market_data.end_streams("the server is shutting down")
        await self.server.stop(grace)
        await self.trading.stop(grace)
        await self.auth.stop()
        self.fanout.close()
        self.store.remove_listener(self.market_data.on_commit)
        self.market_data.close()
        await self.store.close()
        if self.metrics_endpoint is not None:  # last: the drain stays observable
            await self.metrics_endpoint.close()
        log.info("server stopped")
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()


async def open_event_store(config: Config, on_failure: Callable[[StoreError], None] | None = None) -> SqliteEventStore:
    """Open `events.db` and verify its chain. A broken chain raises `TamperedLogError` naming the
    first bad sequence, unless the config says read-only (then the store refuses appends)."""
    path = config.data_dir / "events.db"
    if config.read_only:
        store = await SqliteEventStore.open_read_only(path)
    else:
        store = SqliteEventStore(path, on_failure=on_failure)
        await store.open()
    result = await store.verify()
    if not result.ok:
        if not config.read_only:
            await store.close()
            raise TamperedLogError(
                result.first_bad_sequence,
                f"the event log {path} does not verify: {result.message}. Refusing to start; "
                "start with --read-only to investigate",
            )
        log.error("the event log does not verify; serving read-only", extra={"problem": result.message})
    log.info(
        "event log verified" if result.ok else "event log opened read-only",
        extra={"events": result.events_checked, "head_sequence": store.head_sequence},
    )
    return store


async def serve(
    config: Config,
    *,
    clock: Callable[[], float] = time.time,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    venue: Venue | None = None,
    extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
) -> RunningServer:
    """Build and start the server; returns once it is listening. `venue` replaces the simulated
    venue the config describes (tests use it to hold or fail executions); `extra_handlers` adds
    services behind the same interceptor (the benchmarks' do-nothing baseline)."""
    data_dir = config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    health_servicer = health.aio.HealthServicer()
    loop = asyncio.get_running_loop()

    def store_failed(error: StoreError) -> None:
        log.error("event store failed; health NOT_SERVING, nothing more is acknowledged", extra={"error": str(error)})

        async def not_serving() -> None:
            for name in ("", *SERVICE_NAMES):
                await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

        loop.call_soon_threadsafe(lambda: loop.create_task(not_serving()))

    fanouts: list[EventFanout] = []  # filled once built; released on a store failure
    sinks: list[StoreSink] = []

    def release_waiters(error: StoreError) -> None:
        for fanout in fanouts:
            fanout.fail(error)
        for sink in sinks:
            sink.fail(error)

    def on_failure(error: StoreError) -> None:
        store_failed(error)
        loop.call_soon_threadsafe(release_waiters, error)

    store = await open_event_store(config, on_failure)
    try:
        running = await _start(config, store, health_servicer, clock, extra_interceptors, venue, extra_handlers)
        fanouts.append(running.fanout)
        sinks.append(running.trading.sink)
    except BaseException:
        await store.close()
        raise
    return running


async def _start(
    config: Config,
    store: SqliteEventStore,
    health_servicer: health.aio.HealthServicer,
    clock: Callable[[], float],
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor],
    venue: Venue | None,
    extra_handlers: Sequence[grpc.GenericRpcHandler],
) -> RunningServer:
    data_dir = config.data_dir

    def clock_us() -> int:
        return int(clock() * 1_000_000)

    journal = Journal(clock_us=clock_us)
    auth_state = AuthState(max_failed_logins=config.max_failed_logins, lockout_seconds=config.lockout_seconds)
    sink = StoreSink(store)
    core = Sequencer(
        journal,
        sink,
        breaker=CircuitBreaker(threshold=config.breaker_threshold, open_seconds=config.breaker_open_seconds),
        venue=config.venue,
        max_order_quantity=config.max_order_quantity,
    )
    # Book changes reach market data once their events are durable (changes seen during the
    # replay are durable already). Set before the replay, which rebuilds the books.
    market_data = MarketDataHub(lambda: store.head_sequence)
    core.matching.on_book_change = market_data.record
    store.add_listener(market_data.on_commit)
    replayed = await replay(store, [auth_state.apply, core.apply])
    log.info("state rebuilt from the event log", extra={"events": replayed, "orders": core.queries.total_orders})

    secret = config.jwt_secret.value.encode() if config.jwt_secret else load_or_create_secret(data_dir)
    auth = AuthService(
        UserStore(data_dir / "users.db"),
        TokenCodec(secret, ttl_seconds=config.token_ttl_seconds),
        journal,
        auth_state,
        append=store.append,
        clock=clock,
        demo_users=config.demo_users,
        scrypt_n=config.scrypt_n,
        user_refresh_seconds=config.user_refresh_seconds,
        read_only=config.read_only,
    )
    await auth.start()
    fanout = EventFanout(store, max_queue=config.subscriber_queue)
    executor = Executor(
        core,
        venue
        or SimulatedVenue(
            latency_seconds=config.venue_latency_seconds, failure_rate=config.venue_failure_rate, seed=config.venue_seed
        ),
        RetryPolicy(
            attempts=config.execution_attempts,
            base_delay=config.retry_base_delay_seconds,
            attempt_timeout=config.attempt_timeout_seconds,
        ),
        clock_us=clock_us,
        durable=sink.durable,
        rng=random.Random(config.venue_seed),
        max_in_flight=config.max_in_flight_executions,
    )
    trading = TradingService(core, executor, sink, clock=clock, read_only=config.read_only)
    store.add_listener(TradingService.log_order_events)
    metrics: ServerMetrics | None = None
    if config.metrics_listen:
        metrics = ServerMetrics(core=core.queries, store=store, fanout=fanout, submit_latency=trading.submit_latency)
        store.add_listener(metrics.on_commit)
    await trading.start()

    server = grpc.aio.server(
        interceptors=[
            *extra_interceptors,
            CallInterceptor(
                auth,
                access_log_enabled=config.access_log,
                observe=metrics.observe_rpc if metrics is not None else None,
            ),
        ],
        options=_SERVER_OPTIONS,
    )
    started_at = clock()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(auth), server)
    system_pb2_grpc.add_SystemServiceServicer_to_server(
        SystemServicer(
            trading, store, started_at=started_at, clock=clock, demo_users=config.demo_users, read_only=config.read_only
        ),
        server,
    )
    order_pb2_grpc.add_OrderServiceServicer_to_server(
        OrderServicer(trading, fanout, auth, clock=clock, heartbeat_seconds=config.heartbeat_seconds), server
    )
    risk_pb2_grpc.add_RiskServiceServicer_to_server(RiskServicer(trading, clock=clock), server)
    market_data_pb2_grpc.add_MarketDataServiceServicer_to_server(
        MarketDataServicer(
            market_data,
            fanout,
            auth,
            side_of=lambda order_id: SIDE_PROTO[core.queries.side_of(order_id)],
            clock=clock,
            heartbeat_seconds=config.heartbeat_seconds,
            enabled=config.venue == INTERNAL_VENUE,
        ),
        server,
    )
    if extra_handlers:
        server.add_generic_rpc_handlers(tuple(extra_handlers))
    audit_pb2_grpc.add_AuditServiceServicer_to_server(
        AuditServicer(store, fanout, auth, clock=clock, heartbeat_seconds=config.heartbeat_seconds), server
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )

    host, port = config.host_port
    try:
        bound = server.add_insecure_port(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    except RuntimeError:
        bound = 0
    problem = None if bound else f"cannot listen on {config.listen} (address in use?)"
    endpoint: MetricsEndpoint | None = None
    metrics_at = config.metrics_host_port
    if problem is None and metrics is not None and metrics_at is not None:
        try:
            endpoint = MetricsEndpoint(metrics.registry, *metrics_at)
        except OSError as exc:
            problem = f"cannot serve metrics on {config.metrics_listen}: {exc}"
    if problem is not None:
        await server.stop(None)
        await trading.stop(0)
        await auth.stop()
        fanout.close()
        store.remove_listener(market_data.on_commit)
        market_data.close()
        raise OSError(problem)
    await server.start()
    running = RunningServer(
        server, bound, config, health_servicer, auth, store, journal, fanout, trading, market_data, started_at, metrics,
        endpoint,
    )
    await running._set_all(health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"address": running.address, "port": bound, "data_dir": str(data_dir)})
    if endpoint is not None:
        log.info("serving metrics", extra={"url": f"http://{endpoint.address}/metrics", "port": endpoint.port})
    return running
