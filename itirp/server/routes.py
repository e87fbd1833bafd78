"""Every service's methods as one generic handler: one dict lookup per call, whatever the count.

The generated `add_*Servicer_to_server` functions (ours, health's, reflection's) give grpc each
service twice: as a generic handler and as *registered* methods. grpc.aio (1.6x+) keeps one
pending request-call future per registered method and, for every call it accepts, awaits
`asyncio.wait` over all of them (`_server_main_loop` in grpc's `aio/server.pyx.pxi`): a done
callback added to and removed from each, per call. With the ~50 methods of this API that cost a
bare grpc.aio server 65-90 us of CPU per call, a fifth of its throughput at C=64
(docs/performance.md). `Routes` stands in for the server when the services are added, keeps the
method handlers by their full name, and is handed to grpc as the one generic handler: grpc then
waits on a single future per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grpc

__all__ = ["Routes"]


class Routes(grpc.GenericRpcHandler):  # type: ignore[misc]  # grpc ships no type stubs: its classes are Any
    """What `add_*Servicer_to_server(servicer, routes)` adds, served by full method name."""

    def __init__(self) -> None:
        self._methods: dict[str, grpc.RpcMethodHandler] = {}
        self._services: set[str] = set()
        #: generic handlers of services that did not register their methods (looked at in order)
        self._others: list[grpc.GenericRpcHandler] = []

    # -- the two calls the generated functions make on a server

    def add_registered_method_handlers(self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]) -> None:
        for name, handler in handlers.items():
            self._methods[f"/{service}/{name}"] = handler
        self._services.add(service)
        # the same service's generic handler, given first, is now answered from the table
        self._others = [h for h in self._others if _service_name(h) != service]

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._others.extend(h for h in handlers if _service_name(h) not in self._services)

    # -- grpc.GenericRpcHandler

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._methods.get(handler_call_details.method)
        if handler is not None:
            return handler
        for other in self._others:
            handler = other.service(handler_call_details)
            if handler is not None:
                return handler
        return None

    @property
    def methods(self) -> list[str]:
        """The full names of the methods served from the table."""
        return sorted(self._methods)


def _service_name(handler: grpc.GenericRpcHandler) -> str | None:
    """A service handler's name (`grpc.ServiceRpcHandler`), None for any other generic handler."""
    return handler.service_name() if isinstance(handler, grpc.ServiceRpcHandler) else None
