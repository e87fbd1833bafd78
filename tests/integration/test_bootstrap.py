"""The composition root: a start that fails part-way leaves nothing open; a shutdown closes in order."""

from __future__ import annotations

import ast
import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from itirp.app import application
from itirp.app.application import open_application
from itirp.app.fanout import EventFanout
from itirp.app.marketdata import MarketDataHub
from itirp.app.trading import TradingService
from itirp.auth.service import AuthService
from itirp.observability.metrics import MetricsEndpoint
from itirp.server import serve
from itirp.store import SqliteEventStore
from tests.conftest import make_config


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _itirp_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("itirp-")}


async def _assert_nothing_left_open(data_dir: Path, tasks_before: set[asyncio.Task[Any]]) -> None:
    # no task of ours left behind (pollers, the trading day, executions)
    left = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} - tasks_before
    assert not left, left
    # the store's and auth's threads are gone
    assert not _itirp_threads(), _itirp_threads()
    # the store released its single-writer lock: it opens for writing again
    store = SqliteEventStore(data_dir / "events.db")
    await store.open()
    await store.close()


async def test_a_taken_port_stops_the_start_with_nothing_left_open(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "data"
    tasks_before = set(asyncio.all_tasks())

    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{taken_port}"):
        await serve(make_config(data, listen=f"127.0.0.1:{taken_port}"))

    await _assert_nothing_left_open(data, tasks_before)


async def test_a_taken_metrics_port_stops_the_start_with_nothing_left_open(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "data"
    tasks_before = set(asyncio.all_tasks())

    with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{taken_port}"):
        await serve(make_config(data, metrics_listen=f"127.0.0.1:{taken_port}"))

    await _assert_nothing_left_open(data, tasks_before)


@pytest.mark.parametrize("failing", [AuthService.start, TradingService.start], ids=["auth", "trading"])
async def test_a_failure_inside_the_application_closes_what_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: Callable[..., Any]
) -> None:
    # Arrange: one step of the start fails
    owner = AuthService if failing is AuthService.start else TradingService

    async def boom(self: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(owner, "start", boom)
    data = tmp_path / "data"
    tasks_before = set(asyncio.all_tasks())

    # Act
    with pytest.raises(RuntimeError, match="boom"):
        await open_application(make_config(data))

    # Assert
    await _assert_nothing_left_open(data, tasks_before)


async def test_shutdown_closes_in_order_the_store_then_the_metrics_endpoint_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: record each clean-up as it runs
    closed: list[str] = []

    def record(cls: type, name: str, label: str) -> None:
        original = getattr(cls, name)
        if asyncio.iscoroutinefunction(original):

            async def async_wrapper(self: object, *args: Any) -> Any:
                closed.append(label)
                return await original(self, *args)

            monkeypatch.setattr(cls, name, async_wrapper)
        else:

            def wrapper(self: object, *args: Any) -> Any:
                closed.append(label)
                return original(self, *args)

            monkeypatch.setattr(cls, name, wrapper)

    record(TradingService, "stop", "executions drained")
    record(AuthService, "stop", "auth stopped")
    record(EventFanout, "close", "fan-out closed")
    record(MarketDataHub, "close", "market data closed")
    record(SqliteEventStore, "close", "store closed")
    record(MetricsEndpoint, "close", "metrics endpoint closed")
    running = await serve(make_config(tmp_path / "data", metrics_listen="127.0.0.1:0"))

    # Act
    await running.shutdown(grace=0.5)

    # Assert
    assert closed == [
        "executions drained",
        "auth stopped",
        "fan-out closed",
        "market data closed",
        "store closed",
        "metrics endpoint closed",
    ]
    await running.shutdown()  # a second call returns at once
    await running.wait_stopped()


def test_the_application_module_imports_no_grpc() -> None:
    tree = ast.parse(Path(application.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0].startswith("grpc")}
