"""Shared fixtures: a real server on a loopback port (port 0), real grpc.aio channels."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest

from itirp.config import Config, Secret
from itirp.server import RunningServer, serve
from itirp.v1 import auth_pb2, auth_pb2_grpc
from tests.pg_server import PgServer, PgServerError, start_server

#: The temp folder on disk (TMPDIR or /tmp), before the switch below: for `tests.on_disk`.
DISK_TEMP = Path(tempfile.gettempdir())


#: Free space /dev/shm must have for the suite's temp folders to go there.
_SHM_NEEDED = 1 << 30


def _temp_on_tmpfs() -> None:
    """The suite's temp folders (tmp_path, the PostgreSQL clusters of tests/pg_server.py, and those
    of the server and CLI processes the tests start, which inherit TMPDIR) go on tmpfs, /dev/shm,
    unless TMPDIR (or PYTEST_DEBUG_TEMPROOT) says otherwise: fsync there costs nothing, and the
    suite commits thousands of times (an in-process server's start alone, ~0.1 s -> ~0.05 s). What
    the tests check is unchanged: none can tell a flushed page from one in the page cache, which
    survives a killed process either way (a power cut is not simulated). The tests whose point is a
    kill -9 racing the commits keep their folders on disk (`tests.on_disk`), so the window between an
    answer and its commit stays as wide as in production."""
    shm = Path("/dev/shm")
    if os.environ.get("TMPDIR") or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    # a small /dev/shm (a container's default is 64 MB) would fill up: the suite writes ~70 MB a run
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) and shutil.disk_usage(shm).free >= _SHM_NEEDED:
        os.environ["TMPDIR"] = str(shm)
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


_temp_on_tmpfs()


def _interruptible() -> None:
    """A suite started in the background by a non-interactive shell (`make test &`, nohup) inherits
    SIGINT ignored, and so would every process it starts: `itirp-cli watch` would then stay deaf to
    the Ctrl-C the tests stop it with. A handler here is reset to the default in each child."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_interruptible()

TEST_SECRET = "test-secret-for-hs256-0123456789abcdef"
DEMO = {
    "trader1": "trader123",
    "trader2": "trader234",
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
        # the tests send the same order again and again on purpose: no duplicate-order check on
        # the test desk (tests of the check turn it on)
        "orders_duplicate_window_ms": 0,
        # the message throttles (100 per second by default) would refuse the tests that blast
        # orders; tests of the throttles set their own rates (tests/integration/test_order_entry.py)
        "throttle_new_per_second": 100_000.0,
        "throttle_amend_per_second": 100_000.0,
        "throttle_cancel_per_second": 100_000.0,
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
    """A venue whose behaviour a test sets: fill, fail transiently, reject, or hold until released.
    It knows orders by id as a real venue does: `status` answers an order it filled, `submit` of a
    known id answers it again, `cancel` cancels what has not filled ("rest" mode: orders rest
    unfilled until `fill_resting`)."""

    name = "scripted"

    def __init__(self) -> None:
        import asyncio

        self.mode = "fill"  # "fill" | "rest" | "transient" | "permanent" | "hang"
        self.gate: asyncio.Event | None = None  # when set, every call waits for it
        self.calls: list[tuple[str, int]] = []
        self.status_calls: list[str] = []
        self.cancel_calls: list[str] = []
        self.entered = asyncio.Event()
        self.reports: dict = {}  # type: ignore[type-arg]
        self.orders: dict = {}  # type: ignore[type-arg]
        self.listeners: list = []  # type: ignore[type-arg]

    def listen(self, on_report):  # type: ignore[no-untyped-def]
        self.listeners.append(on_report)

    async def run(self) -> None:
        return None

    async def _call(self) -> None:
        import asyncio

        from itirp.execution.venue import PermanentVenueError, TransientVenueError

        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.mode == "transient":
            raise TransientVenueError("scripted: connection reset")
        if self.mode == "permanent":
            raise PermanentVenueError("scripted: symbol halted")
        if self.mode == "hang":
            await asyncio.sleep(3600)

    async def submit(self, order):  # type: ignore[no-untyped-def]
        from itirp.execution.venue import ExecutionReport, Fill, VenueOrderState

        self.calls.append((order.order_id, order.attempt))
        await self._call()
        if order.order_id not in self.reports:
            self.orders[order.order_id] = order
            if self.mode == "rest":
                self.reports[order.order_id] = ExecutionReport(order.order_id, VenueOrderState.WORKING)
            else:
                fill = Fill(order.quantity, order.price, f"x-{order.order_id[:8]}-{order.attempt}")
                self.reports[order.order_id] = ExecutionReport(order.order_id, VenueOrderState.FILLED, (fill,))
        return self.reports[order.order_id]

    async def status(self, order_id):  # type: ignore[no-untyped-def]
        self.status_calls.append(order_id)
        await self._call()
        return self.reports.get(order_id)

    async def cancel(self, order_id):  # type: ignore[no-untyped-def]
        import dataclasses

        from itirp.execution.venue import ExecutionReport, VenueOrderState

        self.cancel_calls.append(order_id)
        await self._call()
        report = self.reports.get(order_id)
        if report is None:
            report = ExecutionReport(
                order_id, VenueOrderState.CANCELLED, reason="cancelled before it arrived", accepted=False
            )
        elif report.state is VenueOrderState.WORKING:
            report = dataclasses.replace(report, state=VenueOrderState.CANCELLED, reason="cancelled on request")
        self.reports[order_id] = report
        return report

    def fill_resting(self, order_id: str, quantity: int) -> None:
        """A resting order fills (part): reported to the listeners, as a market would."""
        import dataclasses

        from itirp.execution.venue import Fill, VenueOrderState

        report, order = self.reports[order_id], self.orders[order_id]
        fill = Fill(quantity, order.price, f"x-{order_id[:8]}-f{len(report.fills)}", aggressor=False)
        fills = (*report.fills, fill)
        done = sum(f.quantity for f in fills) == order.quantity
        report = dataclasses.replace(report, fills=fills, state=VenueOrderState.FILLED if done else report.state)
        self.reports[order_id] = report
        for listener in self.listeners:
            listener(report)


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the whole session (tests/pg_server.py). Missing binaries
    fail the test, they do not skip it: CI installs them (`make pg-binaries`)."""
    try:
        server = start_server(parent=str(DISK_TEMP))  # on disk: fsync on means a real flush
    except PgServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server (isolated per test, a few ms)."""
    return pg_server.create_database()
