"""No answer reveals what a crash could take back (issue 12, durability): an ALREADY_EXISTS names
an order only once that order is durable, and so does every other refusal decided on the state.

The event store is the real SQLite store; its writer thread is held at a gate (the commit of a
batch waits until the test opens it), which is how a slow disk looks from the server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from itirp.server import RunningServer, serve
from itirp.store import sqlite as sqlite_store
from itirp.v1 import common_pb2
from tests.conftest import make_config
from tests.integration.test_trading import Desk, open_desk

BUY = common_pb2.SIDE_BUY


class CommitGate:
    """Holds the store's commits while closed (in the writer thread, before COMMIT)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()

    def close(self) -> None:
        self.held.clear()
        self.open.clear()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[CommitGate]:
    commits = CommitGate()
    write = sqlite_store._write_batch

    def held_write(conn: Any, batch: Any, inject: Any) -> None:
        if not commits.open.is_set():
            commits.held.set()
            commits.open.wait(30)
        write(conn, batch, inject)

    monkeypatch.setattr(sqlite_store, "_write_batch", held_write)
    yield commits
    commits.open.set()


@pytest.fixture
async def running(tmp_path: Path, gate: CommitGate) -> AsyncIterator[tuple[RunningServer, Desk]]:
    server = await serve(make_config(tmp_path / "data", access_log=False))
    desk, channel = await open_desk(server)
    try:
        yield server, desk
    finally:
        gate.open.set()
        await channel.close()
        await server.shutdown(grace=1)


async def test_already_exists_names_an_order_only_once_it_is_durable(
    running: tuple[RunningServer, Desk], gate: CommitGate
) -> None:
    # Arrange: the first submission is decided and waits for its commit, which the disk holds
    server, desk = running
    gate.close()
    first = asyncio.create_task(desk.submit("AAPL", BUY, 10, "150.00", client_order_id="dup-1"))
    await asyncio.to_thread(gate.held.wait, 10)
    head = server.store.head_sequence

    # Act: the repeat arrives while the first is not durable
    repeat = asyncio.create_task(desk.submit("AAPL", BUY, 10, "150.00", client_order_id="dup-1"))
    done, _ = await asyncio.wait({repeat}, timeout=1.0)

    # Assert: not answered while what it would name could still be lost (it used to be, at once)
    assert not done, "ALREADY_EXISTS was answered before the order it names was durable"
    assert server.store.head_sequence == head
    gate.open.set()
    accepted = await first
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await repeat
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert accepted.order_id in (caught.value.details() or "")
    assert server.store.head_sequence >= accepted.order.last_sequence
