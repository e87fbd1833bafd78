"""Bad input is INVALID_ARGUMENT, never INTERNAL or UNKNOWN (issue 12), through a real server: numbers
out of range, forged page tokens, bytes that do not decode, over-long strings. Each refusal names
the field (or says the request could not be decoded), echoes at most a short prefix of the bad
value, and records nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, common_pb2, order_pb2, order_pb2_grpc
from tests.conftest import bearer, login, make_config

TokenFor = Callable[[str], Any]

#: A message a trader can read: short whatever the bad value was.
SHORT_MESSAGE = 300


async def invalid(call: Any) -> tuple[grpc.aio.AioRpcError, status_pb2.Status]:
    """The INVALID_ARGUMENT error of a call (unary, or the first read of a stream), and its rich status."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await (call.read() if hasattr(call, "read") else call)
    error = info.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details()[:200])
    assert len(error.details()) < SHORT_MESSAGE
    status = rpc_status.from_call(error)
    assert status is not None, "no grpc-status-details-bin trailer"
    return error, status


def reason_of(status: status_pb2.Status) -> str:
    for packed in status.details:
        info = error_details_pb2.ErrorInfo()
        if packed.Unpack(info):
            assert info.domain == "itirp.v1"
            return info.reason
    raise AssertionError("no ErrorInfo")


def bad_fields(status: status_pb2.Status) -> list[str]:
    for packed in status.details:
        bad_request = error_details_pb2.BadRequest()
        if packed.Unpack(bad_request):
            return [v.field for v in bad_request.field_violations]
    return []


def seconds(value: int) -> Timestamp:
    return Timestamp(seconds=value)


# ------------------------------------------------------------------------------ numbers out of range


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (audit_pb2.ListEventsRequest(from_sequence=18446744073709551615), "from_sequence"),
        (audit_pb2.ListEventsRequest(from_sequence=2**63), "from_sequence"),
        (audit_pb2.ListEventsRequest(start_time=seconds(9_200_000_000_000_000_000)), "start_time"),
        (audit_pb2.ListEventsRequest(start_time=seconds(-9_200_000_000_000_000_000)), "start_time"),
        (audit_pb2.ListEventsRequest(start_time=seconds(10_000_000_000_000)), "start_time"),
        (audit_pb2.ListEventsRequest(end_time=seconds(9_200_000_000_000_000_000)), "end_time"),
        (audit_pb2.ListEventsRequest(end_time=seconds(-9_200_000_000_000_000_000)), "end_time"),
        (audit_pb2.ListEventsRequest(end_time=seconds(10_000_000_000_000)), "end_time"),
    ],
    ids=["u64-max", "2^63", "start+9.2e18", "start-9.2e18", "start1e13", "end+9.2e18", "end-9.2e18", "end1e13"],
)
async def test_list_events_with_a_number_out_of_range_names_the_field(
    channel: grpc.aio.Channel, token_for: TokenFor, request_: audit_pb2.ListEventsRequest, field: str
) -> None:
    # Arrange
    token = await token_for("compliance1")

    # Act
    error, status = await invalid(audit_pb2_grpc.AuditServiceStub(channel).ListEvents(request_, metadata=bearer(token)))

    # Assert
    assert error.details().startswith(f"{field}: ")
    assert bad_fields(status) == [field]
    assert reason_of(status) == "INVALID_ARGUMENT"


# ------------------------------------------------------------------------------ page tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


FORGED_TOKENS = {
    "huge-number": _b64(json.dumps({"after": 10**30}).encode()),
    "huge-before": _b64(json.dumps({"before": 10**30}).encode()),
    "nested-brackets": _b64(b"[" * 6667 + b"]" * 6667),
    "unsigned-cursor": _b64(json.dumps({"after": 1}).encode()),
    "garbage": "not a token",
    "long": "A" * 100_000,
}


@pytest.mark.parametrize("token_", FORGED_TOKENS.values(), ids=FORGED_TOKENS.keys())
@pytest.mark.parametrize("rpc", ["ListEvents", "ListOrders"])
async def test_a_forged_page_token_is_not_a_token_this_server_issued(
    channel: grpc.aio.Channel, token_for: TokenFor, rpc: str, token_: str
) -> None:
    # Arrange
    token = await token_for("admin")
    if rpc == "ListEvents":
        call = audit_pb2_grpc.AuditServiceStub(channel).ListEvents(
            audit_pb2.ListEventsRequest(page_token=token_), metadata=bearer(token)
        )
    else:
        call = order_pb2_grpc.OrderServiceStub(channel).ListOrders(
            order_pb2.ListOrdersRequest(page_token=token_), metadata=bearer(token)
        )

    # Act
    error, status = await invalid(call)

    # Assert
    assert "not a token this server issued" in error.details()
    assert bad_fields(status) == ["page_token"]
    assert reason_of(status) == "PAGE_TOKEN_INVALID"


