"""A synchronous streaming standby for a throwaway PostgreSQL primary (tests/pg_server.py), for the
PostgreSQL HA drill (bench/pg_ha_drill.py, tests/e2e/test_pg_ha.py). Everything on 127.0.0.1.

Why this shape: the primary is `start_server()` as is (PostgreSQL 15's defaults are what
streaming needs: wal_level=replica, max_wal_senders=10, synchronous_commit=on; initdb -A trust
lets `postgres`, a superuser with REPLICATION, replicate from 127.0.0.1). The standby is a
`pg_basebackup -R` of it, with `application_name` in its primary_conninfo; only then does the
primary get `synchronous_standby_names` (ALTER SYSTEM + reload), so nothing blocks while the
standby is made, and the standby's own copy of the configuration has none: promoted, it accepts
commits alone (a real deployment then seeds a new standby for it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.pg_server import PgServer, PgServerError, _free_port, _run

__all__ = ["kill_9", "make_synchronous", "promote", "replication_settings", "start_standby"]


def _chown_to(server: PgServer, *paths: Path) -> None:
    if server.run_as is None:
        return
    user = pwd.getpwnam(server.run_as)
    for p in paths:
        os.chown(p, user.pw_uid, user.pw_gid)


def start_standby(primary: PgServer, application_name: str = "standby1", settings: str = "") -> PgServer:
    """`pg_basebackup -R -X stream` of `primary` into a temp folder, started on a free port;
    `settings`: more server options (`-c name=value ...`)."""
    root = Path(tempfile.mkdtemp(prefix="itirp-pg-standby-"))
    standby = PgServer(bin_dir=primary.bin_dir, root=root, port=_free_port(), run_as=primary.run_as)
    sock = root / "sock"
    sock.mkdir()
    _chown_to(standby, root, sock)
    os.chmod(root, 0o700)
    conninfo = f"host=127.0.0.1 port={primary.port} user=postgres application_name={application_name}"
    try:
        _run(standby, [str(standby.bin_dir / "pg_basebackup"), "-D", str(standby.data_dir), "-d", conninfo,
                       "-R", "-X", "stream", "-c", "fast"])  # fmt: skip
        auto = standby.data_dir / "postgresql.auto.conf"
        if f"application_name={application_name}" not in auto.read_text():  # -R keeps it; make sure
            with auto.open("a") as f:
                f.write(f"primary_conninfo = '{conninfo}'\n")
        opts = f"-p {standby.port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=200 {settings}"
        _run(standby, [str(standby.bin_dir / "pg_ctl"), "-D", str(standby.data_dir), "-w", "-t", "60",
                       "-l", str(root / "server.log"), "-o", opts, "start"])  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        standby.stop()
        raise PgServerError(f"the standby would not start: {exc.stderr}\n{tail}") from exc
    standby.url = standby.database_url("postgres")
    return standby


def replication_settings(server: PgServer) -> dict[str, str]:
    names = ("wal_level", "max_wal_senders", "synchronous_commit", "synchronous_standby_names",
             "wal_retrieve_retry_interval")  # fmt: skip
    with psycopg.connect(server.url, autocommit=True) as conn:
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


def make_synchronous(primary: PgServer, application_name: str = "standby1", timeout: float = 30.0) -> dict[str, str]:
    """Name the standby in synchronous_standby_names (synchronous_commit = on) and wait until
    pg_stat_replication shows it streaming with sync_state 'sync'; returns that row."""
    with psycopg.connect(primary.url, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{application_name}'")
        conn.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        while True:
            row = conn.execute(
                "SELECT application_name, state, sync_state FROM pg_stat_replication WHERE application_name = %s",
                (application_name,),
            ).fetchone()
            if row is not None and row[1] == "streaming" and row[2] == "sync":
                return {"application_name": row[0], "state": row[1], "sync_state": row[2]}
            if time.monotonic() > deadline:
                raise PgServerError(f"{application_name} is not a synchronous streaming standby: {row}")
            time.sleep(0.05)


def _pids(server: PgServer) -> list[int]:
    """The postmaster (postmaster.pid's first line) and its children (backends, walsender...)."""
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True,
                              check=False, timeout=10).stdout.split()  # fmt: skip
    return [postmaster, *(int(p) for p in children)]


def kill_9(server: PgServer) -> list[int]:
    """The server dies as its machine would: SIGKILL to the postmaster and every child at once."""
    pids = _pids(server)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def promote(server: PgServer) -> None:
    """`pg_ctl promote -w`: returns once the standby accepts writes (checked)."""
    _run(server, [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-w", "-t", "60", "promote"])
    with psycopg.connect(server.url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    if row is None or row[0]:
        raise PgServerError("the standby is still in recovery after pg_ctl promote")
