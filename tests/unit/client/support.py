"""Fakes for the client's unit tests: failed calls carrying a real `google.rpc.Status` trailer, and a
scripted stream source (no network)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]  # no stubs installed

DETAILS_KEY = "grpc-status-details-bin"


def error_info(reason: str, **metadata: str) -> Any:
    return error_details_pb2.ErrorInfo(reason=reason, domain="itirp.v1", metadata=metadata)


def bad_request(*violations: tuple[str, str]) -> Any:
    return error_details_pb2.BadRequest(
        field_violations=[error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations]
    )


def retry_info(seconds: float) -> Any:
    whole = int(seconds)
    return error_details_pb2.RetryInfo(retry_delay=Duration(seconds=whole, nanos=int((seconds - whole) * 1e9)))


def status_trailer(code: grpc.StatusCode, message: str, details: Sequence[Any]) -> tuple[str, bytes]:
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        status.details.add().Pack(detail)
    return (DETAILS_KEY, status.SerializeToString())


def rpc_error(code: grpc.StatusCode, message: str = "scripted", *details: Any) -> grpc.aio.AioRpcError:
    """A failed call as grpc.aio raises it, with the details the server sends (none: no trailer)."""
    trailing = grpc.aio.Metadata(status_trailer(code, message, details)) if details else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


class FakeCall:
    """One call of a stream: plays its script (an exception instance ends the call with it), then EOF."""

    def __init__(self, script: Sequence[Any]) -> None:
        self.script = list(script)
        self.cancelled = False

    async def read(self) -> Any:
        if not self.script:
            return grpc.aio.EOF
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> bool:
        self.cancelled = True
        return True


class FakeSource:
    """Opens one scripted call per subscription and records where each one resumed."""

    def __init__(self, *scripts: Sequence[Any]) -> None:
        self.scripts = list(scripts)
        self.opened: list[int] = []
        self.calls: list[FakeCall] = []

    def __call__(self, after: int) -> FakeCall:
        assert self.scripts, f"no script left for a call from {after}"
        self.opened.append(after)
        call = FakeCall(self.scripts.pop(0))
        self.calls.append(call)
        return call


class Sleeps:
    """The injected sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
