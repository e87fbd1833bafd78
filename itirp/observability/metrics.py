"""Prometheus metrics for one server, served over HTTP on their own (loopback) port.

Why this shape:
- The order path is bound by the event loop's one Python thread, so almost nothing is counted on
  it. Gauges (orders by status, subscribers and their lag, the circuit breaker, the event store's
  head, the submit latency quantiles) are read from the state the server keeps anyway, at scrape
  time, by a custom collector. Only three things are recorded as they happen: one histogram
  observation per RPC (in the interceptor, which already times the call), and, per committed
  batch (a commit listener), the batch size, the commit time and the rejections it carries.
- Those recordings run on the loop thread only and take no lock: a histogram is a fixed-size list
  of counts and a bisect. Scrapes run on the HTTP server's threads and only ever read: a list of
  fixed size is copied whole, a dict that may gain keys is replaced (copy on write) rather than
  grown in place, so a reader never iterates a dict that changes size. A scrape may see one
  observation in the counts and not yet in the sum; that is harmless.
- Each server has its own `CollectorRegistry`, never the process-wide one, so several servers in
  one process (the tests) do not collide.
"""

from __future__ import annotations

import asyncio
import logging
import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from itirp.domain.breaker import BreakerState
from itirp.domain.orders import OrderStatus
from itirp.v1 import common_pb2

if TYPE_CHECKING:
    from itirp.app.fanout import EventFanout
    from itirp.core.queries import TradingQueries
    from itirp.observability.latency import LatencyHistogram
    from itirp.store import StoredEvent
    from itirp.store.group_commit import GroupCommitStore

__all__ = [
    "BATCH_EVENTS_BUCKETS",
    "SECONDS_BUCKETS",
    "LoopHistogram",
    "MetricsEndpoint",
    "ServerMetrics",
]

log = logging.getLogger("itirp.server")

