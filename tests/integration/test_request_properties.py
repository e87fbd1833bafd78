"""Any request of any RPC, generated from the RPC's request descriptor (hypothesis), or any bytes at
all, against a real server: never INTERNAL or UNKNOWN, every error carries a google.rpc.ErrorInfo, and a refused request
records nothing (no event is caused by it).

The server runs on its own event loop in a thread, so that hypothesis drives plain synchronous
examples; each example is one call with its own `x-request-id`, which is the causation id of every
event the call records.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itirp.server import RunningServer, serve
from itirp.server.bootstrap import SERVICE_NAMES
from itirp.store import EventQuery
from itirp.v1 import auth_pb2, auth_pb2_grpc, common_pb2, order_pb2, order_pb2_grpc
from tests.conftest import DEMO, make_config

T = TypeVar("T")

POOL = descriptor_pool.Default()
METHODS: list[MethodDescriptor] = [
    method for name in SERVICE_NAMES for method in POOL.FindServiceByName(name).methods
]
#: Codes a well-formed refusal may have; INTERNAL and UNKNOWN are bugs.
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
#: Codes the client itself produces (a stream that was still open when the example ended).
CLIENT_SIDE = {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


class ServerThread:
    """A real server and a channel on their own event loop, in a thread."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="itirp-test-server", daemon=True)
        self.thread.start()
        self.server: RunningServer = self.run(serve(make_config(data_dir, venue="internal")))
        self.channel: grpc.aio.Channel = self.run(self._channel())
        self.token = self.login()
        self.order_ids = [self.submit(price) for price in ("100", "101")]

    async def _channel(self) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.server.address)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def login(self) -> str:
        async def token() -> str:
            stub = auth_pb2_grpc.AuthServiceStub(self.channel)
            request = auth_pb2.LoginRequest(username="admin", password=DEMO["admin"])
            return str((await stub.Login(request)).access_token)

        return self.run(token())

    def submit(self, price: str) -> str:
        async def order_id() -> str:
            request = order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=10, price=price)
            stub = order_pb2_grpc.OrderServiceStub(self.channel)
            metadata = (("authorization", f"Bearer {self.token}"),)
            return str((await stub.SubmitOrder(request, metadata=metadata)).order_id)

        return self.run(order_id())

    def close(self) -> None:
        self.run(self.channel.close())
        self.run(self.server.shutdown(grace=0.5))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = ServerThread(tmp_path_factory.mktemp("properties") / "data")
    try:
        yield running
    finally:
        running.close()


# ------------------------------------------------------------------------------ requests from descriptors


def _scalar(field: FieldDescriptor, strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return st.one_of(st.sampled_from([0, 1, -1 if low else 2, low, high]), st.integers(low, high))
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(-(2**31), 2**31 - 1))
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if kind == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=80)
    return strings


@st.composite
def requests(draw: st.DrawFn, descriptor: Descriptor, strings: st.SearchStrategy[str], depth: int = 0) -> Message:
    """A message of `descriptor`: each field set or not, any value of its type (nested up to 2 deep)."""
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 2:
                continue
            values = st.deferred(lambda f=field: requests(f.message_type, strings, depth + 1))
            if field.is_repeated:
                for item in draw(st.lists(values, max_size=2)):
                    getattr(message, field.name).add().CopyFrom(item)
            else:
                getattr(message, field.name).CopyFrom(draw(values))
        elif field.is_repeated:
            getattr(message, field.name).extend(draw(st.lists(_scalar(field, strings), max_size=4)))
        else:
            setattr(message, field.name, draw(_scalar(field, strings)))
    return message


def _serialized(message: Message) -> bytes:
    return message.SerializeToString()


def _strings(live: ServerThread) -> st.SearchStrategy[str]:
    known = ["AAPL", "MSFT", "trader1", "100", "0.5", "-1", "1e400", "ORDER_STATUS_WORKING", *live.order_ids]
    return st.one_of(
        st.sampled_from(known),
        st.text(max_size=12),
        st.text(min_size=60, max_size=300),
    )


# ------------------------------------------------------------------------------ one call, observed


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


async def _call(live: ServerThread, method: MethodDescriptor, data: bytes, request_id: str) -> grpc.StatusCode:
    metadata = (("authorization", f"Bearer {live.token}"), ("x-request-id", request_id))
    error: grpc.aio.AioRpcError | None = None
    try:
        if method.server_streaming:
            stream = live.channel.unary_stream(_path(method), request_serializer=None, response_deserializer=None)
            call = stream(data, metadata=metadata, timeout=0.5)
            await call.read()  # the first response, or the refusal
            call.cancel()
        else:
            unary = live.channel.unary_unary(_path(method), request_serializer=None, response_deserializer=None)
            await unary(data, metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as exc:
        error = exc
    return grpc.StatusCode.OK if error is None else _checked(method, error)


def _checked(method: MethodDescriptor, error: grpc.aio.AioRpcError) -> grpc.StatusCode:
    """The code of a refusal, once it is known to be neither INTERNAL nor UNKNOWN and to carry an ErrorInfo."""
    code = error.code()
    assert code not in NEVER, f"{method.name}: {code.name} {error.details()[:300]}"
    if code not in CLIENT_SIDE:
        status = rpc_status.from_call(error)
        assert status is not None, f"{method.name}: {code.name} without details: {error.details()[:200]}"
        info = error_details_pb2.ErrorInfo()
        assert any(d.Unpack(info) for d in status.details), f"{method.name}: no ErrorInfo"
    return code


async def _caused_by(live: ServerThread, request_id: str, after: int) -> list[str]:
    events = await live.server.store.query(filter=EventQuery(after_sequence=after), limit=10_000)
    return [e.event_type for e in events if e.causation_id == request_id]


_counter = iter(range(10**9))


@pytest.mark.parametrize("method", METHODS, ids=[f"{m.containing_service.name}.{m.name}" for m in METHODS])
def test_any_request_is_answered_without_internal_or_unknown_and_a_refusal_records_nothing(
    live: ServerThread, method: MethodDescriptor
) -> None:
    @settings(
        max_examples=int(os.environ.get("PROP_EXAMPLES", "20")),
        deadline=None,
        derandomize=not os.environ.get("PROP_EXAMPLES"),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.one_of(requests(method.input_type, _strings(live)).map(_serialized), st.binary()))
    def example(data: bytes) -> None:
        request_id = f"prop-{next(_counter)}"
        head = live.server.store.head_sequence

        code = live.run(_call(live, method, data, request_id))

        if code is not grpc.StatusCode.OK and code not in CLIENT_SIDE and method.name != "Login":
            # a failed login is recorded on purpose (the lockout counts it); anything else refused records nothing
            assert live.run(_caused_by(live, request_id, head)) == []
        if method.name == "Logout" and code is grpc.StatusCode.OK:
            live.token = live.login()

    example()


def test_the_generated_requests_cover_every_service_the_server_reflects(live: ServerThread) -> None:
    async def listed() -> set[str]:
        stub = reflection_pb2_grpc.ServerReflectionStub(live.channel)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        async for response in call:
            return {s.name for s in response.list_services_response.service}
        return set()

    services = live.run(listed())

    assert {s for s in services if s.startswith("itirp.")} == set(SERVICE_NAMES)
