"""`itirp backup` / `itirp restore`, the real commands against a real server process: a backup
taken while the server runs, restored into a fresh data folder, serves the same desk (before:
docs/operations.md backed up `events.db` alone, and a restore re-seeded the demo users with new ids,
so trader1's orders no longer showed)."""

from __future__ import annotations

import json
from pathlib import Path

import grpc

from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc, order_pb2, order_pb2_grpc
from tests.e2e.conftest import BIN, run
from tests.e2e.test_docs import output_matches, recipes
from tests.e2e.test_read_only import snapshot, trade

ITIRP = BIN / "itirp"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def users(data: Path) -> list[tuple[str, str, str, bool]]:
    listed = run(ITIRP, "users", "list", "--json", "--data-dir", data)
    assert listed.returncode == 0, listed.stderr
    return sorted((u["username"], u["user_id"], u["role"], u["disabled"]) for u in json.loads(listed.stdout))


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def login(channel: grpc.Channel, username: str, password: str) -> str:
    stub = auth_pb2_grpc.AuthServiceStub(channel)
    return str(stub.Login(auth_pb2.LoginRequest(username=username, password=password)).access_token)


def orders_of(address: str, token: str) -> set[tuple[str, str, int]]:
    with grpc.insecure_channel(address) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        reply = stub.ListOrders(order_pb2.ListOrdersRequest(), metadata=bearer(token))
    return {(o.order_id, o.client_order_id, o.quantity) for o in reply.orders}


def test_a_backup_taken_while_the_server_runs_restores_the_same_desk(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a desk with trader1's orders, a user added and a password changed while it runs
    desk = tmp_path / "desk"
    server = start_server(desk)
    placed = trade(server.address, orders=4)
    added = run(ITIRP, "users", "add", "auditor2", "--role", "COMPLIANCE", "--password-stdin", "--data-dir", desk,
                input="auditor-pass-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    changed = run(ITIRP, "users", "passwd", "trader1", "--password-stdin", "--data-dir", desk, input="trader-new-1\n")
    assert changed.returncode == 0, changed.stderr
    with grpc.insecure_channel(server.address) as channel:
        token = login(channel, "trader1", "trader-new-1")
    before = orders_of(server.address, token)

    # Act: back up while it runs, restore into a fresh folder, start a server there
    taken = run(ITIRP, "backup", tmp_path / "backup", "--data-dir", desk)
    assert taken.returncode == 0, taken.stderr
    restored = run(ITIRP, "restore", tmp_path / "backup", "--data-dir", tmp_path / "restored")
    assert restored.returncode == 0, restored.stderr
    again = start_server(tmp_path / "restored")

    # Assert: the same users (same ids, roles, passwords), trader1's orders, the chain verifies
    assert users(tmp_path / "restored") == users(desk)
    assert {o[0] for o in before} == set(placed)
    assert orders_of(again.address, token) == before  # the desk's token too: the same signing secret
    with grpc.insecure_channel(again.address) as channel:
        assert orders_of(again.address, login(channel, "trader1", "trader-new-1")) == before
        assert login(channel, "auditor2", "auditor-pass-1")
        compliance = bearer(login(channel, "compliance1", "compliance123"))
        verified = audit_pb2_grpc.AuditServiceStub(channel).VerifyAuditLog(
            audit_pb2.VerifyAuditLogRequest(), metadata=compliance
        )
    assert verified.ok, verified.message
    assert "chain verified" in taken.stdout
    assert "chain verified" in restored.stdout
    assert again.stop() == 0
    assert server.stop() == 0


def test_restore_refuses_a_non_empty_folder_without_force_and_moves_it_aside_with_force(  # type: ignore[no-untyped-def]
    start_server, tmp_path: Path
) -> None:
    desk = tmp_path / "desk"
    server = start_server(desk)
    trade(server.address, orders=1)
    assert run(ITIRP, "backup", tmp_path / "backup", "--data-dir", desk).returncode == 0
    other = tmp_path / "other"
    second = start_server(other)  # another desk, with its own log and users
    before = snapshot(other)

    refused = run(ITIRP, "restore", tmp_path / "backup", "--data-dir", other)
    running = run(ITIRP, "restore", tmp_path / "backup", "--data-dir", other, "--force")
    assert second.stop() == 0
    forced = run(ITIRP, "restore", tmp_path / "backup", "--data-dir", other, "--force")

    assert refused.returncode == 2
    assert "not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert running.returncode == 2
    assert "a server is running" in running.stderr
    assert forced.returncode == 0, forced.stderr
    (aside,) = tmp_path.glob("other.replaced-*")
    assert set(snapshot(aside)) >= {"events.db", "users.db", "jwt_secret"}  # nothing deleted
    assert users(other) == users(desk)
    assert before  # (the refused attempts changed nothing it held)
    assert server.stop() == 0


def test_backup_refuses_a_folder_without_a_log_and_restore_a_damaged_backup(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    nothing = run(ITIRP, "backup", tmp_path / "backup", "--data-dir", tmp_path / "empty")
    assert nothing.returncode == 1
    assert "no event log" in nothing.stderr

    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "events.db").write_bytes(b"x")
    (tmp_path / "fake" / "itirp-backup.json").write_text(json.dumps({"files": {"events.db": {"sha256": "0" * 64}}}))
    damaged = run(ITIRP, "restore", tmp_path / "fake", "--data-dir", tmp_path / "restored")
    assert damaged.returncode == 3
    assert "damaged" in damaged.stderr
    assert not (tmp_path / "restored").exists()


def test_the_backup_recipe_of_the_operations_doc_prints_what_it_says(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    section = DOCS.read_text().split("## Backup and restore", 1)[1].split("\n## ", 1)[0]
    pairs = recipes(section)
    assert len(pairs) == 3
    server = start_server(tmp_path / "data")
    trade(server.address, orders=2)

    for command, expected in pairs:
        result = run("bash", "-c", f"export PATH={BIN}:$PATH\n{{\n{command}\n}} 2>&1", cwd=tmp_path)
        actual = [line.rstrip() for line in result.stdout.rstrip("\n").split("\n")]
        assert output_matches(expected.rstrip("\n").split("\n"), actual), f"$ {command}\n{expected}\n---\n{actual}"
    assert server.stop() == 0


def test_a_backup_after_a_kill_9_keeps_the_commits_the_crash_left_in_the_wal(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk = tmp_path / "desk"
    server = start_server(desk)
    placed = trade(server.address, orders=3)
    server.kill()
    crashed = snapshot(desk)
    assert "events.db-wal" in crashed

    assert run(ITIRP, "backup", tmp_path / "backup", "--data-dir", desk).returncode == 0
    assert run(ITIRP, "restore", tmp_path / "backup", "--data-dir", tmp_path / "restored").returncode == 0
    again = start_server(tmp_path / "restored")
    with grpc.insecure_channel(again.address) as channel:
        token = login(channel, "trader1", "trader123")

    assert {o[0] for o in orders_of(again.address, token)} == set(placed)
    assert snapshot(desk) == crashed  # the backup read the crash's files without touching them
    assert again.stop() == 0
