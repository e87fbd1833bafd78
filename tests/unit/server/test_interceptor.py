"""CallInterceptor without a network: a recording ServicerContext, real token checks (AuthService's
`authenticate` over a real TokenCodec and AuthState, on a test clock), real handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from itirp.auth.roles import Role
from itirp.auth.service import AuthService
from itirp.auth.state import AuthState
from itirp.auth.tokens import TokenCodec
from itirp.errors import InvalidArgument, Reason, ResourceExhausted
from itirp.observability.context import current_principal
from itirp.server.interceptors import CallInterceptor

SECRET = b"unit-test-secret-for-hs256-0123456789"
DETAILS_KEY = "grpc-status-details-bin"


class Clock:
    """Starts at the wall clock's time (PyJWT checks exp, nbf and iat against it); a test moves it on."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class CallDetails:
    """What grpc hands an interceptor: the method and the invocation metadata."""

    def __init__(self, method: str, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.method = method
        self.invocation_metadata = metadata


class RecordingContext:
    """A grpc.aio.ServicerContext that records what the interceptor sets and aborts with."""

    def __init__(self) -> None:
        self.trailing_metadata: tuple[tuple[str, Any], ...] = ()
        self.aborted_with: Any = None  # the grpc.Status given to abort_with_status
        self.aborted: tuple[grpc.StatusCode, str] | None = None  # what abort() was given
        self._code: grpc.StatusCode | None = None

    def set_trailing_metadata(self, metadata: tuple[tuple[str, Any], ...]) -> None:
        self.trailing_metadata = tuple(metadata)

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self.aborted = (code, details)
        self._code = code
        raise grpc.aio.AbortError("aborted")

    async def abort_with_status(self, status: Any) -> None:
        self.aborted_with = status
        self._code = status.code
        if status.trailing_metadata:
            self.trailing_metadata = tuple(status.trailing_metadata)
        raise grpc.aio.AbortError("aborted")

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def trailer(self, key: str) -> Any:
        return dict(self.trailing_metadata).get(key)

    def rich_status(self) -> status_pb2.Status:
        """The google.rpc.Status sent in the details trailer, checked against code and message."""
        assert self.aborted_with is not None, "no abort_with_status"
        raw = dict(self.aborted_with.trailing_metadata)[DETAILS_KEY]
        status = status_pb2.Status.FromString(raw)
        assert status.code == self.aborted_with.code.value[0]
        assert status.message == self.aborted_with.details
        return status

    def error_info(self) -> error_details_pb2.ErrorInfo:
        info = error_details_pb2.ErrorInfo()
        assert self.rich_status().details[0].Unpack(info)
        return info


class Fixture:
    def __init__(self) -> None:
        self.clock = Clock()
        self.codec = TokenCodec(SECRET, ttl_seconds=600)
        self.state = AuthState(max_failed_logins=5, lockout_seconds=300)
        # authenticate() needs only the codec, the state and the clock; users, journal and log stay unused.
        self.auth = AuthService(
            None,  # type: ignore[arg-type]
            self.codec,
            None,  # type: ignore[arg-type]
            self.state,
            append=None,  # type: ignore[arg-type]
            clock=self.clock,
            demo_users=False,
            scrypt_n=2**10,
            token_clock=self.clock,
        )
        self.observed: list[tuple[str, grpc.StatusCode]] = []
        self.interceptor = CallInterceptor(
            self.auth, access_log_enabled=False, observe=lambda m, code, _s: self.observed.append((m, code))
        )
        self.calls: list[Any] = []

    def token(self, role: Role, *, issued_at: float | None = None) -> str:
        when = self.clock.now if issued_at is None else issued_at
        token, _ = self.codec.issue(username="u1", user_id="id-1", role=role, now=when)
        return token

    def handler(self, behavior: Any = None) -> grpc.RpcMethodHandler:
        async def default(request: Any, context: Any) -> str:
            self.calls.append((request, current_principal().username if request != "login" else None))
            return "ok"

        return grpc.unary_unary_rpc_method_handler(behavior or default)

    async def call(
        self, method: str, metadata: tuple[tuple[str, str], ...] = (), *, handler: Any = None, request: Any = "req"
    ) -> tuple[Any, RecordingContext]:
        async def continuation(details: Any) -> grpc.RpcMethodHandler:
            return handler if handler is not None else self.handler()

        wrapped = await self.interceptor.intercept_service(continuation, CallDetails(method, metadata))
        context = RecordingContext()
        try:
            result = await wrapped.unary_unary(request, context)
        except grpc.aio.AbortError:
            result = None
        return result, context


async def drain(stream: AsyncIterator[Any]) -> tuple[list[Any], bool]:
    """Every item of a stream, and whether it ended by an abort."""
    received: list[Any] = []
    try:
        async for item in stream:
            received.append(item)
    except grpc.aio.AbortError:
        return received, True
    return received, False


def bearer(token: str) -> tuple[str, str]:
    return ("authorization", f"Bearer {token}")


@pytest.fixture
def fx() -> Fixture:
    return Fixture()


async def test_no_token_is_refused_with_credentials_missing_and_the_handler_never_runs(fx: Fixture) -> None:
    # Act
    result, context = await fx.call("/itirp.v1.AuthService/WhoAmI", (("x-request-id", "req-1"),))

    # Assert
    assert result is None
    assert fx.calls == []
    assert context.aborted_with.code == grpc.StatusCode.UNAUTHENTICATED
    assert context.aborted_with.details == "missing credentials: send 'authorization: Bearer <token>' metadata"
    info = context.error_info()
    assert (info.reason, info.domain) == ("CREDENTIALS_MISSING", "itirp.v1")
    assert context.trailer("x-request-id") == "req-1"
    assert fx.observed == [("/itirp.v1.AuthService/WhoAmI", grpc.StatusCode.UNAUTHENTICATED)]


async def test_garbage_token_is_token_invalid(fx: Fixture) -> None:
    _, context = await fx.call("/itirp.v1.AuthService/WhoAmI", (bearer("not-a-jwt"),))

    assert context.aborted_with.code == grpc.StatusCode.UNAUTHENTICATED
    assert context.error_info().reason == "TOKEN_INVALID"


async def test_expired_token_is_token_expired(fx: Fixture) -> None:
    # Arrange: a token issued 610 s ago with a 600 s lifetime (past the 5 s leeway)
    token = fx.token(Role.TRADER, issued_at=fx.clock.now - 610)

    # Act
    _, context = await fx.call("/itirp.v1.AuthService/WhoAmI", (bearer(token),))

    # Assert
    assert context.aborted_with.details == "token expired; log in again"
    assert context.error_info().reason == "TOKEN_EXPIRED"


async def test_a_cached_token_that_expires_later_is_token_expired(fx: Fixture) -> None:
    token = fx.token(Role.TRADER)
    _, first = await fx.call("/itirp.v1.AuthService/WhoAmI", (bearer(token),))
    assert first.aborted_with is None
    fx.clock.now += 600

    _, context = await fx.call("/itirp.v1.AuthService/WhoAmI", (bearer(token),))

    assert context.error_info().reason == "TOKEN_EXPIRED"


async def test_revoked_token_is_token_revoked(fx: Fixture) -> None:
    token = fx.token(Role.TRADER)
    fx.state.revoked[fx.codec.verify(token).jti] = int(fx.clock.now) + 600

    _, context = await fx.call("/itirp.v1.AuthService/WhoAmI", (bearer(token),))

    assert context.aborted_with.details == "token has been revoked (logged out); log in again"
    assert context.error_info().reason == "TOKEN_REVOKED"


async def test_role_too_low_is_role_required_with_method_and_both_roles(fx: Fixture) -> None:
    # Act
    _, context = await fx.call("/itirp.v1.RiskService/SetKillSwitch", (bearer(fx.token(Role.TRADER)),))

    # Assert
    assert fx.calls == []
    assert context.aborted_with.code == grpc.StatusCode.PERMISSION_DENIED
    assert context.aborted_with.details == (
        "RiskService.SetKillSwitch requires the RISK_MANAGER role or above; you are TRADER"
    )
    info = context.error_info()
    assert info.reason == "ROLE_REQUIRED"
    assert dict(info.metadata) == {
        "method": "/itirp.v1.RiskService/SetKillSwitch",
        "required_role": "ROLE_RISK_MANAGER",
        "role": "ROLE_TRADER",
    }


async def test_a_method_missing_from_the_role_table_is_method_not_open(fx: Fixture) -> None:
    _, context = await fx.call("/itirp.v1.RiskService/NoSuchThing", (bearer(fx.token(Role.ADMIN)),))

    assert context.aborted_with.code == grpc.StatusCode.PERMISSION_DENIED
    info = context.error_info()
    assert info.reason == "METHOD_NOT_OPEN"
    assert dict(info.metadata) == {"method": "/itirp.v1.RiskService/NoSuchThing"}


async def test_a_high_enough_role_runs_the_handler_with_the_principal(fx: Fixture) -> None:
    result, context = await fx.call("/itirp.v1.RiskService/SetKillSwitch", (bearer(fx.token(Role.ADMIN)),))

    assert result == "ok"
    assert fx.calls == [("req", "u1")]
    assert context.aborted_with is None
    assert context.aborted is None


async def test_an_open_method_runs_without_a_token_and_still_gets_a_request_id(fx: Fixture) -> None:
    result, context = await fx.call("/itirp.v1.AuthService/Login", request="login")

    assert result == "ok"
    assert fx.calls == [("login", None)]
    assert len(context.trailer("x-request-id")) == 16  # made up by the server: 8 random bytes in hex


async def test_the_callers_request_id_comes_back_on_success(fx: Fixture) -> None:
    _, context = await fx.call("/itirp.v1.AuthService/Login", (("x-request-id", "desk-42"),), request="login")

    assert context.trailer("x-request-id") == "desk-42"


async def test_health_is_open_and_reflection_passes_straight_through(fx: Fixture) -> None:
    # Health: no credentials needed, the check runs (only bytes that do not decode are refused)
    async def check(request: Any, context: Any) -> str:
        return "SERVING"

    result, context = await fx.call("/grpc.health.v1.Health/Check", (), handler=fx.handler(check))
    assert result == "SERVING"
    assert (context.aborted, context.aborted_with) == (None, None)

    # Reflection (a bidirectional stream): the server's own handler, untouched
    reflection = grpc.stream_stream_rpc_method_handler(lambda requests, context: iter(()))

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return reflection

    method = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    assert await fx.interceptor.intercept_service(continuation, CallDetails(method)) is reflection


async def test_an_application_error_in_the_handler_carries_its_details_and_the_request_id(fx: Fixture) -> None:
    # Arrange
    async def behavior(request: Any, context: Any) -> None:
        raise InvalidArgument("price", "must be positive")

    # Act
    _, context = await fx.call(
        "/itirp.v1.OrderService/SubmitOrder",
        (bearer(fx.token(Role.TRADER)), ("x-request-id", "req-7")),
        handler=fx.handler(behavior),
    )

    # Assert
    assert context.aborted_with.code == grpc.StatusCode.INVALID_ARGUMENT
    assert context.aborted_with.details == "price: must be positive"
    status = context.rich_status()
    bad_request = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [("price", "must be positive")]
    assert context.trailer("x-request-id") == "req-7"
    assert fx.observed[-1] == ("/itirp.v1.OrderService/SubmitOrder", grpc.StatusCode.INVALID_ARGUMENT)


async def test_an_unexpected_exception_is_internal_with_the_request_id(
    fx: Fixture, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    async def behavior(request: Any, context: Any) -> None:
        raise KeyError("a bug")

    # Act
    with caplog.at_level(logging.ERROR, logger="itirp.server"):
        _, context = await fx.call(
            "/itirp.v1.AuthService/WhoAmI",
            (bearer(fx.token(Role.TRADER)), ("x-request-id", "req-9")),
            handler=fx.handler(behavior),
        )

    # Assert
    assert context.aborted == (grpc.StatusCode.INTERNAL, "internal error; quote request id req-9")
    assert context.aborted_with is None  # no details: nothing a program could act on
    assert context.trailer("x-request-id") == "req-9"
    assert [r.getMessage() for r in caplog.records] == ["unhandled error in /itirp.v1.AuthService/WhoAmI"]
    assert fx.observed[-1] == ("/itirp.v1.AuthService/WhoAmI", grpc.StatusCode.INTERNAL)


async def test_a_stream_ended_by_an_application_error_carries_its_details(fx: Fixture) -> None:
    # Arrange: a stream that sends one item, then is cut off
    async def behavior(request: Any, context: Any) -> AsyncIterator[str]:
        yield "first"
        raise ResourceExhausted(
            "cut off; resume with from_sequence=7",
            reason=Reason.SUBSCRIBER_TOO_SLOW,
            metadata={"resume_from_sequence": "7"},
            retry_after_seconds=1.0,
        )

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_stream_rpc_method_handler(behavior)

    wrapped = await fx.interceptor.intercept_service(
        continuation,
        CallDetails(
            "/itirp.v1.AuditService/SubscribeEvents", (bearer(fx.token(Role.COMPLIANCE)), ("x-request-id", "s-1"))
        ),
    )
    context = RecordingContext()

    # Act
    received, aborted = await drain(wrapped.unary_stream("req", context))

    # Assert
    assert received == ["first"]
    assert aborted
    assert context.aborted_with.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = context.error_info()
    assert (info.reason, dict(info.metadata)) == ("SUBSCRIBER_TOO_SLOW", {"resume_from_sequence": "7"})
    retry = error_details_pb2.RetryInfo()
    assert context.rich_status().details[1].Unpack(retry)
    assert retry.retry_delay.ToNanoseconds() == 10**9
    assert context.trailer("x-request-id") == "s-1"


async def test_a_stream_refused_before_it_starts_sends_nothing(fx: Fixture) -> None:
    async def behavior(request: Any, context: Any) -> AsyncIterator[str]:
        yield "never"

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_stream_rpc_method_handler(behavior)

    wrapped = await fx.interceptor.intercept_service(
        continuation, CallDetails("/itirp.v1.AuditService/SubscribeEvents", (bearer(fx.token(Role.TRADER)),))
    )
    context = RecordingContext()

    received, aborted = await drain(wrapped.unary_stream("req", context))

    assert received == []
    assert aborted
    assert context.error_info().reason == "ROLE_REQUIRED"


def _token_context_and_id(fx: Fixture) -> tuple[str, RecordingContext, str]:
    """A compliance token, a fresh context for the stream, and the token's id."""
    token = fx.token(Role.COMPLIANCE)
    return token, RecordingContext(), fx.codec.verify(token).jti


async def test_a_stream_whose_token_is_revoked_while_it_waits_ends_token_revoked(fx: Fixture) -> None:
    # Arrange: a stream that sends one item, then waits for more that never come
    async def behavior(request: Any, context: Any) -> AsyncIterator[str]:
        yield "first"
        await asyncio.Event().wait()
        yield "never"

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_stream_rpc_method_handler(behavior)

    token, context, jti = _token_context_and_id(fx)
    wrapped = await fx.interceptor.intercept_service(
        continuation, CallDetails("/itirp.v1.AuditService/SubscribeEvents", (bearer(token),))
    )
    received: list[str] = []
    first = asyncio.Event()

    async def consume() -> bool:
        try:
            async for item in wrapped.unary_stream("req", context):
                received.append(item)
                first.set()
        except grpc.aio.AbortError:
            return True
        return False

    task = asyncio.create_task(consume())
    await first.wait()
    await asyncio.sleep(0)  # the stream is waiting for its next item

    # Act: a logout elsewhere revokes the token
    fx.state.revoked[jti] = int(fx.clock.now) + 600
    fx.auth.streams.recheck()

    # Assert: the stream ends with the reason, not a cancellation
    assert await task
    assert received == ["first"]
    assert context.error_info().reason == "TOKEN_REVOKED"
    assert len(fx.auth.streams) == 0


async def test_a_stream_ended_between_items_asks_its_handler_for_nothing_more(fx: Fixture) -> None:
    produced: list[int] = []

    async def behavior(request: Any, context: Any) -> AsyncIterator[int]:
        for n in range(10):
            produced.append(n)
            yield n

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_stream_rpc_method_handler(behavior)

    token, context, jti = _token_context_and_id(fx)
    wrapped = await fx.interceptor.intercept_service(
        continuation, CallDetails("/itirp.v1.AuditService/SubscribeEvents", (bearer(token),))
    )
    stream = wrapped.unary_stream("req", context)
    assert await anext(stream) == 0

    # Act: revoked while the item is being sent (the handler is not waiting)
    fx.state.revoked[jti] = int(fx.clock.now) + 600
    fx.auth.streams.recheck()

    # Assert
    with pytest.raises(grpc.aio.AbortError):
        await anext(stream)
    assert produced == [0]
    assert context.error_info().reason == "TOKEN_REVOKED"
