"""The audit trail from outside: an export that lost an event, and a log shortened or rewritten
behind the server's back, through the real `itirp` command and real server processes."""

from __future__ import annotations

import json
from pathlib import Path

import grpc

from itirp.v1 import auth_pb2, auth_pb2_grpc
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
