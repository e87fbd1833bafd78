"""Retries of a unary call (`AsyncClient._call`) with a fake RPC and an injected sleep."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from itirp_client import AsyncClient, RetryPolicy, ServerUnavailable
from tests.unit.client.support import Sleeps, error_info, retry_info, rpc_error


class FlakyRpc:
    """Fails with the given errors, then answers "ok"."""

    def __init__(self, *errors: grpc.aio.AioRpcError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, request: Any, metadata: Any = ()) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_unavailable_is_retried_after_the_servers_retry_delay() -> None:
    sleeps = Sleeps()
    client = AsyncClient("127.0.0.1:1", retry=RetryPolicy(attempts=3, max_delay=3.0), sleep=sleeps)
    try:
        rpc = FlakyRpc(
            rpc_error(grpc.StatusCode.UNAVAILABLE, "store down", error_info("STORE_UNAVAILABLE"), retry_info(1.5)),
            rpc_error(grpc.StatusCode.UNAVAILABLE, "unreachable"),  # no details: the policy's backoff
        )
        assert await client._call(rpc, None) == "ok"
        assert rpc.calls == 3
        assert sleeps.delays[0] == pytest.approx(1.5)
        assert 0.1 <= sleeps.delays[1] <= 0.2
    finally:
        await client.close()


async def test_a_longer_wait_than_the_policy_allows_is_left_to_the_caller() -> None:
    sleeps = Sleeps()
    client = AsyncClient("127.0.0.1:1", retry=RetryPolicy(attempts=6, max_delay=3.0), sleep=sleeps)
    try:
        rpc = FlakyRpc(
            rpc_error(grpc.StatusCode.UNAVAILABLE, "store down", error_info("STORE_UNAVAILABLE"), retry_info(5))
        )
        with pytest.raises(ServerUnavailable) as raised:
            await client._call(rpc, None)
        assert raised.value.retry_after == pytest.approx(5.0)
        assert (rpc.calls, sleeps.delays) == (1, [])
    finally:
        await client.close()
