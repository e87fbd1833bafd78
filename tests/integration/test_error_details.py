"""Refusals read as a program reads them, through a real server: the google.rpc.Status in the
`grpc-status-details-bin` trailer (grpcio-status), next to the request id."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from google.protobuf import message as pb_message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    market_data_pb2,
    market_data_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    risk_pb2,
    risk_pb2_grpc,
)
from tests.conftest import TEST_SECRET, bearer, login

TokenFor = Callable[[str], Any]


async def refused(call: Any) -> tuple[grpc.aio.AioRpcError, status_pb2.Status]:
    """The error of a unary call, and its rich status read from the error (a grpc.Call)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    error = info.value
    status = rpc_status.from_call(error)  # checks that code and message agree with the status
    assert status is not None, "no grpc-status-details-bin trailer"
    return error, status


def unpack(status: status_pb2.Status) -> dict[str, pb_message.Message]:
    kinds: dict[str, type[pb_message.Message]] = {
        "ErrorInfo": error_details_pb2.ErrorInfo,
        "BadRequest": error_details_pb2.BadRequest,
        "RetryInfo": error_details_pb2.RetryInfo,
    }
    out = {}
    for packed in status.details:
        name = packed.TypeName().rsplit(".", 1)[-1]
        message = kinds[name]()
        assert packed.Unpack(message)
        out[name] = message
    return out


def error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo:
    info = unpack(status)["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.domain == "itirp.v1"
    return info


def whoami(channel: grpc.aio.Channel, metadata: Any = None) -> Any:
    return auth_pb2_grpc.AuthServiceStub(channel).WhoAmI(auth_pb2.WhoAmIRequest(), metadata=metadata)


async def test_an_invalid_order_field_is_named_in_bad_request(channel: grpc.aio.Channel, token_for: TokenFor) -> None:
    # Arrange
    token = await token_for("trader1")
    request = order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=10, price="150.12345")

    # Act
    error, status = await refused(order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=bearer(token)))

    # Assert
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == """price: must have at most 4 decimals, e.g. "150.50" (got '150.12345')"""
    found = unpack(status)
    bad_request = found["BadRequest"]
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == ["price"]
    assert bad_request.field_violations[0].description.startswith("must have at most 4 decimals")
    assert error_info(status).reason == "INVALID_ARGUMENT"
    assert "RetryInfo" not in found


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        (None, "CREDENTIALS_MISSING"),
        ((("authorization", "Bearer not-a-jwt"),), "TOKEN_INVALID"),
        ((("authorization", "Basic dXNlcjpwdw=="),), "TOKEN_INVALID"),
    ],
    ids=["missing", "garbage", "not-bearer"],
)
async def test_a_missing_or_garbage_token_says_which(channel: grpc.aio.Channel, metadata: Any, reason: str) -> None:
    error, status = await refused(whoami(channel, metadata))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(status).reason == reason


async def test_an_expired_token_is_token_expired(channel: grpc.aio.Channel) -> None:
    now = int(time.time())
    claims = {"sub": "trader1", "user_id": "x", "role": "TRADER", "iat": now - 700, "exp": now - 100, "jti": "j"}
    token = jwt.encode(claims, TEST_SECRET, "HS256")

    error, status = await refused(whoami(channel, bearer(token)))

    assert error.details() == "token expired; log in again"
    assert error_info(status).reason == "TOKEN_EXPIRED"


async def test_a_revoked_token_is_token_revoked(channel: grpc.aio.Channel, token_for: TokenFor) -> None:
    token = await token_for("trader1")
    await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=bearer(token))

    _, status = await refused(whoami(channel, bearer(token)))

    assert error_info(status).reason == "TOKEN_REVOKED"


async def test_a_role_too_low_names_the_method_and_both_roles(channel: grpc.aio.Channel, token_for: TokenFor) -> None:
    # Arrange
    token = await token_for("trader1")
    call = risk_pb2_grpc.RiskServiceStub(channel).SetKillSwitch(
        risk_pb2.SetKillSwitchRequest(enabled=True, reason="test"),
        metadata=(*bearer(token), ("x-request-id", "desk-req-1")),
    )

    # Act
    error, status = await refused(call)

    # Assert
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == "RiskService.SetKillSwitch requires the RISK_MANAGER role or above; you are TRADER"
    info = error_info(status)
    assert info.reason == "ROLE_REQUIRED"
    assert dict(info.metadata) == {
        "method": "/itirp.v1.RiskService/SetKillSwitch",
        "required_role": "ROLE_RISK_MANAGER",
        "role": "ROLE_TRADER",
    }
    # the request id still arrives, alongside the details
    trailers = dict(error.trailing_metadata() or ())
    assert trailers["x-request-id"] == "desk-req-1"
    assert "grpc-status-details-bin" in trailers