SECONDS_BUCKETS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""0.1 ms to 10 s: an in-memory RPC at the low end, a stalled fsync or a long stream at the top."""

BATCH_EVENTS_BUCKETS: tuple[float, ...] = tuple(float(2**i) for i in range(14))
"""1 to 8192 events per commit (8192 is the store's largest batch)."""

_BREAKER_CODE = {BreakerState.CLOSED: 0, BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 2}
_VIOLATION_NAME = {
    number: common_pb2.ViolationType.Name(number).removeprefix("VIOLATION_TYPE_")
    for number in common_pb2.ViolationType.values()
}
_SUBMIT_QUANTILES = (0.5, 0.99)


def _go_float(value: float) -> str:
    """`value` as Prometheus writes it in a label ("0.5", "+Inf"), by prometheus_client's own rule."""
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    return text


class LoopHistogram:
    """A Prometheus histogram written by one thread (the event loop) without a lock.

    `observe` is a bisect and two additions; `snapshot` (any thread) copies the counts."""

    __slots__ = ("_bounds", "_counts", "_sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = tuple(bounds)
        self._counts = [0] * (len(self._bounds) + 1)  # the last one is +Inf
        self._sum = 0.0

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self._bounds, value)] += 1
        self._sum += value

    def snapshot(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative buckets as (le, count), ending with +Inf (the count), and the sum."""
        counts = self._counts[:]  # fixed size: one C-level copy
        total = self._sum
        buckets: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip((*self._bounds, math.inf), counts, strict=True):
            running += n
            buckets.append((_go_float(bound), running))
        return buckets, total


class ServerMetrics(Collector):
    """The server's metrics: recorded from the interceptor and the commit listener, read from the
    core, the store and the fan-out at scrape time. Register nothing else in `registry`."""

    def __init__(
        self,
        *,
        core: TradingQueries,
        store: GroupCommitStore,
        fanout: EventFanout,
        submit_latency: LatencyHistogram,
    ) -> None:
        self._core = core
        self._store = store
        self._fanout = fanout
        self._submit_latency = submit_latency
        # Copy on write (see the module docstring): replaced, never grown in place.
        self._rpc: dict[tuple[str, Any], LoopHistogram] = {}
        self._rejections: dict[str, int] = {
            name: 0 for number, name in _VIOLATION_NAME.items() if number != common_pb2.VIOLATION_TYPE_UNSPECIFIED
        }
        self._commit_seconds = LoopHistogram(SECONDS_BUCKETS)
        self._batch_events = LoopHistogram(BATCH_EVENTS_BUCKETS)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # ------------------------------------------------------------------ recording (loop thread)

    def observe_rpc(self, method: str, code: Any, seconds: float) -> None:
        """One finished call (`code` a grpc.StatusCode); the interceptor's hook."""
        histogram = self._rpc.get((method, code))
        if histogram is None:
            histogram = LoopHistogram(SECONDS_BUCKETS)
            self._rpc = {**self._rpc, (method, code): histogram}
        histogram.observe(seconds)

    def on_commit(self, batch: list[StoredEvent]) -> None:
        """Commit listener: batch size, commit time, and the rejections in the batch."""
        self._batch_events.observe(len(batch))
        self._commit_seconds.observe(self._store.last_commit_seconds)
        queries = self._core
        for event in batch:
            if event.event_type == "RISK_CHECK_FAILED":
                order = queries.order(event.order_id)
                for violation in order.violations if order is not None else ():
                    name = _VIOLATION_NAME.get(violation.type, "UNSPECIFIED")
                    if name in self._rejections:
                        self._rejections[name] += 1
                    else:
                        self._rejections = {**self._rejections, name: 1}

    # ------------------------------------------------------------------ scraping (HTTP thread)

    def describe(self) -> list[Metric]:
        return []  # nothing to check against: this registry holds only this collector

    def collect(self) -> Iterator[Metric]:
        yield from self._order_metrics()
        yield from self._system_metrics()

    def _order_metrics(self) -> Iterator[Metric]:
        core = self._core
        orders = GaugeMetricFamily("itirp_orders", "Orders known to the server, by current status.", labels=["status"])
        counts = core.status_counts()
        for status in OrderStatus:
            orders.add_metric([status.value], counts.get(status, 0))
        yield orders

        rejections = CounterMetricFamily(
            "itirp_order_rejections",
            "Orders rejected by the pre-trade risk check since start, by violation "
            "(an order with several violations counts once for each).",
            labels=["violation"],
        )
        for name, n in sorted(self._rejections.items()):
            rejections.add_metric([name], n)
        yield rejections

        rpc = HistogramMetricFamily(
            "itirp_rpc_duration_seconds",
            "Time from the interceptor's entry to the call's end, by gRPC method and status code "
            "(for a server stream: the stream's lifetime). Health and reflection are not counted.",
            labels=["method", "code"],
        )
        by_method_and_code = sorted(self._rpc.items(), key=lambda item: (item[0][0], _code_name(item[0][1])))
        for (method, code), histogram in by_method_and_code:
            buckets, total = histogram.snapshot()
            rpc.add_metric([method, _code_name(code)], buckets, total)
        yield rpc

    def _system_metrics(self) -> Iterator[Metric]:
        core = self._core
        yield _histogram(
            "itirp_event_store_commit_seconds",
            "Duration of each event-store commit: from handing the batch to the writer until the "
            "loop learns it is durable (write, COMMIT and fsync included; the wait behind an "
            "earlier commit is not).",
            self._commit_seconds,
        )
        yield _histogram(
            "itirp_event_store_batch_events", "Events per event-store commit (group commit).", self._batch_events
        )
        yield GaugeMetricFamily(
            "itirp_event_store_head_sequence",
            "Sequence of the last durable event (the number of events in the log).",
            value=self._store.head_sequence,
        )

        queued = self._fanout.queued_events()
        yield GaugeMetricFamily(
            "itirp_subscribers", "Open event subscriptions (order and audit streams).", value=len(queued)
        )
        yield GaugeMetricFamily(
            "itirp_subscriber_lag_events",
            "Largest number of committed events waiting to be sent to one subscriber.",
            value=max(queued, default=0),
        )
        yield GaugeMetricFamily(
            "itirp_subscriber_queued_events",
            "Committed events waiting to be sent, summed over all subscribers.",
            value=sum(queued),
        )

        breaker = core.breaker()
        yield GaugeMetricFamily(
            "itirp_circuit_breaker_state",
            "The venue circuit breaker: 0 closed, 1 open, 2 half-open.",
            value=_BREAKER_CODE[breaker.state],
        )
        yield GaugeMetricFamily(
            "itirp_circuit_breaker_consecutive_failures",
            "Venue failures in a row (the breaker opens at its threshold).",
            value=breaker.consecutive_failures,
        )

        latency = self._submit_latency
        submit = Metric(
            "itirp_submit_latency_seconds",
            "SubmitOrder inside the service (validation, risk check, durable commit), since start; "
            "quantiles are bucket upper edges (~4% resolution).",
            "summary",
        )
        for q in _SUBMIT_QUANTILES:
            submit.add_sample("itirp_submit_latency_seconds", {"quantile": _go_float(q)}, latency.quantile(q))
        submit.add_sample("itirp_submit_latency_seconds_count", {}, latency.count)
        submit.add_sample("itirp_submit_latency_seconds_sum", {}, latency.total)
        yield submit


def _code_name(code: Any) -> str:
    return str(getattr(code, "name", code))


def _histogram(name: str, documentation: str, histogram: LoopHistogram) -> HistogramMetricFamily:
    buckets, total = histogram.snapshot()
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=total)


class MetricsEndpoint:
    """`GET /metrics` (any path, in fact) on HOST:PORT, served by prometheus_client's threaded
    HTTP server: scrapes never run on the event loop."""

    def __init__(
        self,
        registry: CollectorRegistry,
        host: str,
        port: int,
        *,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        client_ca: Path | None = None,
    ) -> None:
        """Bind and start serving (HTTPS with `certfile` and `keyfile`; then, with `client_ca`, a
        scraper must present a client certificate that chains to it); raises OSError when the
        address cannot be bound."""
        self._server, self._thread = start_http_server(
            port,
            addr=host,
            registry=registry,
            certfile=str(certfile) if certfile is not None else None,
            keyfile=str(keyfile) if keyfile is not None else None,
            client_cafile=str(client_ca) if client_ca is not None else None,
            client_auth_required=client_ca is not None,
        )
        self.host = host
        self.port: int = self._server.server_port

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    async def close(self) -> None:
        """Stop serving and release the port (the serving thread polls every 0.5 s, hence the
        thread hop)."""
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
