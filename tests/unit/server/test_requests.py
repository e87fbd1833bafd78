"""The edge's request checks: bytes that do not decode, and every input within its bound."""

from __future__ import annotations

import math

import pytest
from google.protobuf import wrappers_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from itirp.errors import InvalidArgument, Reason
from itirp.server.requests import Undecodable, check_metadata, check_request, tolerant
from itirp.v1 import audit_pb2, auth_pb2, market_data_pb2, reference_data_pb2


def _refusal(request: object) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        check_request(request)
    return info.value


def test_bytes_that_do_not_decode_become_undecodable_and_then_invalid_argument() -> None:
    deserialize = tolerant(auth_pb2.LoginRequest.FromString)
    assert deserialize is not None

    request = deserialize(b"\x12\x05ab")
    error = _refusal(request)

    assert isinstance(request, Undecodable)
    assert error.reason is Reason.REQUEST_UNDECODABLE
    assert error.message.startswith("the request could not be decoded")
    assert error.violations == ()


def test_a_request_within_its_bounds_passes() -> None:
    check_request(auth_pb2.LoginRequest(username="u" * 64, password="p" * 256))
    check_request(audit_pb2.ListEventsRequest(from_sequence=2**63 - 1, start_time=Timestamp(seconds=253_402_300_799)))


def test_an_over_long_string_is_value_too_long_naming_the_field_with_a_short_quote() -> None:
    error = _refusal(auth_pb2.LoginRequest(username="u" * 1_000_000))

    assert error.reason is Reason.VALUE_TOO_LONG
    assert error.metadata == {"field": "username", "max_length": "64"}
    assert error.message == "username: at most 64 characters (got 1,000,000 starting '" + "u" * 24 + "…')"


def test_a_nested_field_is_named_by_its_path() -> None:
    request = reference_data_pb2.UpsertInstrumentRequest()
    request.instrument.symbol = "S" * 33

    assert _refusal(request).field == "instrument.symbol"


def test_each_entry_of_a_repeated_field_and_their_number_are_bounded() -> None:
    too_many = _refusal(market_data_pb2.StreamQuotesRequest(symbols=["AAPL"] * 101))
    one_too_long = _refusal(market_data_pb2.StreamQuotesRequest(symbols=["AAPL", "S" * 33]))

    assert too_many.field == "symbols"
    assert one_too_long.field == "symbols[1]"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (audit_pb2.ListEventsRequest(from_sequence=2**64 - 1), "from_sequence"),
        (audit_pb2.ListEventsRequest(start_time=Timestamp(seconds=10**13)), "start_time"),
        (audit_pb2.ListEventsRequest(end_time=Timestamp(seconds=-(10**13))), "end_time"),
        (audit_pb2.ListEventsRequest(end_time=Timestamp(seconds=0, nanos=-1)), "end_time"),
        (wrappers_pb2.DoubleValue(value=math.nan), "value"),
        (wrappers_pb2.DoubleValue(value=-math.inf), "value"),
    ],
    ids=["u64", "time-1e13", "time-minus-1e13", "negative-nanos", "nan", "inf"],
)
def test_a_number_out_of_range_is_invalid_argument_naming_the_field(request_: object, field: str) -> None:
    error = _refusal(request_)

    assert error.reason is Reason.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == [field]


def test_an_over_long_id_in_metadata_is_refused_and_others_are_not_read() -> None:
    check_metadata((("x-request-id", "r" * 64), ("user-agent", "u" * 10_000)))

    with pytest.raises(InvalidArgument) as info:
        check_metadata((("x-correlation-id", "c" * 129),))

    assert info.value.field == "x-correlation-id"
