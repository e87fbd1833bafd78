"""Honest placeholders: every RPC of a service whose issue has not landed answers UNIMPLEMENTED.

Built from the service descriptor, so the request is parsed like a real one and reflection lists
the service, but no reply is ever faked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

__all__ = ["unimplemented_service"]


def _message(request: object) -> bytes:
    return request.SerializeToString()  # type: ignore[attr-defined]


def _handler(service: ServiceDescriptor, method: MethodDescriptor) -> grpc.RpcMethodHandler:
    text = f"{service.name}.{method.name} is not implemented on this server yet"
    request_class = message_factory.GetMessageClass(method.input_type)

    async def unary(request: object, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, text)

    async def server_stream(request: object, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, text)
        yield None  # pragma: no cover - abort raises

    if method.client_streaming:
        raise NotImplementedError("the itirp.v1 API has no client-streaming RPCs")
    make = grpc.unary_stream_rpc_method_handler if method.server_streaming else grpc.unary_unary_rpc_method_handler
    return make(
        server_stream if method.server_streaming else unary,
        request_deserializer=request_class.FromString,
        response_serializer=_message,
    )


def unimplemented_service(service: ServiceDescriptor) -> grpc.GenericRpcHandler:
    handlers = {m.name: _handler(service, m) for m in service.methods}
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
