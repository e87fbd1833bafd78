"""Routes: every service's methods behind one generic handler (itirp.server.routes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from itirp.server.routes import Routes
from itirp.v1 import order_pb2, order_pb2_grpc


@dataclass
class _Details:
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


async def _noop(request: Any, context: Any) -> None:
    return None


def test_generated_registration_lands_in_the_table_once() -> None:
    routes = Routes()
    order_pb2_grpc.add_OrderServiceServicer_to_server(order_pb2_grpc.OrderServiceServicer(), routes)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), routes)
    service = order_pb2.DESCRIPTOR.services_by_name["OrderService"]
    expected = {f"/{service.full_name}/{m.name}" for m in service.methods}
    assert expected <= set(routes.methods)
    assert "/grpc.health.v1.Health/Check" in routes.methods
    for name in expected:
        handler = routes.service(_Details(name))
        assert handler is not None
        assert handler.request_deserializer is not None
    # the generic handlers the generated code also gave are not kept beside the table
    assert routes._others == []


def test_a_generic_only_handler_is_asked_after_the_table() -> None:
    routes = Routes()
    handler = grpc.unary_unary_rpc_method_handler(_noop)
    routes.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("bench.Extra", {"Noop": handler})])
    assert routes.service(_Details("/bench.Extra/Noop")) is handler
    assert routes.service(_Details("/bench.Extra/Other")) is None
    assert routes.service(_Details("/itirp.v1.OrderService/SubmitOrder")) is None


def test_an_unknown_method_finds_nothing() -> None:
    routes = Routes()
    order_pb2_grpc.add_OrderServiceServicer_to_server(order_pb2_grpc.OrderServiceServicer(), routes)
    assert routes.service(_Details("/itirp.v1.OrderService/NoSuchMethod")) is None
    assert routes.service(_Details("/no.Such/Service")) is None
