"""Typed errors are filled from the `google.rpc.Status` details, never from the message text."""

from __future__ import annotations

import grpc
import pytest

from itirp_client.errors import (
    DuplicateOrder,
    FieldViolation,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    Reason,
    ServerUnavailable,
    TooManyRequests,
    from_rpc_error,
)
from tests.unit.client.support import bad_request, error_info, retry_info, rpc_error, status_trailer


def test_duplicate_order_names_the_existing_order_from_metadata() -> None:
    error = from_rpc_error(
        rpc_error(
            grpc.StatusCode.ALREADY_EXISTS,
            "client_order_id 'x' was already used",  # the message names no order: the metadata does
            error_info("DUPLICATE_CLIENT_ORDER_ID", existing_order_id="5f0c0000-0000-0000-0000-000000000001"),
        )
    )
    assert isinstance(error, DuplicateOrder)
    assert error.order_id == "5f0c0000-0000-0000-0000-000000000001"
    assert error.reason == Reason.DUPLICATE_CLIENT_ORDER_ID
    assert error.domain == "itirp.v1"
    assert error.code == "ALREADY_EXISTS"


def test_invalid_request_field_is_the_first_violation() -> None:
    error = from_rpc_error(
        rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "quantity: must be positive; price: not a decimal",
            error_info("INVALID_ARGUMENT"),
            bad_request(("quantity", "must be positive"), ("price", "not a decimal")),
        )
    )
    assert isinstance(error, InvalidRequest)
    assert error.field == "quantity"
    assert error.field_violations == (
        FieldViolation("quantity", "must be positive"),
        FieldViolation("price", "not a decimal"),
    )
    assert error.message == "quantity: must be positive; price: not a decimal"


def test_too_many_requests_carries_retry_after_and_the_resume_point() -> None:
    error = from_rpc_error(
        rpc_error(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "subscriber fell behind",
            error_info("SUBSCRIBER_TOO_SLOW", resume_from_sequence="42"),
            retry_info(0.25),
        )
    )
    assert isinstance(error, TooManyRequests)
    assert error.retry_after == pytest.approx(0.25)
    assert error.resume_from_sequence == 42
    assert error.reason == "SUBSCRIBER_TOO_SLOW"


def test_without_details_the_attributes_are_empty_whatever_the_message_says() -> None:
    error = from_rpc_error(
        rpc_error(
            grpc.StatusCode.ALREADY_EXISTS,
            "client_order_id 'x' was already used for order "
            "5f0c0000-0000-0000-0000-000000000001; resume with from_sequence=7",
        )
    )
    assert isinstance(error, DuplicateOrder)
    assert (error.order_id, error.reason, error.metadata, error.retry_after) == ("", "", {}, None)
    assert error.resume_from_sequence is None
    invalid = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "price: not a decimal"))
    assert isinstance(invalid, InvalidRequest)
    assert invalid.field == ""


def test_a_status_of_another_code_is_not_read() -> None:
    """The trailer must describe this call (grpc_status checks code and message)."""
    trailer = status_trailer(grpc.StatusCode.NOT_FOUND, "scripted", [error_info("ORDER_NOT_FOUND")])
    exc = grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(trailer), "scripted")
    error = from_rpc_error(exc)
    assert isinstance(error, ServerUnavailable)
    assert error.reason == ""


def test_any_call_like_object_works() -> None:
    """Not only grpc.aio's error: anything with code(), details() and trailing_metadata()."""

    class Failed(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNAUTHENTICATED

        def details(self) -> str:
            return "token expired"

        def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
            return (status_trailer(grpc.StatusCode.UNAUTHENTICATED, "token expired", [error_info("TOKEN_EXPIRED")]),)

    error = from_rpc_error(Failed())
    assert isinstance(error, NotAuthenticated)
    assert error.reason == Reason.TOKEN_EXPIRED


def test_an_unmapped_code_is_the_base_class_with_the_code_name() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.INTERNAL, ""))
    assert type(error) is ItirpError
    assert (error.code, error.message) == ("INTERNAL", "INTERNAL")
