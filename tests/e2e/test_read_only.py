"""`itirp serve --read-only`, the real command: it writes nothing at all in the data folder, refuses
a folder with no event log rather than create one, and opens any log for investigation however it
fails verification (before: it wrote `jwt_secret` and `users.db` and left `events.db-wal`/`-shm`
behind, and an edited event type or order id, or a deleted middle row, crashed it during the
replay with KeyError or InvalidTransition)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
from pathlib import Path

import grpc
import pytest

from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    order_pb2,
    order_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)
from tests.e2e.conftest import ServerProcess, run

Snapshot = dict[str, tuple[int, int, str]]


def snapshot(folder: Path) -> Snapshot:
    """Every file under `folder`: (size, mtime in ns, sha256)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def token(channel: grpc.Channel, username: str, password: str) -> tuple[tuple[str, str]]:
    reply = auth_pb2_grpc.AuthServiceStub(channel).Login(auth_pb2.LoginRequest(username=username, password=password))
    return (("authorization", f"Bearer {reply.access_token}"),)


def trade(address: str, orders: int = 3) -> list[str]:
    """trader1 submits `orders` orders; their ids."""
    with grpc.insecure_channel(address) as channel:
        md = token(channel, "trader1", "trader123")
        stub = order_pb2_grpc.OrderServiceStub(channel)
        return [
            stub.SubmitOrder(
                order_pb2.SubmitOrderRequest(
                    symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=10 + i, price="150.00", client_order_id=f"c{i}"
                ),
                metadata=md,
            ).order.order_id
            for i in range(orders)
        ]


def investigate(address: str) -> tuple[system_pb2.GetSystemInfoResponse, audit_pb2.VerifyAuditLogResponse, int]:
    """What an investigator asks a read-only server: its info, the verification, how many events."""
    with grpc.insecure_channel(address) as channel:
        md = token(channel, "compliance1", "compliance123")
        info = system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(system_pb2.GetSystemInfoRequest(), metadata=md)
        audit = audit_pb2_grpc.AuditServiceStub(channel)
        verified = audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md)
        events = audit.ListEvents(audit_pb2.ListEventsRequest(page_size=1000), metadata=md)
        order_stub = order_pb2_grpc.OrderServiceStub(channel)
        order_stub.ListOrders(order_pb2.ListOrdersRequest(), metadata=md)  # the (partial) state answers reads
        return info, verified, len(events.events)


@pytest.fixture(scope="module")
def desk_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with users, a secret and trader1's orders, its server stopped cleanly: made
    once for the module (a server start, three orders, a stop), copied for each test by `desk`."""
    folder = tmp_path_factory.mktemp("desk-made")
    data = folder / "desk"
    server = ServerProcess(data, folder / "server.log", env={"ITIRP_SCRYPT_N": "1024"})
    try:
        trade(server.address)
    finally:
        assert server.stop() == 0
    return data


@pytest.fixture
def desk(desk_made: Path, tmp_path: Path) -> Path:
    """This test's own copy of `desk_made` (copy2: sizes, contents and mtimes as the server left them)."""
    return Path(shutil.copytree(desk_made, tmp_path / "desk", copy_function=shutil.copy2))


def test_a_read_only_start_and_stop_changes_no_file_of_the_data_folder(start_server, desk: Path) -> None:  # type: ignore[no-untyped-def]
    # Arrange
    before = snapshot(desk)
    assert {"events.db", "users.db", "jwt_secret"} <= set(before)

    # Act
    server = start_server(desk, "--read-only")
    info, verified, _ = investigate(server.address)
    assert server.stop() == 0

    # Assert
    assert info.read_only
    assert verified.ok
    assert snapshot(desk) == before


def test_a_folder_holding_only_the_event_log_stays_so(start_server, desk: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    only_log = tmp_path / "only-log"
    only_log.mkdir()
    shutil.copy2(desk / "events.db", only_log / "events.db")
    before = snapshot(only_log)

    server = start_server(only_log, "--read-only")
    with grpc.insecure_channel(server.address) as channel:
        info = system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
            system_pb2.GetSystemInfoRequest(), metadata=token(channel, "compliance1", "compliance123")
        )
    assert server.stop() == 0

    assert info.read_only
    assert snapshot(only_log) == before  # no jwt_secret, no users.db, no -wal or -shm


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_read_only_refuses_a_folder_without_an_event_log(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "data"
    if kind == "empty":
        data.mkdir()

    refused = run(sys.executable, "-m", "itirp", "serve", "--read-only", "--listen", "127.0.0.1:0", "--data-dir", data)

    assert refused.returncode == 1
    assert "no event log" in refused.stderr
    assert "--read-only" in refused.stderr
    assert (sorted(data.iterdir()) == []) if kind == "empty" else not data.exists()


def _edit_event_type(db: sqlite3.Connection) -> int:
    (sequence,) = db.execute("SELECT min(sequence) FROM events WHERE event_type = 'RISK_CHECK_STARTED'").fetchone()
    db.execute("UPDATE events SET event_type = 'ORDER_FILLED' WHERE sequence = ?", (sequence,))
    return int(sequence)


def _edit_order_id(db: sqlite3.Connection) -> int:
    (sequence,) = db.execute("SELECT min(sequence) FROM events WHERE event_type = 'RISK_CHECK_PASSED'").fetchone()
    db.execute("UPDATE events SET order_id = 'not-an-order' WHERE sequence = ?", (sequence,))
    return int(sequence)


def _delete_middle_row(db: sqlite3.Connection) -> int:
    (sequence,) = db.execute("SELECT min(sequence) FROM events WHERE event_type = 'RISK_CHECK_STARTED'").fetchone()
    db.execute("DELETE FROM events WHERE sequence = ?", (sequence,))
    return int(sequence)


EDITS = {"event type": _edit_event_type, "order id": _edit_order_id, "middle row deleted": _delete_middle_row}


@pytest.mark.parametrize("edit", EDITS)
def test_read_only_opens_a_log_whose_events_cannot_be_folded(start_server, desk: Path, edit: str) -> None:  # type: ignore[no-untyped-def]
    # Arrange: one row edited with sqlite3, as a tamperer would
    with sqlite3.connect(desk / "events.db") as db:
        bad = EDITS[edit](db)
    db.close()

    # Act
    server = start_server(desk, "--read-only")
    info, verified, listed = investigate(server.address)
    assert server.stop() == 0

    # Assert: served, and the verification names the first bad sequence
    assert info.read_only
    assert not verified.ok
    assert verified.first_bad_sequence == bad
    assert listed > 0
    logged = [line["msg"] for line in server.log_lines()]
    assert any("could not be folded" in msg for msg in logged), logged


def test_after_a_kill_9_read_only_sees_every_event_and_leaves_the_crash_files_as_they_are(  # type: ignore[no-untyped-def]
    start_server, tmp_path: Path
) -> None:
    data = tmp_path / "crashed"
    server = start_server(data)
    orders = trade(server.address, orders=5)
    server.kill()
    before = snapshot(data)
    assert "events.db-wal" in before  # what the crash left: commits not yet in the main file

    investigating = start_server(data, "--read-only")
    with grpc.insecure_channel(investigating.address) as channel:
        md = token(channel, "trader1", "trader123")
        listed = order_pb2_grpc.OrderServiceStub(channel).ListOrders(order_pb2.ListOrdersRequest(), metadata=md)
    assert investigating.stop() == 0

    assert {o.order_id for o in listed.orders} == set(orders)
    assert snapshot(data) == before
