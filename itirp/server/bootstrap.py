"""Start and stop the server: `serve(config) -> RunningServer`, port 0 allowed (tests use it).

Start: the application (`itirp.app.application`: event store verified, state replayed, services
started), then the gRPC edge around it: the interceptor, the servicers, health
(`grpc.health.v1`), reflection, the port, the metrics endpoint. Every step registers its
clean-up on one `AsyncExitStack`, so a start that fails part-way (the port or the metrics port
taken) closes exactly what it opened, in reverse.

Stop (graceful): health turns NOT_SERVING, after the drain delay streams are told to reconnect,
new calls are refused and calls in flight get a grace period; then the stack unwinds: executions
drained, auth stopped, the store flushed and closed, the metrics endpoint last.

A failed append (disk full, corrupt file) turns health NOT_SERVING at once: the server never
acknowledges what it could not store.

Metrics (`config.metrics.listen`, off by default): Prometheus text over HTTP on their own port,
served from a thread; see `itirp.observability.metrics`.

Transport (`config.tls`, `itirp.server.transport`): with a certificate and key both ports speak
TLS (mutual TLS with a client CA); the TLS files are checked before anything opens. Plaintext
off loopback was refused by the configuration unless `insecure`, and the start says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from itirp.app import application  # the module: it imports the fan-out, under this package
from itirp.app.accounts import AccountService
from itirp.app.fanout import EventFanout
from itirp.app.leadership import NodeStatus, Role
from itirp.app.marketdata import MarketDataHub
from itirp.app.reference import ReferenceService
from itirp.app.trading import TradingService
from itirp.auth.service import AuthService
from itirp.config import Config
from itirp.core.journal import Journal
from itirp.core.matching import INTERNAL_VENUE
from itirp.core.protos import SIDE_PROTO
from itirp.execution.venue import Venue
from itirp.observability.metrics import MetricsEndpoint, ServerMetrics
from itirp.page_tokens import PageTokens
from itirp.server.interceptors import CallInterceptor
from itirp.server.routes import Routes
from itirp.server.servicers.accounts import AccountServicer
from itirp.server.servicers.audit import AuditServicer
from itirp.server.servicers.auth import AuthServicer
from itirp.server.servicers.market_data import MarketDataServicer
from itirp.server.servicers.orders import OrderServicer
from itirp.server.servicers.reference_data import ReferenceDataServicer
from itirp.server.servicers.risk import RiskServicer
from itirp.server.servicers.system import SystemServicer
from itirp.server.transport import describe, server_credentials
from itirp.store import StoreError
from itirp.v1 import (
    account_pb2,
    account_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    market_data_pb2,
    market_data_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
    risk_pb2,
    risk_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)

if TYPE_CHECKING:
    from itirp.app.application import LogStore

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
    reference_data_pb2.DESCRIPTOR.services_by_name["ReferenceDataService"].full_name,
    account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name,
)


def _server_options(config: Config) -> tuple[tuple[str, int], ...]:
    """grpc's server options: one server per port, and keepalive (`config.keepalive`) tight enough
    to notice a vanished client (a dead terminal) within seconds, ending its streams and closing
    its order-entry sessions (cancel-on-disconnect)."""
    keepalive = config.keepalive

    def ms(seconds: float) -> int:
        return max(1, round(seconds * 1000))

    return (
        # Refuse to share a port with another process: a second server must fail to start.
        ("grpc.so_reuseport", 0),
        ("grpc.keepalive_time_ms", ms(keepalive.time_seconds)),
        ("grpc.keepalive_timeout_ms", ms(keepalive.timeout_seconds)),
        ("grpc.keepalive_permit_without_calls", int(keepalive.permit_without_calls)),
        # the clients' pings: at most this often without data, else GOAWAY too_many_pings
        ("grpc.http2.min_ping_interval_without_data_ms", ms(keepalive.min_ping_interval_seconds)),
        # keep pinging a connection whose only call is an idle stream (the default stops after 2)
        ("grpc.http2.max_pings_without_data", 0),
    )


@dataclass(eq=False)
class _Grace:
    """How long the clean-ups let calls and executions in flight finish (0: a failed start)."""

    seconds: float = 0.0


@dataclass(eq=False)
class RunningServer:
    """A started server around its application; `shutdown()` drains and closes both."""

    server: grpc.aio.Server
    port: int
    application: application.Application
    health: health.aio.HealthServicer
    started_at: float
    metrics_endpoint: MetricsEndpoint | None
    _stack: AsyncExitStack = field(repr=False)
    _grace: _Grace = field(repr=False)
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    #: Health by role (PostgreSQL nodes); frozen when the stop begins.
    _roles: _RoleHealth | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        return self.application.config

    @property
    def store(self) -> LogStore:
        return self.application.store

    @property
    def journal(self) -> Journal:
        return self.application.journal

    @property
    def fanout(self) -> EventFanout:
        return self.application.fanout

    @property
    def trading(self) -> TradingService:
        return self.application.trading

    @property
    def market_data(self) -> MarketDataHub:
        return self.application.market_data

    @property
    def auth(self) -> AuthService:
        return self.application.auth

    @property
    def reference(self) -> ReferenceService:
        return self.application.reference

    @property
    def accounts(self) -> AccountService:
        return self.application.accounts

    @property
    def metrics(self) -> ServerMetrics | None:
        return self.application.metrics

    @property
    def metrics_port(self) -> int | None:
        """The bound metrics port, or None when metrics are off."""
        return self.metrics_endpoint.port if self.metrics_endpoint is not None else None

    @property
    def address(self) -> str:
        return _address(self.config, self.port)

    async def shutdown(self, grace: float | None = None) -> None:
        """Drain and stop; safe to call more than once (later callers wait for the first)."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        log.info("shutting down: health NOT_SERVING, draining", extra={"grace_seconds": grace})
        if self._roles is not None:
            self._roles.freeze()  # no change of role turns it back to SERVING while draining
        await _set_all(self.health, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.config.drain_delay_seconds > 0:
            await asyncio.sleep(self.config.drain_delay_seconds)
        # streams never end by themselves: tell them to reconnect (with their resume point), then
        # give the unary calls in flight the grace period
        self.application.end_streams("the server is shutting down")
        self._grace.seconds = grace
        try:
            await self._stack.aclose()  # server, executions, auth, fan-out, market data, store, metrics endpoint
        finally:
            log.info("server stopped")
            self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()


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
    services behind the same interceptor (the benchmarks' do-nothing baseline). A start that
    fails raises (`OSError` for a port, `TamperedLogError`, `StoreError`) with nothing left open."""
    credentials = server_credentials(config)  # a TLS file that cannot be used stops the start before anything opens
    health_servicer = health.aio.HealthServicer()
    grace = _Grace()
    endpoints: list[MetricsEndpoint] = []
    async with AsyncExitStack() as stack:
        # registered first, so closed last: the drain stays observable
        stack.push_async_callback(_close_endpoints, endpoints)
        app = await application.open_application(
            config, clock=clock, venue=venue, on_store_failure=_health_off_on_failure(health_servicer)
        )
        stack.push_async_callback(lambda: app.aclose(grace.seconds))
        started_at = clock()
        server = _grpc_server(app, health_servicer, clock, started_at, extra_interceptors, extra_handlers)
        stack.push_async_callback(lambda: server.stop(grace.seconds))
        port = _bind(server, config, credentials)
        metrics_at = config.metrics.host_port
        if app.metrics is not None and metrics_at is not None:
            endpoints.append(_metrics_endpoint(app.metrics, config, *metrics_at))
        await server.start()
        roles = _RoleHealth(health_servicer)
        if app.status.role is Role.SINGLE:
            await _set_all(health_servicer, health_pb2.HealthCheckResponse.SERVING)
        else:  # a leader serves everything; a standby its reads (see _RoleHealth)
            await app.take_role(_address(config, port), roles.changed)
        endpoint = endpoints[0] if endpoints else None
        running = RunningServer(
            server, port, app, health_servicer, started_at, endpoint, stack.pop_all(), grace, _roles=roles
        )
    transport = describe(config)
    log.info(
        "serving",
        extra={"address": running.address, "port": port, "data_dir": str(config.data_dir), "transport": transport},
    )
    for exposed in config.plaintext_exposed:
        log.warning(
            "INSECURE: serving plaintext (no TLS) on a non-loopback address (--insecure): passwords and tokens "
            "cross the network in clear text",
            extra={"address": exposed},
        )
    if endpoint is not None:
        scheme = "https" if config.tls.enabled else "http"
        log.info("serving metrics", extra={"url": f"{scheme}://{endpoint.address}/metrics", "port": endpoint.port})
    return running


def _grpc_server(
    app: application.Application,
    health_servicer: health.aio.HealthServicer,
    clock: Callable[[], float],
    started_at: float,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor],
    extra_handlers: Sequence[grpc.GenericRpcHandler],
) -> grpc.aio.Server:
    """The gRPC server around `app`: interceptor, servicers, health, reflection; not yet bound."""
    config, auth, fanout, trading, metrics = app.config, app.auth, app.fanout, app.trading, app.metrics
    heartbeat = config.streams.heartbeat_seconds
    order_pages, event_pages = (PageTokens(app.page_token_key, listing) for listing in ("ListOrders", "ListEvents"))
    server = grpc.aio.server(
        interceptors=[
            *extra_interceptors,
            CallInterceptor(
                auth,
                access_log_enabled=config.access_log,
                observe=metrics.observe_rpc if metrics is not None else None,
                client_cert_users=config.tls.client_cert_users,
            ),
        ],
        options=_server_options(config),
    )
    routes = Routes()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(auth), routes)
    system_pb2_grpc.add_SystemServiceServicer_to_server(
        SystemServicer(
            trading, app.store, started_at=started_at, clock=clock, demo_users=config.auth.demo_users,
            read_only=config.read_only, node=lambda: app.status, store_kind=config.store.kind,
        ),
        routes,
    )
    order_pb2_grpc.add_OrderServiceServicer_to_server(
        OrderServicer(
            trading, fanout, clock=clock, heartbeat_seconds=heartbeat, page_tokens=order_pages, sessions=app.sessions
        ),
        routes,
    )
    risk_pb2_grpc.add_RiskServiceServicer_to_server(RiskServicer(trading, clock=clock, users=auth.find_user), routes)
    core = app.core
    market_data_pb2_grpc.add_MarketDataServiceServicer_to_server(
        MarketDataServicer(
            app.market_data,
            fanout,
            side_of=lambda order_id: SIDE_PROTO[core.queries.side_of(order_id)],
            clock=clock,
            heartbeat_seconds=heartbeat,
            enabled=config.venue.kind == INTERNAL_VENUE,
            trading=trading,
        ),
        routes,
    )
    reference_data_pb2_grpc.add_ReferenceDataServiceServicer_to_server(
        ReferenceDataServicer(trading, app.reference), routes
    )
    account_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(app.accounts), routes)
    routes.add_generic_rpc_handlers(extra_handlers)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(
        AuditServicer(
            app.store,
            fanout,
            clock=clock,
            heartbeat_seconds=heartbeat,
            page_tokens=event_pages,
            unfolded=app.unfolded,
            verify=app.verify_log,
        ),
        routes,
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, routes)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        reflection.aio.ReflectionServicer(
            (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)
        ),
        routes,
    )
    # one generic handler for every method, and none registered per method: see itirp.server.routes
    server.add_generic_rpc_handlers((routes,))
    return server


def _bind(server: grpc.aio.Server, config: Config, credentials: grpc.ServerCredentials | None) -> int:
    """Listen on `config.listen` (TLS with `credentials`); the bound port (port 0: the one chosen)."""
    host, port = config.host_port
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        if credentials is None:
            bound = int(server.add_insecure_port(address))
        else:
            bound = int(server.add_secure_port(address, credentials))
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"cannot listen on {config.listen} (address in use?)")
    return bound


def _metrics_endpoint(metrics: ServerMetrics, config: Config, host: str, port: int) -> MetricsEndpoint:
    tls = config.tls
    try:
        return MetricsEndpoint(
            metrics.registry, host, port, certfile=tls.cert, keyfile=tls.key, client_ca=tls.client_ca
        )
    except OSError as exc:
        raise OSError(f"cannot serve metrics on {config.metrics.listen}: {exc}") from exc


async def _close_endpoints(endpoints: list[MetricsEndpoint]) -> None:
    for endpoint in endpoints:
        await endpoint.close()


def _address(config: Config, port: int) -> str:
    host, _ = config.host_port
    return f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"


async def _set_all(health_servicer: health.aio.HealthServicer, status: int) -> None:
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, status)


#: The services a standby's health calls SERVING: those that only read. It answers the reads of
#: the others too, from its followed state, but refuses their writes (NOT_LEADER).
_STANDBY_SERVES = frozenset(
    {
        audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
        system_pb2.DESCRIPTOR.services_by_name["SystemService"].full_name,
        market_data_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name,
    }
)


class _RoleHealth:
    """Health follows the node's role: a leader SERVING everywhere; a standby NOT_SERVING overall
    and for the services that write (a load balancer sends orders elsewhere), SERVING for the
    reads it answers; a node that stepped down NOT_SERVING everywhere. Role changes are applied
    in order, the latest winning; none after the server began to stop."""

    def __init__(self, health_servicer: health.aio.HealthServicer) -> None:
        self._health = health_servicer
        self._latest: NodeStatus | None = None
        self._lock = asyncio.Lock()
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def changed(self, status: NodeStatus) -> None:
        self._latest = status
        asyncio.get_running_loop().create_task(self._apply())

    async def _apply(self) -> None:
        async with self._lock:
            status = self._latest
            if status is None or self._frozen:
                return
            serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
            for name in ("", *SERVICE_NAMES):
                if status.role is Role.LEADER:
                    up = True
                elif status.role is Role.STANDBY:
                    up = name in _STANDBY_SERVES
                else:
                    up = False
                await self._health.set(name, serving if up else not_serving)


def _health_off_on_failure(health_servicer: health.aio.HealthServicer) -> Callable[[StoreError], None]:
    """A failed append (disk full, corrupt file) turns health NOT_SERVING at once: the server
    never acknowledges what it could not store. Called from the store's writer thread."""
    loop = asyncio.get_running_loop()

    def store_failed(error: StoreError) -> None:
        log.error("event store failed; health NOT_SERVING, nothing more is acknowledged", extra={"error": str(error)})
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        loop.call_soon_threadsafe(lambda: loop.create_task(_set_all(health_servicer, not_serving)))

    return store_failed
