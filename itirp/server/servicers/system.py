"""itirp.v1.SystemService."""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable

import grpc
from google.protobuf.duration_pb2 import Duration

from itirp import NAME, __version__
from itirp.app.leadership import NodeStatus, Role
from itirp.app.trading import TradingService
from itirp.domain.breaker import BreakerState
from itirp.domain.orders import OrderStatus
from itirp.server.servicers.convert import timestamp_from_seconds, timestamp_from_us
from itirp.server.servicers.orders_convert import STATUS_TO_PROTO, metrics_to_proto
from itirp.store import EventStore
from itirp.v1 import system_pb2, system_pb2_grpc

__all__ = ["SystemServicer", "event_loop_name"]


_ROLE = {
    Role.SINGLE: system_pb2.NODE_ROLE_SINGLE,
    Role.LEADER: system_pb2.NODE_ROLE_LEADER,
    Role.STANDBY: system_pb2.NODE_ROLE_STANDBY,
    Role.STEPPED_DOWN: system_pb2.NODE_ROLE_STEPPED_DOWN,
}


def event_loop_name(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


class SystemServicer(system_pb2_grpc.SystemServiceServicer):
    def __init__(
        self,
        trading: TradingService,
        store: EventStore,
        *,
        started_at: float,
        clock: Callable[[], float],
        demo_users: bool,
        read_only: bool,
        node: Callable[[], NodeStatus],
        store_kind: str,
    ) -> None:
        self._trading = trading
        self._store = store
        self._started_at = started_at
        self._clock = clock
        self._demo_users = demo_users
        self._read_only = read_only
        self._node = node
        self._store_kind = store_kind

    async def GetSystemInfo(
        self, request: system_pb2.GetSystemInfoRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetSystemInfoResponse:
        node = self._node()
        uptime = Duration()
        uptime.FromMicroseconds(max(0, int((self._clock() - self._started_at) * 1_000_000)))
        return system_pb2.GetSystemInfoResponse(
            name=NAME,
            version=__version__,
            start_time=timestamp_from_seconds(self._started_at),
            uptime=uptime,
            event_loop=event_loop_name(asyncio.get_running_loop()),
            python_version=platform.python_version(),
            grpc_version=grpc.__version__,
            demo_users=self._demo_users,
            read_only=self._read_only,
            node_id=node.node_id,
            role=_ROLE[node.role],
            term=node.term,
            leader_address=node.leader_address,
            store=self._store_kind,
        )

    async def GetSystemMetrics(
        self, request: system_pb2.GetSystemMetricsRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetSystemMetricsResponse:
        await self._trading.settled_state()
        queries = self._trading.queries
        breaker = queries.breaker()
        latency = self._trading.submit_latency
        now_us = int(self._clock() * 1_000_000)
        counts = queries.status_counts()
        circuit = system_pb2.CircuitBreakerStatus(
            state=_BREAKER[breaker.state], consecutive_failures=breaker.consecutive_failures
        )
        if breaker.state is BreakerState.OPEN:
            circuit.open_until.CopyFrom(timestamp_from_us(breaker.open_until_us))
        p50, p99 = Duration(), Duration()
        p50.FromMicroseconds(int(latency.quantile(0.50) * 1_000_000))
        p99.FromMicroseconds(int(latency.quantile(0.99) * 1_000_000))
        return system_pb2.GetSystemMetricsResponse(
            total_orders=queries.total_orders,
            total_events=self._store.head_sequence,
            orders_by_status=[
                system_pb2.OrderStatusCount(status=STATUS_TO_PROTO[status], count=counts[status])
                for status in OrderStatus
                if counts[status]
            ],
            circuit_breaker=circuit,
            risk_metrics=metrics_to_proto(queries.metrics(), queries.trading_day, now_us),
            submit_latency=system_pb2.LatencySummary(p50=p50, p99=p99, count=latency.count),
            timestamp=timestamp_from_us(now_us),
        )


_BREAKER = {
    BreakerState.CLOSED: system_pb2.CIRCUIT_BREAKER_STATE_CLOSED,
    BreakerState.OPEN: system_pb2.CIRCUIT_BREAKER_STATE_OPEN,
    BreakerState.HALF_OPEN: system_pb2.CIRCUIT_BREAKER_STATE_HALF_OPEN,
}
