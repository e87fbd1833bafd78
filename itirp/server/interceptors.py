"""One interceptor for every call: authentication, the role table, call context, error mapping and
the access log.

For each call it
1. looks the method up in the role table (deny by default),
2. authenticates the `authorization: Bearer <jwt>` metadata unless the method is open (or, with
   mutual TLS and `tls.client_cert_users`, a call without one by its client certificate's CN),
3. refuses, before the handler runs, a request whose bytes do not decode or whose inputs are out
   of bounds, and over-long ids in metadata (`itirp.server.requests`, `itirp.limits`): the
   handler's deserializer is wrapped so that bad bytes reach this check instead of grpc's UNKNOWN,
4. runs the handler with the principal, request id and correlation id in context variables,
5. turns an application error raised by the handler into its rich status (`itirp.server.status`:
   code, message, and `google.rpc` details in the `grpc-status-details-bin` trailer, next to
   `x-request-id`), and anything else into INTERNAL with the request id, logged once here,
6. writes one access-log line, and hands the call's duration to the metrics when they are on.

A bidirectional stream (OrderEntry) is handled as a server stream whose requests its handler
checks one by one (`check_request`), answering a bad one without ending the stream.

Health checks and reflection pass straight through: open, unlogged, unwrapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_status import rpc_status

from itirp.auth.access import WatchedStream
from itirp.auth.roles import OPEN, OPEN_PREFIXES, Role, required_role
from itirp.auth.service import AuthService, Principal
from itirp.errors import InvalidArgument, ItirpError, PermissionDenied, Reason, Unauthenticated
from itirp.ids import random_hex
from itirp.observability.context import correlation_id_var, principal_var, request_id_var
from itirp.observability.logging import emit
from itirp.server.client_certs import certificate_identity
from itirp.server.requests import check_metadata, check_request, tolerant
from itirp.server.status import MAPPED, rich_status

__all__ = ["CallInterceptor", "ObserveCall"]

log = logging.getLogger("itirp.server")
access_log = logging.getLogger("itirp.access")

_OK = grpc.StatusCode.OK
#: grpc's RpcMethodHandler (a named tuple), whose fields `CallInterceptor._wrap` fills in order
_HANDLER_TYPE: Any = type(grpc.unary_unary_rpc_method_handler(None))
if _HANDLER_TYPE._fields != (
    "request_streaming",
    "response_streaming",
    "request_deserializer",
    "response_serializer",
    "unary_unary",
    "unary_stream",
    "stream_unary",
    "stream_stream",
):
    raise ImportError(f"grpc's RpcMethodHandler has changed its fields: {_HANDLER_TYPE._fields}")


def _short(method: str) -> str:
    """"/itirp.v1.RiskService/SetKillSwitch" -> "RiskService.SetKillSwitch"."""
    service, _, name = method.rpartition("/")
    return f"{service.rsplit('.', 1)[-1]}.{name}"


class _Call:
    """What the interceptor learned about one call before the handler runs."""

    __slots__ = (
        "bad_metadata",
        "by_certificate",
        "correlation_id",
        "error",
        "method",
        "needs",
        "principal",
        "request_id",
    )

    def __init__(
        self, method: str, principal: Principal | None, error: ItirpError | None, request_id: str, correlation_id: str
    ) -> None:
        self.method = method
        self.principal = principal
        self.error = error
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.needs: Role | None = None  # the role the method needs (None: open)
        #: the role the call needs, when it came without a token and a client certificate may name its user
        self.by_certificate: Role | None = None
        #: a metadata value beyond its bound (`itirp.limits`), refused once the caller is known
        self.bad_metadata: InvalidArgument | None = None


class _Method:
    """What the interceptor works out once per method and handler, not per call: whether it is
    open, the role it needs, its wrapped deserializer (grpc hands the same handler object for a
    method on every call; another handler for the same name, as in tests, is prepared anew)."""

    __slots__ = ("deserializer", "handler", "open", "rule")

    def __init__(self, method: str, handler: grpc.RpcMethodHandler) -> None:
        self.handler = handler
        #: health and reflection: passed through (`_open`), built once
        self.open: grpc.RpcMethodHandler | None = _open(handler) if method.startswith(OPEN_PREFIXES) else None
        self.rule = required_role(method)
        self.deserializer = tolerant(handler.request_deserializer)


@dataclass(frozen=True, slots=True)
class _Status(grpc.Status):  # type: ignore[misc]  # grpc ships no type stubs: its classes are Any
    """What `abort_with_status` takes: code, message and trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _role_error(method: str, rule: Role, principal: Principal) -> PermissionDenied | None:
    """PERMISSION_DENIED when the principal's role is below the method's rule."""
    if principal.role >= rule:
        return None
    return PermissionDenied(
        f"{_short(method)} requires the {rule.name} role or above; you are {principal.role.name}",
        reason=Reason.ROLE_REQUIRED,
        metadata={"method": method, "required_role": rule.proto_name, "role": principal.role.proto_name},
    )


