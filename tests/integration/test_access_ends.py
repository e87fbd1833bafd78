"""Access that ends when it is taken away, through a real server and real grpc.aio channels:
open streams end (with the reason) when their user is disabled, logs out, changes role or
password, or when the token expires; tokens with impossible times are refused; the login
throttle cannot be raced or used by one address to lock a name out everywhere.

No timing assertions: each "within a few seconds" is a bounded wait that fails the test when
the stream is still open after it (the streams' heartbeat here is 15 s, longer than every bound)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

import grpc
import jwt
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from itirp.auth.roles import Role
from itirp.auth.users import UserStore
from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc, order_pb2, order_pb2_grpc
from tests.conftest import DEMO, TEST_SECRET, bearer, login, make_config

#: How long a stream may stay open after its access was taken away (generous: CI is slow).
BOUND = 8.0


def reason_of(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, f"no rich status: {error.code()} {error.details()}"
    for packed in status.details:
        info = error_details_pb2.ErrorInfo()
        if packed.Unpack(info):
            return info.reason
    raise AssertionError("no ErrorInfo")


async def caught_up(call: Any) -> None:
    """Read until the stream says it has caught up (it is then live)."""
    while True:
        item = await asyncio.wait_for(call.read(), BOUND)
        assert item is not grpc.aio.EOF
        if item.WhichOneof("kind") == "caught_up":
            return


async def ended(call: Any) -> grpc.aio.AioRpcError:
    """The error that ends a live stream, waiting at most BOUND seconds for it."""
    deadline = asyncio.get_running_loop().time() + BOUND
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            call.cancel()
            pytest.fail(f"the stream was still open {BOUND} s after its access was taken away")
        try:
            item = await asyncio.wait_for(call.read(), left)
        except grpc.aio.AioRpcError as error:
            return error
        except TimeoutError:
            continue
        assert item is not grpc.aio.EOF, "the stream ended without saying why"


def order_stream(channel: grpc.aio.Channel, token: str) -> Any:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    return stub.StreamOrderUpdates(order_pb2.StreamOrderUpdatesRequest(), metadata=bearer(token))


def event_stream(channel: grpc.aio.Channel, token: str) -> Any:
    stub = audit_pb2_grpc.AuditServiceStub(channel)
    return stub.SubscribeEvents(audit_pb2.SubscribeEventsRequest(), metadata=bearer(token))


def users_of(server: RunningServer) -> UserStore:
    return UserStore(server.config.data_dir / "users.db")


async def test_disabling_a_user_ends_their_open_order_and_event_streams(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        # Arrange: an admin with both streams open, a trader with an order stream
        admin = (await login(channel, "admin")).access_token
        trader = (await login(channel, "trader1")).access_token
        streams = [order_stream(channel, admin), event_stream(channel, admin), order_stream(channel, trader)]
        for call in streams:
            await caught_up(call)

        # Act: `itirp users disable admin` (the same table the CLI writes)
        store = users_of(server)
        store.set_disabled("admin")
        store.close()

        # Assert: the admin's streams end UNAUTHENTICATED, USER_DISABLED; the trader's goes on
        for call in streams[:2]:
            error = await ended(call)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert reason_of(error) == "USER_DISABLED"
            assert "disabled" in error.details()
        still = streams[2]
        assert not still.done()
        still.cancel()


async def test_a_logout_ends_the_streams_opened_with_that_token(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        token = (await login(channel, "compliance1")).access_token
        other = (await login(channel, "compliance1")).access_token
        mine, theirs = event_stream(channel, token), event_stream(channel, other)
        await caught_up(mine)
        await caught_up(theirs)

        await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=bearer(token))

        error = await ended(mine)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason_of(error) == "TOKEN_REVOKED"
        assert not theirs.done()  # another session of the same user is not logged out
        theirs.cancel()


async def test_a_token_that_expires_ends_its_stream(tmp_path) -> None:  # type: ignore[no-untyped-def]
    running = await serve(make_config(tmp_path / "data", token_ttl_seconds=2))
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            call = order_stream(channel, (await login(channel, "trader1")).access_token)
            await caught_up(call)

            error = await ended(call)

            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert reason_of(error) == "TOKEN_EXPIRED"
    finally:
        await running.shutdown(grace=0)


async def test_a_role_change_ends_streams_the_new_role_no_longer_reaches(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        token = (await login(channel, "compliance1")).access_token
        audit, orders = event_stream(channel, token), order_stream(channel, token)
        await caught_up(audit)
        await caught_up(orders)

        store = users_of(server)
        store.set_role("compliance1", Role.TRADER)  # `itirp users set-role compliance1 TRADER`
        store.close()

        error = await ended(audit)  # SubscribeEvents needs COMPLIANCE
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert reason_of(error) == "ROLE_REQUIRED"
        # the order stream is still reachable, but what it shows depends on the role: it ends so
        # that the client reopens it under the new role
        error = await ended(orders)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason_of(error) == "ROLE_CHANGED"
        # a new token names the new role and reaches what a trader may
        fresh = await auth_pb2_grpc.AuthServiceStub(channel).RefreshToken(
            auth_pb2.RefreshTokenRequest(), metadata=bearer(token)
        )
        assert fresh.role == Role.TRADER.value
        again = order_stream(channel, fresh.access_token)
        await caught_up(again)
        again.cancel()


async def test_a_password_change_revokes_the_users_tokens_and_ends_their_streams(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        token = (await login(channel, "trader1")).access_token
        call = order_stream(channel, token)
        await caught_up(call)

        store = users_of(server)
        store.set_password("trader1", "a-new-password", scrypt_n=2**10)  # `itirp users passwd trader1`
        store.close()

        error = await ended(call)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason_of(error) == "CREDENTIALS_CHANGED"
        whoami = auth_pb2_grpc.AuthServiceStub(channel).WhoAmI
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await whoami(auth_pb2.WhoAmIRequest(), metadata=bearer(token))
        assert reason_of(info.value) == "CREDENTIALS_CHANGED"
        fresh = (await login(channel, "trader1", "a-new-password")).access_token
        assert (await whoami(auth_pb2.WhoAmIRequest(), metadata=bearer(fresh))).username == "trader1"


def _forged(**claims: object) -> str:
    now = int(time.time())
    payload = {"sub": "admin", "user_id": "x", "role": "ADMIN", "iat": now, "exp": now + 600, "jti": "j", **claims}
    return jwt.encode(payload, TEST_SECRET, "HS256", json_encoder=json.JSONEncoder)


@pytest.mark.parametrize(
    "claims",
    [
        {"nbf": int(time.time()) + 3600},
        {"iat": int(time.time()) + 3600},
        {"exp": 1e19},
        {"exp": math.inf},
        {"exp": -math.inf},
        {"iat": math.nan},
        {"exp": "tomorrow"},
    ],
    ids=["nbf-future", "iat-future", "exp-1e19", "exp-inf", "exp-minus-inf", "iat-nan", "exp-string"],
)
async def test_tokens_with_impossible_times_are_unauthenticated(
    channel: grpc.aio.Channel, claims: dict[str, object]
) -> None:
    whoami = auth_pb2_grpc.AuthServiceStub(channel).WhoAmI
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await whoami(auth_pb2.WhoAmIRequest(), metadata=bearer(_forged(**claims)))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(info.value) == "TOKEN_INVALID"


async def test_concurrent_guesses_cannot_buy_more_attempts_than_the_limit(server: RunningServer) -> None:
    # Arrange: 49 wrong guesses and the right password last, all sent at once
    limit = server.config.auth.max_failed_logins
    guesses = ["wrong-guess"] * 49 + [DEMO["trader1"]]
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)

        async def attempt(password: str) -> str:
            try:
                await stub.Login(auth_pb2.LoginRequest(username="trader1", password=password))
            except grpc.aio.AioRpcError as error:
                return reason_of(error)
            return "OK"

        # Act
        answers = await asyncio.gather(*(attempt(p) for p in guesses))

    # Assert: only `limit` attempts were evaluated; every other one was refused unchecked
    evaluated = [a for a in answers if a != "LOCKED_OUT"]
    assert len(evaluated) <= limit, answers
    assert set(evaluated) <= {"BAD_CREDENTIALS", "OK"}
