"""The client library's streams across the access changes the server ends streams for: an expired
token (the session refreshed it meanwhile) and a role change are renewed and the stream reopened,
with nothing missed; a disable ends the stream with the reason."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from itirp.auth.roles import Role
from itirp.auth.users import UserStore
from itirp.server import serve
from itirp_client import AsyncClient
from itirp_client.errors import NotAuthenticated
from tests.conftest import DEMO, login
from tests.integration.test_access_ends import BOUND


async def _next_fill(updates: Any, order_id: str) -> None:
    async for item in updates:
        if item.update.order.order_id == order_id and not item.update.snapshot:
            return


async def test_a_from_token_session_keeps_its_order_stream_past_the_first_tokens_expiry(tmp_path: Path) -> None:
    # Arrange: 3 s tokens; a session from a saved token (no password, as itirp-cli) refreshing early
    server = await serve(make_config_ttl(tmp_path, 3))
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            token = (await login(channel, "trader1")).access_token
        first_expiry = time.time() + 3
        client = await AsyncClient.from_token(server.address, token, refresh_margin=1.5)
        updates = client.order_updates(markers=True)
        async with contextlib.aclosing(updates):
            first = await asyncio.wait_for(anext(updates), BOUND)  # the call is open, on the first token
            assert first.WhichOneof("kind") == "caught_up"
            # Act: wait past the first token's expiry (the server ends the stream opened with it)
            await asyncio.sleep(max(0.0, first_expiry + 1 - time.time()))
            reply = await client.submit_order("AAPL", "BUY", 1, "100")

            # Assert: the stream was reopened with the refreshed token and sees the new order
            await asyncio.wait_for(_next_fill(updates, reply.order_id), BOUND)
        await client.close()
    finally:
        await server.shutdown(grace=0)


async def test_a_role_change_reopens_the_stream_and_a_disable_ends_it_with_the_reason(tmp_path: Path) -> None:
    server = await serve(make_config_ttl(tmp_path, 1800))
    try:
        client = await AsyncClient.connect(server.address, "risk1", DEMO["risk1"])
        updates = client.order_updates()
        store = UserStore(server.config.data_dir / "users.db")
        async with contextlib.aclosing(updates):
            reply = await client.submit_order("AAPL", "BUY", 1, "100")
            await asyncio.wait_for(_next_fill(updates, reply.order_id), BOUND)

            store.set_role("risk1", Role.TRADER)
            # the stream goes on: every new order is seen, and once the server has noticed the
            # change the stream was reopened with a token renewed under the new role
            deadline = time.monotonic() + BOUND
            while client.role != "TRADER":
                assert time.monotonic() < deadline, "the token was not renewed under the new role"
                reply = await client.submit_order("AAPL", "BUY", 1, "100")
                await asyncio.wait_for(_next_fill(updates, reply.order_id), BOUND)

            store.set_disabled("risk1")
            with pytest.raises(NotAuthenticated) as info:
                await asyncio.wait_for(_next_fill(updates, "no-such-order"), BOUND)
            assert info.value.reason == "USER_DISABLED"
        store.close()
        await client.close()
    finally:
        await server.shutdown(grace=0)


def make_config_ttl(tmp_path: Path, ttl: int) -> Any:
    from tests.conftest import make_config

    return make_config(tmp_path / "data", token_ttl_seconds=ttl)
