"""The audit trail from outside: an export that lost an event, and a log shortened or rewritten
behind the server's back, through the real `itirp` command and real server processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import grpc

from itirp.store import NewEvent, compute_hash, iter_events_sync, verify_chain
from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc
from tests.e2e.conftest import BIN, run

ITIRP = BIN / "itirp"


def _logins(address: str, n: int) -> None:
    """`n` logins: each one a durable USER_LOGGED_IN event."""
    with grpc.insecure_channel(address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for _ in range(n):
            stub.Login(auth_pb2.LoginRequest(username="trader1", password="trader123"))


def _event_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if '"sequence"' in line and '"event_id"' in line]


def test_an_export_with_a_middle_event_deleted_is_tampered_naming_the_missing_sequence(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a real log, exported by the real command
    data = tmp_path / "data"
    server = start_server(data, env={"ITIRP_SCRYPT_N": "1024"})
    _logins(server.address, 10)
    assert server.stop() == 0
    export = tmp_path / "log.jsonl"
    assert run(ITIRP, "audit", "export", "--data-dir", data, "-o", export).returncode == 0
    assert run(ITIRP, "audit", "verify", export).returncode == 0

    # Act: one event line out of the middle
    lines = export.read_text().splitlines()
    events = _event_lines(export)
    victim = events[len(events) // 2]
    missing = json.loads(victim)["sequence"]
    lines.remove(victim)
    export.write_text("\n".join(lines) + "\n")
    verified = run(ITIRP, "audit", "verify", export)

    # Assert
    assert verified.returncode == 3, verified.stdout + verified.stderr
    assert f"TAMPERED: first bad sequence {missing}" in verified.stdout


def test_a_range_export_with_its_last_event_deleted_is_tampered(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data, env={"ITIRP_SCRYPT_N": "1024"})
    _logins(server.address, 6)
    assert server.stop() == 0
    export = tmp_path / "part.jsonl"
    assert run(ITIRP, "audit", "export", "--data-dir", data, "--from", "3", "--to", "7", "-o", export).returncode == 0
    assert run(ITIRP, "audit", "verify", export).returncode == 0

    lines = export.read_text().splitlines()
    last = _event_lines(export)[-1]
    assert json.loads(last)["sequence"] == 7
    lines.remove(last)
    export.write_text("\n".join(lines) + "\n")
    verified = run(ITIRP, "audit", "verify", export)

    assert verified.returncode == 3, verified.stdout + verified.stderr
    assert "TAMPERED: first bad sequence 7" in verified.stdout


def test_a_correlation_export_with_an_event_deleted_is_tampered(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data, env={"ITIRP_SCRYPT_N": "1024"})
    with grpc.insecure_channel(server.address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for user, pw in (("trader1", "trader123"), ("risk1", "risk123"), ("trader1", "trader123")):
            stub.Login(auth_pb2.LoginRequest(username=user, password=pw), metadata=(("x-correlation-id", f"c-{user}"),))
    assert server.stop() == 0
    export = tmp_path / "trail.jsonl"
    exported = run(ITIRP, "audit", "export", "--data-dir", data, "--correlation-id", "c-trader1", "-o", export)
    assert exported.returncode == 0
    assert run(ITIRP, "audit", "verify", export).returncode == 0

    lines = export.read_text().splitlines()
    first = _event_lines(export)[0]
    lines.remove(first)
    export.write_text("\n".join(lines) + "\n")
    verified = run(ITIRP, "audit", "verify", export)

    assert verified.returncode == 3, verified.stdout + verified.stderr
    assert f"TAMPERED: first bad sequence {json.loads(first)['sequence']}" in verified.stdout


# ------------------------------------------------------------------ signed checkpoints

CHECKPOINTS_EVERY_200_MS = {"ITIRP_SCRYPT_N": "1024", "ITIRP_STORE_CHECKPOINT_SECONDS": "0.2"}


def _checkpointed_log(start_server, data: Path, logins: int = 100) -> int:  # type: ignore[no-untyped-def]
    """A log of `logins` logins and more, stopped cleanly (which signs a checkpoint); its head."""
    server = start_server(data, env=CHECKPOINTS_EVERY_200_MS)
    _logins(server.address, logins)
    assert server.stop() == 0
    db = sqlite3.connect(data / "events.db")
    (head,) = db.execute("SELECT max(sequence) FROM events").fetchone()
    db.close()
    return int(head)


def _checkpoint_sequences(data: Path) -> list[int]:
    path = data / "checkpoints.jsonl"
    return [json.loads(line)["sequence"] for line in path.read_text().splitlines()] if path.exists() else []


def _rewrite_from(db_path: Path, sequence: int) -> None:
    """Edit the row at `sequence` and recompute its hash and every later one, so that the chain
    verifies again from start to end: what someone with write access to the file can do."""
    db = sqlite3.connect(db_path)
    db.execute("UPDATE events SET user_id = 'someone-else' WHERE sequence = ?", (sequence,))
    (prev,) = db.execute("SELECT hash FROM events WHERE sequence = ?", (sequence - 1,)).fetchone()
    columns = "sequence, event_id, event_type, correlation_id, causation_id, order_id, user_id, symbol, "
    columns += "timestamp_us, schema_version, payload"
    rows = db.execute(f"SELECT {columns} FROM events WHERE sequence >= ? ORDER BY sequence", (sequence,)).fetchall()
    for row in rows:
        event = NewEvent(
            event_id=row[1], event_type=row[2], correlation_id=row[3], causation_id=row[4], order_id=row[5],
            user_id=row[6], symbol=row[7], timestamp_us=row[8], schema_version=row[9], payload=bytes(row[10]),
        )  # fmt: skip
        new_hash = compute_hash(prev, event, sequence=row[0])
        db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE sequence = ?", (prev, new_hash, row[0]))
        prev = new_hash
    db.commit()
    db.close()


def _serve_refused(data: Path) -> subprocess.CompletedProcess[str]:
    return run(BIN / "python", "-m", "itirp", "serve", "--listen", "127.0.0.1:0", "--data-dir", data, timeout=60)


def _verify_audit_log(address: str) -> audit_pb2.VerifyAuditLogResponse:
    with grpc.insecure_channel(address) as channel:
        token = (
            auth_pb2_grpc.AuthServiceStub(channel)
            .Login(auth_pb2.LoginRequest(username="compliance1", password="compliance123"))
            .access_token
        )
        return audit_pb2_grpc.AuditServiceStub(channel).VerifyAuditLog(
            audit_pb2.VerifyAuditLogRequest(), metadata=(("authorization", f"Bearer {token}"),)
        )


def test_a_log_with_its_last_50_rows_deleted_is_refused_at_start_and_by_every_verifier(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a checkpointed log, then the last 50 rows deleted with sqlite3
    data = tmp_path / "data"
    head = _checkpointed_log(start_server, data)
    assert max(_checkpoint_sequences(data)) >= head - 1
    db = sqlite3.connect(data / "events.db")
    db.execute("DELETE FROM events WHERE sequence > ?", (head - 50,))
    db.commit()
    db.close()
    first_missing = head - 50 + 1

    # Act / Assert: the server refuses to start, naming the first missing sequence
    refused = _serve_refused(data)
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert f"event {first_missing}" in refused.stderr

    # ... VerifyAuditLog on a server started read-only to investigate says so
    investigating = start_server(data, "--read-only")
    answer = _verify_audit_log(investigating.address)
    assert not answer.ok
    assert answer.first_bad_sequence == first_missing
    assert investigating.stop() == 0

    # ... and so does the offline verifier on an export of what is left
    export = tmp_path / "short.jsonl"
    assert run(ITIRP, "audit", "export", "--data-dir", data, "-o", export).returncode == 0
    verified = run(ITIRP, "audit", "verify", export)
    assert verified.returncode == 3, verified.stdout
    assert f"TAMPERED: first bad sequence {first_missing}" in verified.stdout


def test_a_log_rewritten_with_every_later_hash_recomputed_is_caught_at_the_checkpointed_sequence(
    start_server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: rewrite a row in the middle and recompute every later hash: the chain verifies
    data = tmp_path / "data"
    head = _checkpointed_log(start_server, data)
    edited = head // 2
    _rewrite_from(data / "events.db", edited)
    assert verify_chain(iter_events_sync(data / "events.db")).ok
    checkpointed = min(s for s in _checkpoint_sequences(data) if s >= edited)

    # Act / Assert: refused at start at the first checkpoint at or after the edit
    refused = _serve_refused(data)
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert f"event {checkpointed}" in refused.stderr

    investigating = start_server(data, "--read-only")
    answer = _verify_audit_log(investigating.address)
    assert (answer.ok, answer.first_bad_sequence) == (False, checkpointed)
    assert investigating.stop() == 0

    export = tmp_path / "rewritten.jsonl"
    assert run(ITIRP, "audit", "export", "--data-dir", data, "-o", export).returncode == 0
    verified = run(ITIRP, "audit", "verify", export)
    assert verified.returncode == 3, verified.stdout
    assert f"TAMPERED: first bad sequence {checkpointed}" in verified.stdout


def test_an_export_of_a_stopped_servers_log_writes_nothing_in_its_data_folder(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Before: the export opened events.db plainly read-only, which leaves -wal and -shm behind.
    data = tmp_path / "data"
    server = start_server(data)
    _logins(server.address, 3)
    server.stop()
    before = sorted(p.name for p in data.iterdir())

    exported = run(ITIRP, "audit", "export", "--data-dir", data, "-o", tmp_path / "export.jsonl")

    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in data.iterdir()) == before


def _wal_after_kill_9(start_server, data: Path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Logins under checkpoints every 200 ms, a kill -9, a WAL left behind; (the WAL's size, the
    latest signed checkpoint's sequence)."""
    server = start_server(data, env=CHECKPOINTS_EVERY_200_MS)
    _logins(server.address, 120)
    time.sleep(0.5)  # at least two checkpoints signed under the load
    _logins(server.address, 120)
    server.kill()
    wal = data / "events.db-wal"
    assert wal.exists(), "the crash left no WAL to damage"
    assert wal.stat().st_size > 32 * 1024, "the crash left no WAL to damage"
    return wal.stat().st_size, max(_checkpoint_sequences(data))


def test_a_damaged_wal_after_a_kill_9_is_refused_when_it_loses_checkpointed_events(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Before (no checkpoints): a truncated or bit-flipped WAL lost acknowledged events silently and
    # the server started normally. Now what a signed checkpoint covers cannot go missing unnoticed.
    for damage in ("truncate", "flip"):
        data = tmp_path / damage
        size, checkpointed = _wal_after_kill_9(start_server, data)
        wal = data / "events.db-wal"
        if damage == "truncate":  # the disk kept the WAL's header and first frames only
            os.truncate(wal, 32 + 3 * (4096 + 24))
        else:  # one byte flipped in the WAL's first frame: it and every frame after it are dropped
            with wal.open("r+b") as f:
                f.seek(32 + 24 + 100)
                byte = f.read(1)
                f.seek(-1, os.SEEK_CUR)
                f.write(bytes([byte[0] ^ 0xFF]))

        refused = _serve_refused(data)

        assert refused.returncode == 3, (damage, refused.stderr[-2000:])
        assert "before its signed checkpoint" in refused.stderr, refused.stderr[-2000:]
        assert checkpointed > 0
        assert size > 0
