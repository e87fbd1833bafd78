"""Every method is served from one table (itirp.server.routes): a method that is not in it, of a
known service or of none, answers UNIMPLEMENTED, and the services grpc tools rely on still answer."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from itirp.v1 import system_pb2, system_pb2_grpc
from tests.conftest import bearer, login


@pytest.mark.parametrize("method", ["/itirp.v1.OrderService/NoSuchMethod", "/no.such.Service/Call"])
async def test_a_method_the_server_does_not_have_answers_unimplemented(channel: grpc.aio.Channel, method: str) -> None:
    token = (await login(channel, "trader1")).access_token
    call = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(b"", metadata=bearer(token))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_health_and_an_itirp_service_answer_through_the_table(channel: grpc.aio.Channel) -> None:
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    token = (await login(channel, "trader1")).access_token
    info = await system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
        system_pb2.GetSystemInfoRequest(), metadata=bearer(token)
    )
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert info.version
