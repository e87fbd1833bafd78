"""Authentication and roles against a real server through a real grpc.aio channel."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import grpc
import jwt
import pytest

from itirp.auth.users import UserStore
from itirp.server import RunningServer, serve
from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    risk_pb2,
    risk_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)
from tests.conftest import DEMO, TEST_SECRET, bearer, login, make_config

ROLES = {
    "trader1": common_pb2.ROLE_TRADER,
    "trader2": common_pb2.ROLE_TRADER,
    "risk1": common_pb2.ROLE_RISK_MANAGER,
    "compliance1": common_pb2.ROLE_COMPLIANCE,
    "admin": common_pb2.ROLE_ADMIN,
}


async def whoami(channel: grpc.aio.Channel, metadata: tuple | None) -> auth_pb2.WhoAmIResponse:
    return await auth_pb2_grpc.AuthServiceStub(channel).WhoAmI(auth_pb2.WhoAmIRequest(), metadata=metadata)


async def _error_of(awaitable) -> grpc.aio.AioRpcError | None:  # type: ignore[no-untyped-def]
    """The call's error, or None when it succeeded."""
    try:
        await awaitable
    except grpc.aio.AioRpcError as error:
        return error
    return None


async def _code_of(awaitable) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    error = await _error_of(awaitable)
    return grpc.StatusCode.OK if error is None else error.code()


async def refused(awaitable) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value


@pytest.mark.parametrize("username", list(DEMO))
async def test_each_demo_user_logs_in_and_whoami_names_them(channel: grpc.aio.Channel, username: str) -> None:
    reply = await login(channel, username)

    assert reply.token_type == "bearer"
    assert reply.expires_in == 1800
    assert reply.role == ROLES[username]
    me = await whoami(channel, bearer(reply.access_token))
    assert (me.username, me.user_id, me.role) == (username, reply.user_id, ROLES[username])
    assert me.expires_at.seconds - me.issued_at.seconds == 1800
    assert me.token_id


async def test_wrong_password_and_unknown_user_get_the_same_answer(channel: grpc.aio.Channel) -> None:
    wrong_password = await refused(login(channel, "trader1", "nope"))
    unknown_user = await refused(login(channel, "nobody", "nope"))

    assert wrong_password.code() == unknown_user.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong_password.details() == unknown_user.details() == "invalid username or password"