async def _submit(channel: grpc.aio.Channel, token: str, n: int) -> None:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    for i in range(n):
        request = order_pb2.SubmitOrderRequest(
            symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price=f"{100 + i}", client_order_id=f"pt-{i}"
        )
        await stub.SubmitOrder(request, metadata=bearer(token))


async def test_page_tokens_survive_a_restart_with_the_same_secret_and_a_tampered_one_is_refused(
    tmp_path: Path,
) -> None:
    # Arrange: a page token of each listing from a first run of the server
    config = make_config(tmp_path / "data")
    first = await serve(config)
    try:
        async with grpc.aio.insecure_channel(first.address) as ch:
            token = (await login(ch, "admin")).access_token
            await _submit(ch, token, 3)
            events = await audit_pb2_grpc.AuditServiceStub(ch).ListEvents(
                audit_pb2.ListEventsRequest(page_size=2), metadata=bearer(token)
            )
            orders = await order_pb2_grpc.OrderServiceStub(ch).ListOrders(
                order_pb2.ListOrdersRequest(page_size=2), metadata=bearer(token)
            )
    finally:
        await first.shutdown(grace=0.5)
    assert events.next_page_token
    assert orders.next_page_token
    assert len(events.next_page_token) <= 64
    assert len(orders.next_page_token) <= 64

    # Act: the same tokens on a restarted server (the same secret)
    second = await serve(config)
    try:
        async with grpc.aio.insecure_channel(second.address) as ch:
            token = (await login(ch, "admin")).access_token
            audit = audit_pb2_grpc.AuditServiceStub(ch)
            more_events = await audit.ListEvents(
                audit_pb2.ListEventsRequest(page_size=2, page_token=events.next_page_token), metadata=bearer(token)
            )
            more_orders = await order_pb2_grpc.OrderServiceStub(ch).ListOrders(
                order_pb2.ListOrdersRequest(page_size=2, page_token=orders.next_page_token), metadata=bearer(token)
            )
            tampered = events.next_page_token[:-2] + ("AA" if events.next_page_token[-2:] != "AA" else "BB")
            _, tampered_status = await invalid(
                audit.ListEvents(audit_pb2.ListEventsRequest(page_token=tampered), metadata=bearer(token))
            )
            # a ListOrders token is not a ListEvents token
            _, crossed_status = await invalid(
                audit.ListEvents(audit_pb2.ListEventsRequest(page_token=orders.next_page_token), metadata=bearer(token))
            )
    finally:
        await second.shutdown(grace=0.5)

    # Assert: each next page carries on where the first stopped (newest first)
    last = events.events[-1].sequence
    assert [e.sequence for e in more_events.events] == [last - 1, last - 2]
    assert len(more_orders.orders) == 1
    assert more_orders.orders[0].order_id not in {o.order_id for o in orders.orders}
    assert reason_of(tampered_status) == reason_of(crossed_status) == "PAGE_TOKEN_INVALID"


# ------------------------------------------------------------------------------ bytes that do not decode

UNDECODABLE = {
    "truncated-varint": b"\x18\xff",
    "length-past-the-end": b"\x12\x05ab",
    "start-group": b"\x0b",
    "end-group": b"\x0c",
    "field-0": b"\x00\x01",
    "invalid-utf8": b"\x12\x02\xff\xfe",
}

RAW_METHODS = {
    "Login": ("/itirp.v1.AuthService/Login", auth_pb2.LoginResponse, False),
    "ListEvents": ("/itirp.v1.AuditService/ListEvents", audit_pb2.ListEventsResponse, False),
    "SubscribeEvents": ("/itirp.v1.AuditService/SubscribeEvents", audit_pb2.SubscribeEventsResponse, True),
}


@pytest.mark.parametrize("data", UNDECODABLE.values(), ids=UNDECODABLE.keys())
@pytest.mark.parametrize("method", RAW_METHODS.keys())
async def test_request_bytes_that_do_not_decode_are_invalid_argument(
    channel: grpc.aio.Channel, token_for: TokenFor, method: str, data: bytes
) -> None:
    # Arrange
    path, response, streaming = RAW_METHODS[method]
    token = await token_for("compliance1")
    kind = channel.unary_stream if streaming else channel.unary_unary
    call = kind(path, request_serializer=None, response_deserializer=response.FromString)

    # Act
    error, status = await invalid(call(data, metadata=bearer(token), timeout=10))

    # Assert
    assert error.details().startswith("the request could not be decoded")
    assert reason_of(status) == "REQUEST_UNDECODABLE"


