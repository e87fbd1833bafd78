"""Health, graceful drain and shutdown of a real server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from itirp.server import serve
from itirp.server.bootstrap import SERVICE_NAMES
from itirp.v1 import auth_pb2, auth_pb2_grpc
from tests.conftest import bearer, login, make_config

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Gate(grpc.aio.ServerInterceptor):
    """Holds WhoAmI calls until released, so a test can have a call in flight at a known moment."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        if details.method.endswith("/WhoAmI"):
            self.entered.set()
            await self.release.wait()
        return await continuation(details)


@pytest.mark.parametrize("service", ["", *SERVICE_NAMES])
async def test_health_is_serving_for_the_server_and_each_service(channel: grpc.aio.Channel, service: str) -> None:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service))
    assert reply.status == SERVING


async def test_health_is_open_without_a_token_but_unknown_services_are_not_found(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="nope.Service"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_drain_turns_health_not_serving_lets_in_flight_calls_finish_and_refuses_new_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gate = Gate()
    running = await serve(make_config(tmp_path / "data", drain_delay_seconds=0.3), extra_interceptors=[gate])
    async with grpc.aio.insecure_channel(running.address) as channel:
        token = (await login(channel, "trader1")).access_token
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == SERVING
        in_flight = asyncio.ensure_future(
            auth_pb2_grpc.AuthServiceStub(channel).WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(token))
        )
        await gate.entered.wait()

        shutdown = asyncio.ensure_future(running.shutdown(grace=5))

        # health watchers learn first, while the server drains
        assert (await watch.read()).status == NOT_SERVING
        check = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
        assert check.status == NOT_SERVING
        # once stopping, new calls are refused ...
        await asyncio.sleep(0.4)  # past the drain delay: the server has stopped accepting calls
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await auth_pb2_grpc.AuthServiceStub(channel).Login(
                auth_pb2.LoginRequest(username="risk1", password="risk123"), timeout=5
            )
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        # ... while the call already in flight completes normally
        gate.release.set()
        assert (await in_flight).username == "trader1"
        watch.cancel()
        await shutdown
    await running.wait_stopped()


async def test_shutdown_twice_is_harmless(server) -> None:  # type: ignore[no-untyped-def]
    await asyncio.gather(server.shutdown(grace=0), server.shutdown(grace=0))
    await server.wait_stopped()


async def test_second_server_on_the_same_port_fails_to_start(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OSError, match="cannot listen"):
        await serve(make_config(tmp_path / "other", listen=server.address))


async def test_drain_ends_open_streams_with_their_resume_point(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from itirp.v1 import audit_pb2, audit_pb2_grpc

    running = await serve(make_config(tmp_path / "data"))
    async with grpc.aio.insecure_channel(running.address) as channel:
        token = (await login(channel, "compliance1")).access_token
        stream = audit_pb2_grpc.AuditServiceStub(channel).SubscribeEvents(
            audit_pb2.SubscribeEventsRequest(), metadata=bearer(token)
        )
        while (await stream.read()).WhichOneof("kind") != "caught_up":
            pass
        head = running.store.head_sequence

        shutdown = asyncio.ensure_future(running.shutdown(grace=30))

        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stream.read()
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert info.value.details() == f"the server is shutting down; resume with from_sequence={head}"
        await shutdown  # not held for the grace period by the open stream
