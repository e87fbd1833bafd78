"""Prometheus metrics: a real server with `metrics_listen`, real orders over gRPC, the endpoint
scraped over HTTP and read back with prometheus_client's own text parser."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from itirp import cli
from itirp.config import Config, ConfigError
from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, audit_pb2_grpc, common_pb2, order_pb2, order_pb2_grpc
from tests.conftest import ScriptedVenue, bearer, login, make_config

S = common_pb2
SUBMIT = "/itirp.v1.OrderService/SubmitOrder"
FINAL = (
    S.ORDER_STATUS_EXECUTED,
    S.ORDER_STATUS_FAILED,
    S.ORDER_STATUS_REJECTED,
    S.ORDER_STATUS_CANCELLED,
    S.ORDER_STATUS_UNKNOWN,  # in doubt: nothing more happens until the venue answers
)


@dataclass
class Scrape:
    """One scrape, parsed: sample value by (sample name, labels)."""

    content_type: str
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    types: dict[str, str]

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, frozenset(labels.items()))]


def _fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


async def scrape(server: RunningServer) -> Scrape:
    assert server.metrics_port is not None
    content_type, text = await asyncio.to_thread(_fetch, f"http://127.0.0.1:{server.metrics_port}/metrics")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(content_type, samples, types)


@pytest.fixture
def venue() -> ScriptedVenue:
    return ScriptedVenue()


async def start(tmp_path: Path, venue: ScriptedVenue, **overrides: object) -> RunningServer:
    config = make_config(
        tmp_path / "data", metrics_listen="127.0.0.1:0", access_log=False, retry_base_delay_seconds=0.001, **overrides
    )
    return await serve(config, venue=venue)


@pytest.fixture
async def server(tmp_path: Path, venue: ScriptedVenue) -> AsyncIterator[RunningServer]:
    running = await start(tmp_path, venue)
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


@pytest.fixture
async def trader(server: RunningServer) -> AsyncIterator[tuple[grpc.aio.Channel, tuple[tuple[str, str], ...]]]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        yield channel, bearer((await login(channel, "trader1")).access_token)


async def submit(
    channel: grpc.aio.Channel, md: tuple, symbol: str = "AAPL", quantity: int = 100, price: str = "150.50"
) -> str:
    request = order_pb2.SubmitOrderRequest(symbol=symbol, side=S.SIDE_BUY, quantity=quantity, price=price)
    return (await order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=md)).order_id


async def settled(channel: grpc.aio.Channel, md: tuple, order_id: str) -> int:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    for _ in range(500):
        order = (await stub.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=md)).order
        if order.status in FINAL:
            return order.status
        await asyncio.sleep(0.01)
    raise AssertionError(f"order {order_id} never settled")


# ---------------------------------------------------------------- the endpoint after some orders


async def test_metrics_after_some_orders(server: RunningServer, trader) -> None:  # type: ignore[no-untyped-def]
    channel, md = trader
    before, head_before = await scrape(server), server.store.head_sequence
    approved = [await submit(channel, md) for _ in range(3)]
    rejected = await submit(channel, md, "TSLA", 100_000, "200")  # POSITION_LIMIT
    assert [await settled(channel, md, o) for o in approved] == [S.ORDER_STATUS_EXECUTED] * 3
    assert await settled(channel, md, rejected) == S.ORDER_STATUS_REJECTED

    m = await scrape(server)

    assert m.content_type.startswith("text/plain")
    assert m.value("itirp_orders", status="EXECUTED") == 3
    assert m.value("itirp_orders", status="REJECTED") == 1
    assert m.value("itirp_orders", status="PENDING") == 0
    assert m.types["itirp_order_rejections"] == "counter"
    assert m.value("itirp_order_rejections_total", violation="POSITION_LIMIT") == 1
    assert m.value("itirp_order_rejections_total", violation="KILL_SWITCH_ACTIVE") == 0

    assert m.types["itirp_rpc_duration_seconds"] == "histogram"
    assert m.value("itirp_rpc_duration_seconds_count", method=SUBMIT, code="OK") == 4
    assert m.value("itirp_rpc_duration_seconds_bucket", method=SUBMIT, code="OK", le="+Inf") == 4
    assert m.value("itirp_rpc_duration_seconds_sum", method=SUBMIT, code="OK") > 0
    assert m.value("itirp_rpc_duration_seconds_count", method="/itirp.v1.AuthService/Login", code="OK") == 1

    head = server.store.head_sequence
    assert m.value("itirp_event_store_head_sequence") == head
    commits = m.value("itirp_event_store_batch_events_count")
    assert commits > before.value("itirp_event_store_batch_events_count")
    events = m.value("itirp_event_store_batch_events_sum") - before.value("itirp_event_store_batch_events_sum")
    assert events == head - head_before  # every event of the orders, in some commit
    assert m.value("itirp_event_store_commit_seconds_count") == commits
    assert m.value("itirp_event_store_commit_seconds_sum") > 0

    assert m.value("itirp_circuit_breaker_state") == 0
    assert m.value("itirp_circuit_breaker_consecutive_failures") == 0
    assert m.value("itirp_subscribers") == 0
    assert m.value("itirp_subscriber_lag_events") == 0

    assert m.types["itirp_submit_latency_seconds"] == "summary"
    assert m.value("itirp_submit_latency_seconds_count") == 4
    assert (
        0
        < m.value("itirp_submit_latency_seconds", quantile="0.5")
        <= m.value("itirp_submit_latency_seconds", quantile="0.99")
    )


async def test_subscribers_gauge_follows_open_streams(server: RunningServer, trader) -> None:  # type: ignore[no-untyped-def]
    channel, md = trader
    compliance = bearer((await login(channel, "compliance1")).access_token)
    orders = order_pb2_grpc.OrderServiceStub(channel).StreamOrderUpdates(
        order_pb2.StreamOrderUpdatesRequest(), metadata=md
    )
    audit = audit_pb2_grpc.AuditServiceStub(channel).SubscribeEvents(
        audit_pb2.SubscribeEventsRequest(), metadata=compliance
    )
    assert (await orders.read()).WhichOneof("kind") == "caught_up"
    while (await audit.read()).WhichOneof("kind") != "caught_up":
        pass

    assert (await scrape(server)).value("itirp_subscribers") == 2

    orders.cancel()
    audit.cancel()
    for _ in range(200):
        m = await scrape(server)
        if m.value("itirp_subscribers") == 0:
            break
        await asyncio.sleep(0.01)
    assert m.value("itirp_subscribers") == 0
    stream = "/itirp.v1.OrderService/StreamOrderUpdates"
    assert m.value("itirp_rpc_duration_seconds_count", method=stream, code="CANCELLED") == 1


async def test_an_open_breaker_shows(tmp_path: Path, venue: ScriptedVenue) -> None:
    running = await start(tmp_path, venue, breaker_threshold=2)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            md = bearer((await login(channel, "trader1")).access_token)
            venue.mode = "transient"
            assert await settled(channel, md, await submit(channel, md)) == S.ORDER_STATUS_UNKNOWN
            m = await scrape(running)
        assert m.value("itirp_circuit_breaker_state") == 1
        assert m.value("itirp_circuit_breaker_consecutive_failures") == 2
        assert m.value("itirp_orders", status="UNKNOWN") == 1  # in doubt, counted for the desk to see
    finally:
        await running.shutdown(grace=0.5)


# ---------------------------------------------------------------- on, off, and where


async def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    running = await serve(make_config(tmp_path / "data"))
    try:
        assert running.metrics is None
        assert running.metrics_port is None
    finally:
        await running.shutdown(grace=0.5)


async def test_two_servers_in_one_process_have_their_own_metrics(tmp_path: Path, venue: ScriptedVenue) -> None:
    first = await start(tmp_path / "a", venue)
    second = await start(tmp_path / "b", venue)
    try:
        async with grpc.aio.insecure_channel(first.address) as channel:
            md = bearer((await login(channel, "trader1")).access_token)
            await submit(channel, md)
        assert first.metrics_port != second.metrics_port
        assert (await scrape(first)).value("itirp_rpc_duration_seconds_count", method=SUBMIT, code="OK") == 1
        assert ("itirp_rpc_duration_seconds_count", frozenset({("method", SUBMIT), ("code", "OK")})) not in (
            await scrape(second)
        ).samples
    finally:
        await second.shutdown(grace=0.5)
        await first.shutdown(grace=0.5)


async def test_a_taken_metrics_port_stops_the_start_and_releases_everything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="metrics"):
            await serve(make_config(tmp_path / "data", metrics_listen=f"127.0.0.1:{port}"))
    running = await serve(make_config(tmp_path / "data", metrics_listen="127.0.0.1:0"))  # the data folder is free again
    await running.shutdown(grace=0.5)
    assert running.metrics_port is not None


def test_environment_and_flag_set_the_metrics_address() -> None:
    assert Config.from_env({}).metrics_listen == ""
    assert Config.from_env({}).metrics_host_port is None
    env = {"ITIRP_METRICS_LISTEN": "127.0.0.1:9464"}
    assert Config.from_env(env).metrics_host_port == ("127.0.0.1", 9464)
    assert Config.from_env(env, metrics_listen="[::1]:9100").metrics_host_port == ("::1", 9100)
    assert Config.from_env(env, metrics_listen="").metrics_host_port is None  # --metrics-listen "" turns them off
    args = cli._parser().parse_args(["serve", "--metrics-listen", "127.0.0.1:9100"])
    assert args.metrics_listen == "127.0.0.1:9100"
    assert cli._parser().parse_args(["serve"]).metrics_listen is None


@pytest.mark.parametrize("bad", ["9464", "localhost", "127.0.0.1:99999", "127.0.0.1:http", ":9464"])
def test_a_bad_metrics_address_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="ITIRP_METRICS_LISTEN"):
        Config.from_env({"ITIRP_METRICS_LISTEN": bad})


def test_serve_refuses_a_bad_metrics_flag_before_starting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ITIRP_METRICS_LISTEN", raising=False)
    assert cli.main(["serve", "--metrics-listen", "nowhere"]) == 2
    assert "metrics listen address must be HOST:PORT" in capsys.readouterr().err