# ------------------------------------------------------------------------------ every input bounded


async def test_a_failed_login_with_a_1_mb_username_is_refused_before_anything_is_recorded(
    server: RunningServer, channel: grpc.aio.Channel
) -> None:
    # Arrange
    head = server.store.head_sequence
    stub = channel.unary_unary(
        "/itirp.v1.AuthService/Login",
        request_serializer=auth_pb2.LoginRequest.SerializeToString,
        response_deserializer=auth_pb2.LoginResponse.FromString,
    )

    # Act
    for _ in range(3):
        error, status = await invalid(stub(auth_pb2.LoginRequest(username="u" * 1_000_000, password="x")))

    # Assert
    assert error.details().startswith("username: at most 64 characters")
    assert bad_fields(status) == ["username"]
    assert reason_of(status) == "VALUE_TOO_LONG"
    assert server.store.head_sequence == head


async def test_a_100_kb_order_id_is_invalid_argument_with_a_short_message(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    token = await token_for("trader1")

    error, status = await invalid(
        order_pb2_grpc.OrderServiceStub(channel).GetOrder(
            order_pb2.GetOrderRequest(order_id="x" * 100_000), metadata=bearer(token)
        )
    )

    assert error.details().startswith("order_id: at most 64 characters")
    assert bad_fields(status) == ["order_id"]


async def test_an_unknown_order_id_is_echoed_as_a_short_prefix(channel: grpc.aio.Channel, token_for: TokenFor) -> None:
    token = await token_for("trader1")

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await order_pb2_grpc.OrderServiceStub(channel).GetOrder(
            order_pb2.GetOrderRequest(order_id="y" * 64), metadata=bearer(token)
        )

    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(info.value.details()) < 120


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (order_pb2.SubmitOrderRequest(symbol="A" * 33, side=common_pb2.SIDE_BUY, quantity=1, price="1"), "symbol"),
        (
            order_pb2.SubmitOrderRequest(
                symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1", client_order_id="c" * 65
            ),
            "client_order_id",
        ),
        (
            order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1" * 33),
            "price",
        ),
        (order_pb2.CancelOrderRequest(order_id="o", reason="r" * 257), "reason"),
        (order_pb2.ListOrdersRequest(statuses=[common_pb2.ORDER_STATUS_PENDING] * 101), "statuses"),
    ],
    ids=["symbol", "client_order_id", "price", "cancel-reason", "statuses-count"],
)
async def test_an_over_long_order_field_is_refused_and_records_nothing(
    server: RunningServer, channel: grpc.aio.Channel, token_for: TokenFor, request_: Any, field: str
) -> None:
    # Arrange
    token = await token_for("trader1")
    method = type(request_).__name__.removesuffix("Request")
    head = server.store.head_sequence

    # Act
    rpc = getattr(order_pb2_grpc.OrderServiceStub(channel), method)
    _, status = await invalid(rpc(request_, metadata=bearer(token)))

    # Assert
    assert bad_fields(status) == [field]
    assert server.store.head_sequence == head


@pytest.mark.parametrize("key", ["x-correlation-id", "x-request-id"])
async def test_an_over_long_id_in_metadata_is_refused(
    server: RunningServer, channel: grpc.aio.Channel, token_for: TokenFor, key: str
) -> None:
    token = await token_for("trader1")
    head = server.store.head_sequence
    request = order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1")

    _, status = await invalid(
        order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=(*bearer(token), (key, "c" * 5000)))
    )

    assert bad_fields(status) == [key]
    assert server.store.head_sequence == head


@pytest.mark.parametrize(
    "data",
    [b"\x18\xff", b"\x0a\x05ab", b"\x0b", b"\x00\x01", b"\x0a\x02\xff\xfe"],
    ids=["truncated-varint", "length-past-the-end", "start-group", "field-0", "invalid-utf8"],
)
@pytest.mark.parametrize("streaming", [False, True], ids=["Check", "Watch"])
async def test_health_requests_that_do_not_decode_are_invalid_argument(
    channel: grpc.aio.Channel, data: bytes, streaming: bool
) -> None:
    # Before: grpc's own UNKNOWN "Unexpected DecodeError" (the open methods were passed through)
    from grpc_health.v1 import health_pb2

    path = "/grpc.health.v1.Health/" + ("Watch" if streaming else "Check")
    kind = channel.unary_stream if streaming else channel.unary_unary
    call = kind(path, request_serializer=None, response_deserializer=health_pb2.HealthCheckResponse.FromString)

    error, status = await invalid(call(data, timeout=10))

    assert error.details().startswith("the request could not be decoded")
    assert reason_of(status) == "REQUEST_UNDECODABLE"
