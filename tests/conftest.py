"""Shared fixtures: a real server on a loopback port (port 0), real grpc.aio channels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from itirp.config import Config, Secret
from itirp.server import RunningServer, serve
from itirp.v1 import auth_pb2, auth_pb2_grpc

TEST_SECRET = "test-secret-for-hs256-0123456789abcdef"
DEMO = {
    "trader1": "trader123",
    "risk1": "risk123",
    "compliance1": "compliance123",
    "admin": "admin123",
}


#: The test desk's instrument list (tests/instruments.csv).
TEST_INSTRUMENTS = Path(__file__).resolve().parent / "instruments.csv"


def make_config(data_dir: Path, **overrides: object) -> Config:
    """A server config for tests: loopback port 0, cheap scrypt, quiet logs. `overrides` use flat
    names (`venue="internal"`, `execution_attempts=1`, `heartbeat_seconds=0.2`), which
    `Config.from_flat` places in their sections."""
    base: dict[str, object] = {
        "listen": "127.0.0.1:0",
        "data_dir": data_dir,
        "jwt_secret": Secret(TEST_SECRET),
        "scrypt_n": 2**10,
        "shutdown_grace_seconds": 2.0,
        "auth_user_refresh_seconds": 0.1,
        # the test desk's instruments: every symbol the tests trade, on the order grid, no band,
        # no listing price (tests of bands and marks set their own); no feed moving prices
        "reference_demo_instruments": False,
        "reference_instruments_file": str(TEST_INSTRUMENTS),
        "feed_kind": "off",
    }
    return Config.from_flat(**{**base, **overrides})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "data")


@pytest.fixture
async def server(config: Config) -> AsyncIterator[RunningServer]:
    running = await serve(config)
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


@pytest.fixture
async def channel(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.address) as ch:
        yield ch


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def login(channel: grpc.aio.Channel, username: str, password: str | None = None) -> auth_pb2.LoginResponse:
    stub = auth_pb2_grpc.AuthServiceStub(channel)
    return await stub.Login(auth_pb2.LoginRequest(username=username, password=password or DEMO[username]))


@pytest.fixture
def token_for(channel: grpc.aio.Channel) -> Callable[[str], object]:
    async def get(username: str) -> str:
        return (await login(channel, username)).access_token

    return get


class ScriptedVenue:
    """A venue whose behaviour a test sets: fill, fail transiently, reject, or hold until released."""

    name = "scripted"

    def __init__(self) -> None:
        import asyncio

        self.mode = "fill"  # "fill" | "transient" | "permanent" | "hang"
        self.gate: asyncio.Event | None = None  # when set, every call waits for it
        self.calls: list[tuple[str, int]] = []
        self.entered = asyncio.Event()

    async def execute(self, order):  # type: ignore[no-untyped-def]
        import asyncio

        from itirp.execution.venue import Fill, PermanentVenueError, TransientVenueError

        self.calls.append((order.order_id, order.attempt))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.mode == "transient":
            raise TransientVenueError("scripted: connection reset")
        if self.mode == "permanent":
            raise PermanentVenueError("scripted: symbol halted")
        if self.mode == "hang":
            await asyncio.sleep(3600)
        return Fill(order.quantity, order.price, f"x-{order.order_id[:8]}-{order.attempt}")
