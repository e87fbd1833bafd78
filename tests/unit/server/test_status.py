"""The one mapping of errors to google.rpc.Status: code, message, ErrorInfo, BadRequest, RetryInfo,
and the reason table that docs/api.md must show unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
import pytest
from google.protobuf import message as pb_message
from google.rpc import error_details_pb2, status_pb2

from itirp import errors
from itirp.errors import DOMAIN, FieldViolation, Reason
from itirp.server.status import MAPPED, REASONS, STATUS_FOR, STORE_RETRY_SECONDS, reason_table, rich_status, status_for
from itirp.store import StoreError, TamperedLogError

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"

CLASSES: list[tuple[type[errors.ItirpError], grpc.StatusCode]] = [
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
]


def details(status: status_pb2.Status) -> dict[str, pb_message.Message]:
    """The status's details unpacked, by message name ("ErrorInfo", "BadRequest", "RetryInfo")."""
    kinds = {
        "ErrorInfo": error_details_pb2.ErrorInfo,
        "BadRequest": error_details_pb2.BadRequest,
        "RetryInfo": error_details_pb2.RetryInfo,
    }
    out: dict[str, pb_message.Message] = {}
    for packed in status.details:
        name = packed.TypeName().rsplit(".", 1)[-1]
        assert name not in out, f"two {name} details"
        unpacked = kinds[name]()
        assert packed.Unpack(unpacked)
        out[name] = unpacked
    return out


@pytest.mark.parametrize(("cls", "code"), CLASSES)
def test_each_error_class_maps_to_its_code_with_the_message_unchanged_and_an_error_info(
    cls: type[errors.ItirpError], code: grpc.StatusCode
) -> None:
    # Arrange
    error = cls("something is wrong: 'x'")

    # Act
    status = rich_status(error)

    # Assert
    assert status.code == code.value[0]
    assert status.message == "something is wrong: 'x'"
    assert status_for(error) == (code, "something is wrong: 'x'")
    assert STATUS_FOR[cls] == code
    found = details(status)
    assert set(found) == {"ErrorInfo"}
    info = found["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == (cls.default_reason.value, DOMAIN, {})


def test_every_error_class_default_reason_is_sent_with_that_class_code() -> None:
    for cls, code in [*CLASSES, (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT)]:
        assert REASONS[cls.default_reason].code == code, cls.__name__


def test_error_info_carries_the_reason_and_metadata_the_raiser_set() -> None:
    error = errors.PermissionDenied(
        "RiskService.SetKillSwitch requires the RISK_MANAGER role or above; you are TRADER",
        reason=Reason.ROLE_REQUIRED,
        metadata={"method": "/itirp.v1.RiskService/SetKillSwitch", "required_role": "ROLE_RISK_MANAGER"},
    )

    info = details(rich_status(error))["ErrorInfo"]

    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.reason == "ROLE_REQUIRED"
    assert info.domain == "itirp.v1"
    assert dict(info.metadata) == {
        "method": "/itirp.v1.RiskService/SetKillSwitch",
        "required_role": "ROLE_RISK_MANAGER",
    }


def test_invalid_argument_has_a_bad_request_naming_the_field() -> None:
    error = errors.InvalidArgument("price", "must be positive")

    status = rich_status(error)
    found = details(status)

    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert status.message == "price: must be positive"
    bad_request = found["BadRequest"]
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [("price", "must be positive")]
    assert set(found) == {"ErrorInfo", "BadRequest"}


def test_several_bad_fields_give_one_violation_each_in_order() -> None:
    error = errors.InvalidArgument.of(
        [FieldViolation("symbol", "required"), FieldViolation("quantity", "must be positive")]
    )

    status = rich_status(error)
    bad_request = details(status)["BadRequest"]

    assert status.message == "symbol: required; quantity: must be positive"
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("symbol", "required"),
        ("quantity", "must be positive"),
    ]


def test_a_retry_hint_becomes_retry_info() -> None:
    error = errors.ResourceExhausted(
        "too many failed logins for 'risk1': locked out, try again in 300 s",
        reason=Reason.LOCKED_OUT,
        metadata={"username": "risk1", "retry_after_seconds": "300"},
        retry_after_seconds=300,
    )

    found = details(rich_status(error))

    retry = found["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToNanoseconds() == 300 * 10**9


def test_a_fractional_retry_hint_keeps_its_fraction() -> None:
    error = errors.ResourceExhausted("slow", reason=Reason.SUBSCRIBER_TOO_SLOW, retry_after_seconds=1.5)

    retry = details(rich_status(error))["RetryInfo"]

    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert (retry.retry_delay.seconds, retry.retry_delay.nanos) == (1, 500_000_000)


def test_no_retry_hint_no_retry_info() -> None:
    assert "RetryInfo" not in details(rich_status(errors.Unauthenticated("token expired; log in again")))


@pytest.mark.parametrize("error", [StoreError("disk full"), TamperedLogError(7, "hash mismatch at 7")])
def test_store_error_is_unavailable_store_unavailable_with_a_retry_hint(error: StoreError) -> None:
    status = rich_status(error)
    found = details(status)

    assert status.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert status.message == (
        f"the event log could not record this request, so it was not carried out ({error})"
    )
    info, retry = found["ErrorInfo"], found["RetryInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("STORE_UNAVAILABLE", "itirp.v1")
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToNanoseconds() == round(STORE_RETRY_SECONDS * 1e9)
    assert STATUS_FOR[StoreError] == grpc.StatusCode.UNAVAILABLE


def test_the_reason_decides_the_code() -> None:
    error = errors.InvalidArgument(
        "from_sequence", "99 is beyond the newest event", reason=Reason.RESUME_POINT_BEYOND_HEAD
    )

    assert status_for(error)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert details(rich_status(error))["ErrorInfo"].reason == "RESUME_POINT_BEYOND_HEAD"  # type: ignore[attr-defined]


def test_only_application_errors_are_mapped() -> None:
    assert issubclass(errors.NotFound, MAPPED)
    assert issubclass(StoreError, MAPPED)
    assert not issubclass(ValueError, MAPPED)
    with pytest.raises(TypeError):
        rich_status(ValueError("a programming error"))


def test_every_reason_is_in_the_table() -> None:
    assert set(REASONS) == set(Reason)
    for reason, doc in REASONS.items():
        assert reason.value == reason.name
        assert re.fullmatch(r"[A-Z][A-Z_]*", reason.value)
        assert doc.meaning, reason
        assert "|" not in doc.meaning, reason


def _documented_table() -> list[str]:
    """The reason table of docs/api.md's section "Errors a program can read"."""
    text = API_DOC.read_text()
    section = text.split("## Errors a program can read", 1)
    assert len(section) == 2, "docs/api.md has no section 'Errors a program can read'"
    body = section[1].split("\n## ", 1)[0]
    lines = body.splitlines()
    start = lines.index("| reason | status code | metadata | retry hint | meaning |")
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_docs_show_the_reason_table_of_the_code() -> None:
    # Every reason documented with its code, metadata and retry hint, and nothing extra. When this
    # fails, paste `python -c "from itirp.server.status import reason_table; print(*reason_table(), sep=chr(10))"`.
    documented = _documented_table()

    assert documented == reason_table()
    documented_codes = {
        row.split("|")[1].strip(" `"): row.split("|")[2].strip(" `") for row in documented[2:]
    }
    assert documented_codes == {reason.value: doc.code.name for reason, doc in REASONS.items()}