async def test_empty_credentials_are_invalid_arguments(channel: grpc.aio.Channel) -> None:
    error = await refused(auth_pb2_grpc.AuthServiceStub(channel).Login(auth_pb2.LoginRequest(username="trader1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "password" in error.details()


async def test_repeated_failures_lock_the_user_out_and_the_answer_says_so(channel: grpc.aio.Channel) -> None:
    for _ in range(5):  # the configured maximum
        assert (await refused(login(channel, "trader1", "bad"))).code() == grpc.StatusCode.UNAUTHENTICATED

    locked = await refused(login(channel, "trader1", "trader123"))

    assert locked.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "locked out" in locked.details()
    assert "try again in" in locked.details()
    # others are not affected
    assert (await login(channel, "risk1")).access_token


async def test_lockout_applies_to_unknown_names_too_revealing_nothing(channel: grpc.aio.Channel) -> None:
    for _ in range(5):
        await refused(login(channel, "ghost", "bad"))
    assert (await refused(login(channel, "ghost", "bad"))).code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims = {"sub": "admin", "user_id": "x", "role": "ADMIN", "iat": now, "exp": now + 600, "jti": "j"}
    claims.update(overrides)
    return claims


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "missing credentials"),
        ((("authorization", "Bearer"),), "malformed authorization metadata"),
        ((("authorization", "Basic dXNlcjpwdw=="),), "malformed authorization metadata"),
        ((("authorization", "Bearer not-a-jwt"),), "malformed token"),
        ((("authorization", "Bearer a.b.c"),), "malformed token"),
        ((("authorization", f"Bearer {_b64({'alg': 'none'})}.{_b64(_claims())}."),), "'none' is not accepted"),
        (
            (("authorization", "Bearer " + jwt.encode(_claims(), "another-secret-of-at-least-32-bytes!!", "HS256")),),
            "signature is invalid",
        ),
        (
            (("authorization", "Bearer " + jwt.encode(_claims(exp=int(time.time()) - 5), TEST_SECRET, "HS256")),),
            "expired",
        ),
    ],
    ids=[
        "missing",
        "bearer-without-token",
        "basic-scheme",
        "garbled",
        "garbled-3-parts",
        "alg-none",
        "other-secret",
        "expired",
    ],
)
async def test_bad_credentials_are_unauthenticated_saying_which(
    channel: grpc.aio.Channel, metadata: tuple | None, message: str
) -> None:
    error = await refused(whoami(channel, metadata))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert message in error.details()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_token_with_another_hmac_algorithm_is_refused(channel: grpc.aio.Channel) -> None:
    token = jwt.encode(_claims(), TEST_SECRET, algorithm="HS384")
    error = await refused(whoami(channel, bearer(token)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "'HS384' is not accepted" in error.details()


async def test_logged_out_token_is_refused_from_then_on(channel: grpc.aio.Channel) -> None:
    token = (await login(channel, "trader1")).access_token
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    reply = await stub.Logout(auth_pb2.LogoutRequest(), metadata=bearer(token))

    assert reply.token_id
    assert reply.revoked_at.seconds > 0
    error = await refused(whoami(channel, bearer(token)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in error.details()
    # a fresh login still works
    assert (await whoami(channel, bearer((await login(channel, "trader1")).access_token))).username == "trader1"


async def test_refresh_gives_a_new_working_token(channel: grpc.aio.Channel) -> None:
    first = await login(channel, "risk1")
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    fresh = await stub.RefreshToken(auth_pb2.RefreshTokenRequest(), metadata=bearer(first.access_token))

    assert fresh.access_token != first.access_token
    assert fresh.token_type == "bearer"
    me = await whoami(channel, bearer(fresh.access_token))
    assert me.username == "risk1"
    assert me.role == common_pb2.ROLE_RISK_MANAGER
    assert me.token_id != (await whoami(channel, bearer(first.access_token))).token_id


async def test_refresh_needs_a_valid_token(channel: grpc.aio.Channel) -> None:
    stub = auth_pb2_grpc.AuthServiceStub(channel)
    error = await refused(stub.RefreshToken(auth_pb2.RefreshTokenRequest()))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


def _calls(channel: grpc.aio.Channel, md: tuple) -> dict[str, object]:
    risk = risk_pb2_grpc.RiskServiceStub(channel)
    audit = audit_pb2_grpc.AuditServiceStub(channel)
    return {
        "UpdateRiskLimits": lambda: risk.UpdateRiskLimits(risk_pb2.UpdateRiskLimitsRequest(), metadata=md),
        "SetKillSwitch": lambda: risk.SetKillSwitch(risk_pb2.SetKillSwitchRequest(enabled=True), metadata=md),
        "ListEvents": lambda: audit.ListEvents(audit_pb2.ListEventsRequest(), metadata=md),
        "GetCorrelationTrail": lambda: audit.GetCorrelationTrail(audit_pb2.GetCorrelationTrailRequest(), metadata=md),
        "GetOrderTrail": lambda: audit.GetOrderTrail(audit_pb2.GetOrderTrailRequest(), metadata=md),
        "VerifyAuditLog": lambda: audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md),
        "SubscribeEvents": lambda: _first(audit.SubscribeEvents(audit_pb2.SubscribeEventsRequest(), metadata=md)),
    }


async def _first(stream):  # type: ignore[no-untyped-def]
    async for item in stream:
        return item
    return None


RISK_RPCS = ["UpdateRiskLimits", "SetKillSwitch"]
AUDIT_RPCS = ["ListEvents", "GetCorrelationTrail", "GetOrderTrail", "VerifyAuditLog", "SubscribeEvents"]


@pytest.mark.parametrize(
    ("username", "rpc", "needed"),
    [("trader1", rpc, "RISK_MANAGER") for rpc in RISK_RPCS]
    + [("trader1", rpc, "COMPLIANCE") for rpc in AUDIT_RPCS]
    + [("risk1", rpc, "COMPLIANCE") for rpc in AUDIT_RPCS],
)
async def test_too_low_a_role_is_permission_denied_naming_the_role_needed(
    channel: grpc.aio.Channel,
    token_for,
    username: str,
    rpc: str,
    needed: str,  # type: ignore[no-untyped-def]
) -> None:
    md = bearer(await token_for(username))
    error = await refused(_calls(channel, md)[rpc]())
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"requires the {needed} role or above" in error.details()


@pytest.mark.parametrize(
    ("username", "rpcs"), [("risk1", RISK_RPCS), ("compliance1", AUDIT_RPCS), ("admin", RISK_RPCS + AUDIT_RPCS)]
)
async def test_high_enough_roles_pass_the_role_check(
    channel: grpc.aio.Channel, token_for, username: str, rpcs: list[str]
) -> None:  # type: ignore[no-untyped-def]
    md = bearer(await token_for(username))
    for rpc in rpcs:
        # past the role check: what remains is an answer about the request itself
        code = await _code_of(asyncio.wait_for(_calls(channel, md)[rpc](), 5))
        assert code not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED), rpc


@pytest.mark.parametrize("username", list(DEMO))
async def test_system_info_for_every_role(channel: grpc.aio.Channel, token_for, username: str) -> None:  # type: ignore[no-untyped-def]
    stub = system_pb2_grpc.SystemServiceStub(channel)
    info = await stub.GetSystemInfo(system_pb2.GetSystemInfoRequest(), metadata=bearer(await token_for(username)))
    assert info.name == "itirp"
    assert info.version
    assert info.event_loop in {"uvloop", "asyncio"}
    assert info.start_time.seconds > 0
    assert info.demo_users is True


async def test_every_reply_carries_a_request_id(channel: grpc.aio.Channel) -> None:
    call = auth_pb2_grpc.AuthServiceStub(channel).Login(auth_pb2.LoginRequest(username="trader1", password="trader123"))
    await call
    trailing = dict(await call.trailing_metadata())
    assert len(trailing["x-request-id"]) == 16
    call = auth_pb2_grpc.AuthServiceStub(channel).WhoAmI(
        auth_pb2.WhoAmIRequest(), metadata=(("x-request-id", "desk-42"),)
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await call
    assert dict(await call.trailing_metadata())["x-request-id"] == "desk-42"


async def test_disabled_user_cannot_log_in_and_their_tokens_are_refused(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        token = (await login(channel, "trader1")).access_token
        store = UserStore(server.config.data_dir / "users.db")
        store.set_disabled("trader1")
        store.close()

        assert (await refused(login(channel, "trader1"))).code() == grpc.StatusCode.UNAUTHENTICATED
        for _ in range(100):  # the server re-reads disabled users every 0.1 s in tests
            error = await _error_of(whoami(channel, bearer(token)))
            if error is not None:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                assert "disabled" in error.details()
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("token of a disabled user still accepted")


async def test_demo_users_can_be_turned_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    first = await serve(make_config(data))
    async with grpc.aio.insecure_channel(first.address) as channel:
        old_token = (await login(channel, "trader1")).access_token
    await first.shutdown(grace=0)

    running = await serve(make_config(data, demo_users=False))
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            assert (await refused(login(channel, "trader1"))).code() == grpc.StatusCode.UNAUTHENTICATED
            assert (await refused(whoami(channel, bearer(old_token)))).code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await running.shutdown(grace=0)


async def test_tokens_and_revocations_survive_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    config = make_config(data, jwt_secret=None)  # the secret generated and kept in the data folder
    first = await serve(config)
    async with grpc.aio.insecure_channel(first.address) as channel:
        kept = (await login(channel, "trader1")).access_token
        revoked = (await login(channel, "risk1")).access_token
        await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=bearer(revoked))
    await first.shutdown(grace=0)
    assert (data / "jwt_secret").stat().st_mode & 0o777 == 0o600

    second = await serve(config)
    try:
        async with grpc.aio.insecure_channel(second.address) as channel:
            assert (await whoami(channel, bearer(kept))).username == "trader1"
            error = await refused(whoami(channel, bearer(revoked)))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "revoked" in error.details()
    finally:
        await second.shutdown(grace=0)
