"""TLS and mutual TLS through a real server: a throwaway CA (tests/tls_certs.py), the gRPC port
over TLS for every kind of call (unary, server stream, health, reflection), the metrics port over
HTTPS, and the client library's `ca=`, `cert=`, `key=`."""

from __future__ import annotations

import logging
import ssl
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from itirp.config import Config, ConfigError
from itirp.server import RunningServer, serve
from itirp.v1 import auth_pb2, auth_pb2_grpc, system_pb2, system_pb2_grpc
from itirp_client import AsyncClient, NotAuthenticated, OrderStateConflict, PermissionDenied, ServerUnavailable, connect
from tests.conftest import DEMO, make_config
from tests.tls_certs import Certs, issue_certs, new_ca


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return issue_certs(tmp_path / "tls")


@pytest.fixture
async def tls_server(tmp_path: Path, certs: Certs) -> AsyncIterator[RunningServer]:
    config = make_config(
        tmp_path / "data", tls_cert=certs.server_cert, tls_key=certs.server_key, metrics_listen="127.0.0.1:0"
    )
    running = await serve(config)
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


@pytest.fixture
async def mtls_server(tmp_path: Path, certs: Certs) -> AsyncIterator[RunningServer]:
    config = make_config(
        tmp_path / "data",
        tls_cert=certs.server_cert,
        tls_key=certs.server_key,
        tls_client_ca=certs.ca,
        metrics_listen="127.0.0.1:0",
    )
    running = await serve(config)
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


def tls_credentials(certs: Certs, *, client: bool = False) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(),
        private_key=certs.client_key.read_bytes() if client else None,
        certificate_chain=certs.client_cert.read_bytes() if client else None,
    )


async def login_and_whoami(channel: grpc.aio.Channel) -> str:
    token = (
        await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username="trader1", password=DEMO["trader1"])
        )
    ).access_token
    info = await system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
        system_pb2.GetSystemInfoRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    return str(info.version)


async def test_tls_server_answers_login_health_and_reflection_over_tls(tls_server: RunningServer, certs: Certs) -> None:
    # Arrange: a channel that trusts the throwaway CA
    async with grpc.aio.secure_channel(tls_server.address, tls_credentials(certs)) as channel:
        # Act
        version = await login_and_whoami(channel)
        health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        listed = [s.name async for answer in reflection for s in answer.list_services_response.service]
    # Assert
    assert version
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert "itirp.v1.OrderService" in listed
    assert "grpc.health.v1.Health" in listed


