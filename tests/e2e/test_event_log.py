"""The event log across process deaths and tampering, through the real `itirp` command."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import threading
import time

import grpc

from itirp.v1 import auth_pb2, auth_pb2_grpc, events_pb2
from tests.e2e.conftest import BIN, run
from tests.on_disk import tmp_path_on_disk  # noqa: F401 - the module's tmp_path: on disk (a kill -9 races the commits)


def _jti(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def test_kill_9_during_a_burst_keeps_every_acknowledged_event(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    # cheap password hashing, so that logins (each one a durable USER_LOGGED_IN event) come fast
    server = start_server(data, env={"ITIRP_SCRYPT_N": "1024", "ITIRP_ACCESS_LOG": "0"})
    acknowledged: list[str] = []
    stop = threading.Event()

    def terminal() -> None:
        with grpc.insecure_channel(server.address) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            while not stop.is_set():
                try:
                    reply = stub.Login(auth_pb2.LoginRequest(username="trader1", password="trader123"), timeout=5)
                except grpc.RpcError:
                    return  # the server died under us: this one was never acknowledged
                acknowledged.append(_jti(reply.access_token))

    threads = [threading.Thread(target=terminal) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop(signal.SIGKILL)  # mid-burst: the terminals are still sending
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acknowledged) >= 300

    restarted = start_server(data)  # verifies the chain and replays, or refuses to start
    export = run(BIN / "itirp", "audit", "export", "--data-dir", data, "-o", tmp_path / "log.jsonl")
    assert export.returncode == 0, export.stderr
    verified = run(BIN / "itirp", "audit", "verify", tmp_path / "log.jsonl")
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.startswith("OK:"), verified.stdout

    logged_in = set()
    for line in (tmp_path / "log.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("event_type") == "USER_LOGGED_IN":  # the header and checkpoints have none
            logged_in.add(events_pb2.UserLoggedIn.FromString(base64.b64decode(event["payload"])).token_id)
    assert set(acknowledged) <= logged_in
    assert restarted.stop() == 0


def test_an_edited_row_is_caught_by_the_offline_verifier_and_at_start(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data)
    with grpc.insecure_channel(server.address) as channel:
        auth_pb2_grpc.AuthServiceStub(channel).Login(auth_pb2.LoginRequest(username="trader1", password="trader123"))
    assert server.stop() == 0
    itirp = BIN / "itirp"
    assert run(itirp, "audit", "export", "--data-dir", data, "-o", tmp_path / "before.jsonl").returncode == 0
    assert run(itirp, "audit", "verify", tmp_path / "before.jsonl").returncode == 0

    db = sqlite3.connect(data / "events.db")
    db.execute("UPDATE events SET user_id = 'someone-else' WHERE sequence = 3")
    db.commit()
    db.close()

    run(itirp, "audit", "export", "--data-dir", data, "-o", tmp_path / "after.jsonl")
    offline = run(itirp, "audit", "verify", tmp_path / "after.jsonl")
    assert offline.returncode == 3
    assert "first bad sequence 3" in offline.stdout

    # a doctored file is caught too, even when the database is honest
    lines = (tmp_path / "before.jsonl").read_text().splitlines()  # the header, then sequence 1, 2, ...
    doctored = json.loads(lines[2])
    doctored["symbol"] = "XYZ"
    lines[2] = json.dumps(doctored)
    (tmp_path / "doctored.jsonl").write_text("\n".join(lines) + "\n")
    assert "first bad sequence 2" in run(itirp, "audit", "verify", tmp_path / "doctored.jsonl").stdout

    refused = run(BIN / "python", "-m", "itirp", "serve", "--listen", "127.0.0.1:0", "--data-dir", data, timeout=60)
    assert refused.returncode == 3
    assert "event 3" in refused.stderr
    assert "--read-only" in refused.stderr

    investigating = start_server(data, "--read-only")
    assert any("does not verify" in line["msg"] for line in investigating.log_lines())
    assert investigating.stop() == 0


def test_export_by_correlation_id_verifies_event_by_event(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data)
    with grpc.insecure_channel(server.address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for user, pw in (("trader1", "trader123"), ("risk1", "risk123"), ("trader1", "trader123")):
            stub.Login(auth_pb2.LoginRequest(username=user, password=pw), metadata=(("x-correlation-id", f"c-{user}"),))
    out = tmp_path / "trail.jsonl"

    exported = run(BIN / "itirp", "audit", "export", "--data-dir", data, "--correlation-id", "c-trader1", "-o", out)

    assert "exported 2 events" in exported.stderr
    verified = run(BIN / "itirp", "audit", "verify", out)
    assert verified.returncode == 0
    assert "in 2 contiguous run(s)" in verified.stdout