def _rich_abort_status(error: Exception, request_id: str) -> _Status:
    """The error's `google.rpc.Status` as grpc sends it (`grpc-status-details-bin`), plus the
    `x-request-id` trailer: aborting with trailing metadata replaces what was set before."""
    status = rpc_status.to_status(rich_status(error))
    return _Status(status.code, status.details, (("x-request-id", request_id), *status.trailing_metadata))


#: Metrics hook: (full method name, status code, seconds), called once per call on the loop.
ObserveCall = Callable[[str, grpc.StatusCode, float], None]


def _ours_uncancelled(watched: WatchedStream) -> bool:
    """Whether the stream's task was cancelled by `AccessWatch` (its access is gone); if so the
    cancellation is withdrawn, so that the error that says why can be sent."""
    task = asyncio.current_task()
    if watched.why is None or task is None:
        return False
    if task.cancelling():
        task.uncancel()
    return True


class CallInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc ships no type stubs: its classes are Any
    def __init__(
        self,
        auth: AuthService,
        *,
        access_log_enabled: bool = True,
        observe: ObserveCall | None = None,
        client_cert_users: bool = False,
    ) -> None:
        self._auth = auth
        self._access_log = access_log_enabled
        self._observe = observe
        self._client_cert_users = client_cert_users
        self._methods: dict[str, _Method] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        prepared = self._methods.get(method)
        if prepared is None or prepared.handler is not handler:
            prepared = self._methods[method] = _Method(method, handler)
        if prepared.open is not None:
            return prepared.open

        authorization = request_id = correlation_id = None
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                authorization = value
            elif key == "x-request-id":
                request_id = value
            elif key == "x-correlation-id":
                correlation_id = value

        principal: Principal | None = None
        error: ItirpError | None = None
        rule = prepared.rule
        if rule is None:
            error = PermissionDenied(
                f"{_short(method)} is not open to any role", reason=Reason.METHOD_NOT_OPEN, metadata={"method": method}
            )
        elif rule is not OPEN:
            try:
                principal = self._auth.authenticate(authorization)
            except Unauthenticated as exc:
                error = exc
            else:
                assert isinstance(rule, Role)
                error = _role_error(method, rule, principal)
        bad_metadata: InvalidArgument | None = None
        try:
            check_metadata(handler_call_details.invocation_metadata or ())
        except InvalidArgument as exc:  # an id too long to log or record: refused, and not used
            bad_metadata, request_id, correlation_id = exc, None, None
        call = _Call(method, principal, error, (request_id or random_hex(8))[:64], (correlation_id or "")[:128])
        call.needs = rule if isinstance(rule, Role) else None
        call.bad_metadata = bad_metadata
        if self._client_cert_users and authorization is None and isinstance(rule, Role):
            call.by_certificate = rule  # the peer's certificate is known to the handler's context only
        return self._wrap(handler, call, prepared.deserializer)

    async def _certificate_user(self, call: _Call, context: grpc.aio.ServicerContext) -> None:
        """A call without a token, from a client whose verified certificate names a user: that
        user's, within its role (a certificate naming no active user is UNAUTHENTICATED)."""
        rule = call.by_certificate
        identity = certificate_identity(context)
        if rule is None or identity is None:
            return  # no certificate: the call stays refused for its missing credentials
        try:
            call.principal = await self._auth.authenticate_certificate(*identity)
        except Unauthenticated as exc:
            call.error = exc
        else:
            call.error = _role_error(call.method, rule, call.principal)

    def _wrap(
        self, handler: grpc.RpcMethodHandler, call: _Call, deserializer: Callable[[bytes], Any] | None
    ) -> grpc.RpcMethodHandler:
        # grpc's RpcMethodHandler tuple, made directly (its public makers import a module per call):
        # request_streaming, response_streaming, deserializer, serializer, then the four behaviours
        make = _HANDLER_TYPE
        serializer = handler.response_serializer
        if handler.request_streaming:
            # The itirp.v1 API's one client-streaming RPC is bidirectional (OrderEntry): each
            # request is checked by its handler, which answers a bad one and carries on.
            if not handler.response_streaming:
                raise RuntimeError(f"unexpected client-streaming method {call.method}")
            behaviour = self._streaming(handler.stream_stream, call, bidirectional=True)
            return make(True, True, deserializer, serializer, None, None, None, behaviour)
        if handler.response_streaming:
            behaviour = self._streaming(handler.unary_stream, call)
            return make(False, True, deserializer, serializer, None, behaviour, None, None)
        return make(False, False, deserializer, serializer, self._unary(handler.unary_unary, call), None, None, None)

    def _unary(self, behavior: Callable[..., Awaitable[Any]], call: _Call) -> Callable[..., Awaitable[Any]]:
        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if call.by_certificate is not None:
                await self._certificate_user(call, context)
            tokens = self._enter(call, context)
            started = time.perf_counter()
            code = _OK
            try:
                if call.error is not None:
                    raise call.error
                check_request(request, call.bad_metadata)
                return await behavior(request, context)
            except MAPPED as exc:
                status = _rich_abort_status(exc, call.request_id)
                code = status.code
                await context.abort_with_status(status)
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except Exception:
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error in %s", call.method)
                await context.abort(code, f"internal error; quote request id {call.request_id}")
            finally:
                self._exit(call, code, started, tokens)

        return unary

    def _streaming(
        self, behavior: Callable[..., AsyncIterator[Any]], call: _Call, *, bidirectional: bool = False
    ) -> Callable[..., AsyncIterator[Any]]:
        async def streaming(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            if call.by_certificate is not None:
                await self._certificate_user(call, context)
            tokens = self._enter(call, context)
            started = time.perf_counter()
            code = _OK
            watched: WatchedStream | None = None
            try:
                if call.error is not None:
                    raise call.error
                # a bidirectional call's `request` is the iterator of its requests: the handler checks each
                check_request(None if bidirectional else request, call.bad_metadata)
                if call.principal is not None and call.needs is not None:
                    # the stream ends when its access is taken away (see itirp.auth.access)
                    watched = self._auth.watch_stream(call.principal, call.needs)
                async for response in self._guarded(behavior(request, context), watched):
                    yield response
            except MAPPED as exc:
                status = _rich_abort_status(exc, call.request_id)
                code = status.code
                await context.abort_with_status(status)
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except BaseException as exc:  # includes cancellation by a departed client
                if isinstance(exc, Exception):
                    code = grpc.StatusCode.INTERNAL
                    log.exception("unhandled error in %s", call.method)
                    await context.abort(code, f"internal error; quote request id {call.request_id}")
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                if watched is not None:
                    self._auth.streams.close(watched)
                self._exit(call, code, started, tokens)

        return streaming

    @staticmethod
    async def _guarded(responses: Any, watched: WatchedStream | None) -> AsyncIterator[Any]:
        """The handler's responses until its access is taken away, then the error that says why:
        raised before the next response is asked for, or (while the handler waits for one) by
        cancelling the task, which is turned back into that error here."""
        if watched is None:
            async for response in responses:
                yield response
            return
        async with contextlib.aclosing(responses):
            while True:
                watched.raise_if_ended()
                watched.inside = True
                try:
                    response = await anext(responses)
                except StopAsyncIteration:
                    _ours_uncancelled(watched)  # a stream that ended as we cancelled it still says why
                    watched.raise_if_ended()
                    return
                except asyncio.CancelledError:
                    if not _ours_uncancelled(watched):
                        raise
                    watched.raise_if_ended()  # the cancellation was ours: it becomes the error
                finally:
                    watched.inside = False
                yield response

    def _enter(self, call: _Call, context: grpc.aio.ServicerContext) -> tuple[Any, Any, Any]:
        context.set_trailing_metadata((("x-request-id", call.request_id),))
        return (
            principal_var.set(call.principal),
            request_id_var.set(call.request_id),
            correlation_id_var.set(call.correlation_id),
        )

    def _exit(self, call: _Call, code: grpc.StatusCode, started: float, tokens: tuple[Any, Any, Any]) -> None:
        elapsed = time.perf_counter() - started
        if self._observe is not None:
            self._observe(call.method, code, elapsed)
        if self._access_log:
            fields: dict[str, object] = {
                "method": call.method,
                "code": code.name,
                "duration_ms": round(elapsed * 1000, 3),
                "request_id": call.request_id,
            }
            if call.principal is not None:
                fields["user"] = call.principal.username
            if call.correlation_id:
                fields["correlation_id"] = call.correlation_id
            emit(access_log, "rpc", fields)
        try:
            principal_var.reset(tokens[0])
            request_id_var.reset(tokens[1])
            correlation_id_var.reset(tokens[2])
        except ValueError:  # a stream finalised from another task's context; that context dies with it
            pass


def _open(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """An open method (health, reflection): unauthenticated and unlogged, but bytes that do not
    decode are INVALID_ARGUMENT there too, not grpc's UNKNOWN. Reflection's bidirectional stream
    is passed through as it is."""
    if handler.request_streaming:
        return handler

    async def refused(request: Any, context: grpc.aio.ServicerContext) -> None:
        try:
            check_request(request)
        except InvalidArgument as exc:
            await context.abort_with_status(_rich_abort_status(exc, random_hex(8)))

    if handler.response_streaming:
        stream = handler.unary_stream
        behaviour: Callable[..., Any]
        if inspect.isasyncgenfunction(stream):

            async def generated(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                await refused(request, context)
                async for response in stream(request, context):
                    yield response

            behaviour = generated
        else:  # a coroutine that writes with context.write (grpc's own health Watch)

            async def writes(request: Any, context: grpc.aio.ServicerContext) -> None:
                await refused(request, context)
                await stream(request, context)

            behaviour = writes
        return grpc.unary_stream_rpc_method_handler(
            behaviour,
            request_deserializer=tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    unary = handler.unary_unary

    async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await refused(request, context)
        return await unary(request, context)

    return grpc.unary_unary_rpc_method_handler(
        answer,
        request_deserializer=tolerant(handler.request_deserializer),
        response_serializer=handler.response_serializer,
    )