async def test_tls_server_refuses_a_plaintext_client(tls_server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(tls_server.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_tls_client_that_does_not_trust_the_servers_ca_is_refused(
    tls_server: RunningServer, tmp_path: Path
) -> None:
    # Arrange: another CA, which did not sign the server's certificate
    stranger = new_ca(tmp_path / "other")
    # Act / Assert
    with pytest.raises(ServerUnavailable):
        await AsyncClient.connect(tls_server.address, "trader1", DEMO["trader1"], ca=stranger.ca, retry=_no_retry())


async def test_client_library_over_tls_calls_and_follows_a_stream(tls_server: RunningServer, certs: Certs) -> None:
    # Arrange
    async with await AsyncClient.connect(tls_server.address, "trader1", DEMO["trader1"], ca=certs.ca) as client:
        # Act: a unary call, a submit, and the order stream that sees it
        me = await client.whoami()
        submitted = await client.submit_order("AAPL", "BUY", 10, "150.00")
        updates = client.order_updates(order_id=submitted.order_id)
        first = await anext(updates)
        await updates.aclose()
    # Assert
    assert client.tls
    assert me.username == "trader1"
    assert first.update.order.order_id == submitted.order_id


async def test_mtls_round_trip_with_a_client_certificate(mtls_server: RunningServer, certs: Certs) -> None:
    async with grpc.aio.secure_channel(mtls_server.address, tls_credentials(certs, client=True)) as channel:
        version = await login_and_whoami(channel)
    assert version


async def test_mtls_refuses_a_client_without_a_certificate(mtls_server: RunningServer, certs: Certs) -> None:
    # Arrange: trusts the server, presents no certificate of its own
    async with grpc.aio.secure_channel(mtls_server.address, tls_credentials(certs)) as channel:
        # Act / Assert: the handshake fails, the call never reaches the server
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_mtls_refuses_a_certificate_from_another_ca(
    mtls_server: RunningServer, certs: Certs, tmp_path: Path
) -> None:
    # Arrange: a client certificate with the right name, signed by a CA the server does not trust
    cert, key = new_ca(tmp_path / "other").client("trader1")
    # Act / Assert
    with pytest.raises(ServerUnavailable):
        await AsyncClient.connect(
            mtls_server.address, "trader1", DEMO["trader1"], ca=certs.ca, cert=cert, key=key, retry=_no_retry()
        )


async def test_mtls_client_library_with_cert_and_key(mtls_server: RunningServer, certs: Certs) -> None:
    async with await AsyncClient.connect(
        mtls_server.address,
        "trader1",
        DEMO["trader1"],
        ca=certs.ca.read_bytes(),  # bytes work as well as paths
        cert=certs.client_cert,
        key=str(certs.client_key),
    ) as client:
        me = await client.whoami()
    assert me.username == "trader1"


async def test_blocking_client_connects_over_mtls(mtls_server: RunningServer, certs: Certs) -> None:
    import asyncio

    def blocking() -> str:
        with connect(
            mtls_server.address, "trader1", DEMO["trader1"], ca=certs.ca, cert=certs.client_cert, key=certs.client_key
        ) as desk:
            return desk.whoami().username

    assert await asyncio.to_thread(blocking) == "trader1"


async def test_metrics_port_speaks_https_and_wants_a_client_certificate(
    mtls_server: RunningServer, certs: Certs
) -> None:
    import asyncio

    url = f"https://127.0.0.1:{mtls_server.metrics_port}/metrics"

    def scrape(with_cert: bool) -> str:
        context = ssl.create_default_context(cafile=str(certs.ca))
        if with_cert:
            context.load_cert_chain(certs.client_cert, certs.client_key)
        with urllib.request.urlopen(url, context=context, timeout=10) as answer:
            return str(answer.read().decode())

    assert "itirp_orders" in await asyncio.to_thread(scrape, True)
    with pytest.raises((ssl.SSLError, OSError)):
        await asyncio.to_thread(scrape, False)


async def test_metrics_port_speaks_https_with_tls(tls_server: RunningServer, certs: Certs) -> None:
    import asyncio

    def scrape(scheme: str) -> str:
        context = ssl.create_default_context(cafile=str(certs.ca))
        url = f"{scheme}://127.0.0.1:{tls_server.metrics_port}/metrics"
        with urllib.request.urlopen(url, context=context, timeout=10) as answer:
            return str(answer.read().decode())

    assert "itirp_orders" in await asyncio.to_thread(scrape, "https")
    with pytest.raises(ConnectionError):  # plain HTTP to a TLS port: the connection is dropped
        await asyncio.to_thread(scrape, "http")


async def test_the_start_says_when_it_serves_plaintext_off_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: the configuration reports a non-loopback plaintext address, as `--insecure` on
    # 0.0.0.0 would; the server itself still binds 127.0.0.1 (no public address in tests)
    monkeypatch.setattr(Config, "plaintext_exposed", property(lambda self: ("0.0.0.0:50051",)))
    # Act
    with caplog.at_level(logging.WARNING, logger="itirp.server"):
        running = await serve(make_config(tmp_path / "data"))
        await running.shutdown(grace=0.5)
    # Assert
    warnings = [r for r in caplog.records if r.getMessage().startswith("INSECURE: serving plaintext")]
    assert len(warnings) == 1
    assert warnings[0].__dict__["address"] == "0.0.0.0:50051"


async def test_a_key_that_does_not_fit_the_certificate_stops_the_start(tmp_path: Path, certs: Certs) -> None:
    # Arrange: the client's key with the server's certificate
    config = make_config(tmp_path / "data", tls_cert=certs.server_cert, tls_key=certs.client_key)
    # Act / Assert: refused before anything opens (the data folder is free at once)
    with pytest.raises(ConfigError, match="does not fit"):
        await serve(config)
    with pytest.raises(ConfigError, match="cannot read"):
        await serve(make_config(tmp_path / "data", tls_cert=tmp_path / "missing.pem", tls_key=certs.server_key))


def _no_retry():  # type: ignore[no-untyped-def]
    from itirp_client import RetryPolicy

    return RetryPolicy(attempts=1)


# ------------------------------------------------------------------------------ users by certificate


@pytest.fixture
async def cert_users_server(tmp_path: Path, certs: Certs) -> AsyncIterator[RunningServer]:
    config = make_config(
        tmp_path / "data",
        tls_cert=certs.server_cert,
        tls_key=certs.server_key,
        tls_client_ca=certs.ca,
        tls_client_cert_users=True,
    )
    running = await serve(config)
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


def client_for(server: RunningServer, certs: Certs, common_name: str) -> AsyncClient:
    """A client without a login, presenting a certificate whose subject CN is `common_name`."""
    cert, key = certs.client(common_name)
    return AsyncClient(server.address, ca=certs.ca, cert=cert, key=key, retry=_no_retry())


async def test_a_client_certificate_names_its_user_without_a_token(
    cert_users_server: RunningServer, certs: Certs
) -> None:
    # Arrange: trader1's certificate (CN=trader1), no login
    async with client_for(cert_users_server, certs, "trader1") as trader:
        # Act: a unary call, a submit, and a stream, all without a bearer token
        me = await trader.whoami()
        submitted = await trader.submit_order("AAPL", "BUY", 5, "150.00")
        updates = trader.order_updates(order_id=submitted.order_id)
        first = await anext(updates)
        await updates.aclose()
        # Assert: the user the certificate names, within that user's role
        with pytest.raises(PermissionDenied):
            await trader.verify_audit_log()
    assert me.username == "trader1"
    assert first.update.order.order_id == submitted.order_id


async def test_a_session_by_certificate_has_no_token_to_log_out(cert_users_server: RunningServer, certs: Certs) -> None:
    async with client_for(cert_users_server, certs, "trader1") as trader:
        with pytest.raises(OrderStateConflict, match="no token to revoke"):
            await trader.logout()
        assert (await trader.whoami()).username == "trader1"


async def test_a_certificate_naming_no_active_user_is_unauthenticated(
    cert_users_server: RunningServer, certs: Certs
) -> None:
    async with client_for(cert_users_server, certs, "nobody") as stranger:
        with pytest.raises(NotAuthenticated, match="names no active user"):
            await stranger.whoami()


async def test_a_bearer_token_decides_over_the_certificate(cert_users_server: RunningServer, certs: Certs) -> None:
    # Arrange: trader1's certificate, risk1's login
    cert, key = certs.client("trader1")
    async with await AsyncClient.connect(
        cert_users_server.address, "risk1", DEMO["risk1"], ca=certs.ca, cert=cert, key=key
    ) as client:
        # Act
        me = await client.whoami()
    # Assert
    assert me.username == "risk1"


async def test_without_the_setting_a_certificate_alone_is_not_a_login(
    mtls_server: RunningServer, certs: Certs
) -> None:
    cert, key = certs.client("trader1")
    async with AsyncClient(mtls_server.address, ca=certs.ca, cert=cert, key=key, retry=_no_retry()) as client:
        with pytest.raises(NotAuthenticated, match="missing credentials"):
            await client.whoami()


async def test_by_certificate_opens_a_session_as_the_named_user(cert_users_server: RunningServer, certs: Certs) -> None:
    import asyncio

    cert, key = certs.client("risk1")
    async with await AsyncClient.by_certificate(cert_users_server.address, ca=certs.ca, cert=cert, key=key) as risk:
        limits = await risk.risk_limits()
    assert (risk.username, risk.role, risk.token) == ("risk1", "RISK_MANAGER", "")
    assert limits is not None

    def blocking() -> str:
        from itirp_client import Client

        with Client.by_certificate(cert_users_server.address, ca=certs.ca, cert=cert, key=key) as desk:
            return desk.whoami().username

    assert await asyncio.to_thread(blocking) == "risk1"