async def test_the_aio_call_object_reads_the_same_status(channel: grpc.aio.Channel) -> None:
    call = whoami(channel)
    with pytest.raises(grpc.aio.AioRpcError):
        await call

    status = await rpc_status.aio.from_call(call)

    assert status.code == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert error_info(status).reason == "CREDENTIALS_MISSING"


async def test_a_lockout_says_how_long_in_retry_info(channel: grpc.aio.Channel) -> None:
    # Arrange: five failed logins in a row (the configured maximum)
    for _ in range(5):
        _, status = await refused(login(channel, "trader1", "bad"))
        assert error_info(status).reason == "BAD_CREDENTIALS"

    # Act: even the right password is refused now
    error, status = await refused(login(channel, "trader1", "trader123"))

    # Assert
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    found = unpack(status)
    info, retry = found["ErrorInfo"], found["RetryInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert info.reason == "LOCKED_OUT"
    assert info.metadata["username"] == "trader1"
    wait = int(info.metadata["retry_after_seconds"])
    assert 0 < wait <= 301  # the default lockout is 300 s
    assert retry.retry_delay.ToNanoseconds() == wait * 10**9
    assert f"try again in {wait} s" in error.details()


async def test_a_resume_point_beyond_the_head_is_refused_with_the_head(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    # Arrange
    token = await token_for("compliance1")
    call = audit_pb2_grpc.AuditServiceStub(channel).SubscribeEvents(
        audit_pb2.SubscribeEventsRequest(from_sequence=10**9), metadata=bearer(token)
    )

    # Act
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    status = await rpc_status.aio.from_call(call)

    # Assert
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = unpack(status)
    error_info_ = found["ErrorInfo"]
    bad_request = found["BadRequest"]
    assert isinstance(error_info_, error_details_pb2.ErrorInfo)
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert error_info_.reason == "RESUME_POINT_BEYOND_HEAD"
    head = int(error_info_.metadata["head_sequence"])
    assert 0 < head < 10**9
    assert [v.field for v in bad_request.field_violations] == ["from_sequence"]
    assert "x-request-id" in dict(await call.trailing_metadata())


async def test_market_data_on_the_simulated_venue_is_venue_not_internal(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    token = await token_for("trader1")
    call = market_data_pb2_grpc.MarketDataServiceStub(channel).GetOrderBook(
        market_data_pb2.GetOrderBookRequest(symbol="AAPL"), metadata=bearer(token)
    )

    error, status = await refused(call)

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "VENUE_NOT_INTERNAL"


async def test_an_unknown_order_trail_is_order_not_found(channel: grpc.aio.Channel, token_for: TokenFor) -> None:
    token = await token_for("compliance1")
    call = audit_pb2_grpc.AuditServiceStub(channel).GetOrderTrail(
        audit_pb2.GetOrderTrailRequest(order_id="no-such-order"), metadata=bearer(token)
    )

    error, status = await refused(call)

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(status).reason == "ORDER_NOT_FOUND"


async def test_a_repeated_client_order_id_names_the_existing_order_in_error_info(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    # Arrange: an order with a client order id
    orders = order_pb2_grpc.OrderServiceStub(channel)
    md = bearer(await token_for("trader1"))
    request = order_pb2.SubmitOrderRequest(
        symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=10, price="150.50", client_order_id="desk-7"
    )
    first = await orders.SubmitOrder(request, metadata=md)

    # Act: the same client order id again
    error, status = await refused(orders.SubmitOrder(request, metadata=md))

    # Assert: a program reads which order it was, without parsing the message
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    info = error_info(status)
    assert info.reason == "DUPLICATE_CLIENT_ORDER_ID"
    assert info.metadata["existing_order_id"] == first.order_id
    assert info.metadata["client_order_id"] == "desk-7"
    assert info.metadata["order_status"]


async def test_several_bad_order_fields_are_each_a_field_violation(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    md = bearer(await token_for("trader1"))
    request = order_pb2.SubmitOrderRequest(symbol="aapl", side=common_pb2.SIDE_BUY, quantity=0, price="-1")

    error, status = await refused(order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=md))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = unpack(status)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [v.field for v in bad.field_violations] == ["symbol", "quantity", "price"]
    assert error.details().startswith("symbol: ")


async def test_cancelling_a_finished_order_says_its_status_in_error_info(
    channel: grpc.aio.Channel, token_for: TokenFor
) -> None:
    # Arrange: an order refused by pre-trade risk is final
    orders = order_pb2_grpc.OrderServiceStub(channel)
    md = bearer(await token_for("trader1"))
    big = order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=999_999, price="9999")
    rejected = await orders.SubmitOrder(big, metadata=md)
    assert rejected.status == common_pb2.ORDER_STATUS_REJECTED

    # Act
    error, status = await refused(
        orders.CancelOrder(order_pb2.CancelOrderRequest(order_id=rejected.order_id), metadata=md)
    )

    # Assert
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert info.reason == "ORDER_NOT_CANCELLABLE"
    assert info.metadata["order_id"] == rejected.order_id
    assert info.metadata["order_status"] == "REJECTED"
