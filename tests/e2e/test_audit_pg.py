"""`itirp audit export` / `verify` on a PostgreSQL event log written by a real `itirp serve`:
by `--database-url` or by ITIRP_STORE=postgres + ITIRP_DATABASE_URL; a row rewritten behind the
server's back (the append-only trigger bypassed by a superuser) is found by verify."""

from __future__ import annotations

import json
import os

import grpc
import psycopg
import pytest

from itirp.v1 import auth_pb2, auth_pb2_grpc
from tests.e2e.conftest import BIN, ServerProcess, run
from tests.e2e.test_failover import node_env
from tests.pg_server import PgServer

ITIRP = BIN / "itirp"


def _logins(address: str, n: int) -> None:
    """`n` logins: each one a durable USER_LOGGED_IN event."""
    with grpc.insecure_channel(address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for _ in range(n):
            stub.Login(auth_pb2.LoginRequest(username="trader1", password="trader123"), timeout=10)


def _no_store_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}


@pytest.fixture(scope="module")
def written_log(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """A real server writes the log (10 logins), then stops: made once for the module; (the
    database's name, the number of rows). Each test gets its own copy (`written`)."""
    url = pg_server.create_database()
    folder = tmp_path_factory.mktemp("audit-pg")
    server = ServerProcess(folder / "data", folder / "server.log", env=node_env(url, "node-a"))
    try:
        _logins(server.address, 10)
    finally:
        stopped = server.stop()
    assert stopped == 0
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), max(sequence) FROM events").fetchone()
    assert row is not None
    assert row[0] == row[1]
    assert row[0] >= 10
    return url.rsplit("/", 1)[1], int(row[0])


@pytest.fixture
def written(pg_server: PgServer, written_log: tuple[str, int]) -> tuple[str, int]:
    """This test's copy of `written_log` (CREATE DATABASE ... TEMPLATE): (its URL, rows)."""
    name, rows = written_log
    return pg_server.create_database(template=name), rows


def test_export_and_verify_a_postgres_log_by_flag_and_by_environment(written, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg_url, rows = written
    empty = tmp_path / "empty"  # no events.db here: the log is read from PostgreSQL
    by_flag, by_env = tmp_path / "flag.jsonl", tmp_path / "env.jsonl"

    exported = run(ITIRP, "audit", "export", "--data-dir", empty, "--database-url", pg_url, "-o", by_flag,
                   env=_no_store_env())  # fmt: skip
    env = {**_no_store_env(), "ITIRP_STORE": "postgres", "ITIRP_DATABASE_URL": pg_url}
    from_env = run(ITIRP, "audit", "export", "--data-dir", empty, "-o", by_env, env=env)
    verified = run(ITIRP, "audit", "verify", by_flag)
    ranged = tmp_path / "range.jsonl"
    part = run(ITIRP, "audit", "export", "--database-url", pg_url, "--from", "3", "--to", "7", "-o", ranged,
               env=_no_store_env())  # fmt: skip

    assert exported.returncode == 0, exported.stderr
    assert f"exported {rows} events" in exported.stderr
    assert from_env.returncode == 0, from_env.stderr
    assert by_flag.read_text() == by_env.read_text()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"OK: {rows} events verified in 1 contiguous run(s); last sequence {rows}" in verified.stdout
    assert part.returncode == 0, part.stderr
    assert "exported 5 events" in part.stderr
    assert run(ITIRP, "audit", "verify", ranged).returncode == 0
    header = json.loads(by_flag.read_text().splitlines()[0])
    assert header["to_sequence"] == rows, header


def test_a_postgres_row_rewritten_behind_the_servers_back_is_found_by_verify(written, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg_url, rows = written
    victim = rows // 2
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the superuser: past the grants
        refused = None
        try:
            conn.execute("UPDATE events SET user_id = 'mallory' WHERE sequence = %s", (victim,))
        except psycopg.Error as exc:
            refused = exc
        with conn.transaction():  # replica mode: the append-only trigger does not fire
            conn.execute("SET LOCAL session_replication_role = replica")
            changed = conn.execute("UPDATE events SET user_id = 'mallory' WHERE sequence = %s", (victim,)).rowcount
    export = tmp_path / "tampered.jsonl"

    exported = run(ITIRP, "audit", "export", "--database-url", pg_url, "-o", export, env=_no_store_env())
    verified = run(ITIRP, "audit", "verify", export)

    assert refused is not None, "the append-only trigger let an UPDATE through"
    assert changed == 1
    assert exported.returncode == 0, exported.stderr
    assert verified.returncode == 3, verified.stdout + verified.stderr
    assert f"TAMPERED: first bad sequence {victim}" in verified.stdout


def test_an_unreachable_database_is_an_error_not_an_empty_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "none.jsonl"
    url = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    exported = run(ITIRP, "audit", "export", "--database-url", url, "-o", out, env=_no_store_env())
    missing = run(ITIRP, "audit", "export", env={**_no_store_env(), "ITIRP_STORE": "postgres"})

    assert exported.returncode == 1
    assert exported.stderr.startswith("itirp: ")
    assert missing.returncode == 2
    assert "ITIRP_DATABASE_URL" in missing.stderr
