"""itirp.v1.SystemService. GetSystemMetrics arrives with the trading core."""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable

import grpc
from google.protobuf.duration_pb2 import Duration

from itirp import NAME, __version__
from itirp.server.servicers.convert import timestamp_from_seconds
from itirp.v1 import system_pb2, system_pb2_grpc

__all__ = ["SystemServicer", "event_loop_name"]


def event_loop_name(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


class SystemServicer(system_pb2_grpc.SystemServiceServicer):
    def __init__(self, *, started_at: float, clock: Callable[[], float], demo_users: bool, read_only: bool) -> None:
        self._started_at = started_at
        self._clock = clock
        self._demo_users = demo_users
        self._read_only = read_only

    async def GetSystemInfo(
        self, request: system_pb2.GetSystemInfoRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetSystemInfoResponse:
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
        )

    async def GetSystemMetrics(
        self, request: system_pb2.GetSystemMetricsRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetSystemMetricsResponse:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "SystemService.GetSystemMetrics is not implemented on this server yet"
        )
        raise AssertionError("unreachable")
