"""A real, throwaway PostgreSQL server for tests and benches (no mocks).

Why this shape: the PostgreSQL event store's guarantees (durable commit, row locks, NOTIFY,
`pg_terminate_backend`, grants) are the server's, so they are tested against a real one. One
server per test session is cheap enough (~1 s to initdb and start); each test gets its own
database (`CREATE DATABASE itirp_<uuid>`), which is isolated and takes a few milliseconds.

The binaries are found on PATH or under /usr/lib/postgresql/<version>/bin (the newest). `initdb`
refuses to run as root; when this process is root, the cluster is owned by, and the server runs
as, the unprivileged `nobody` user (through `setpriv`), and the data and socket folders are
handed to it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PgServer", "PgServerError", "find_bin_dir", "start_server"]


class PgServerError(RuntimeError):
    """The PostgreSQL binaries are missing or the server would not start."""


def find_bin_dir() -> Path:
    """The folder holding initdb/pg_ctl: PATH first, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("initdb")
    if on_path is not None and shutil.which("pg_ctl") is not None:
        return Path(on_path).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(p: str) -> tuple[int, ...]:
        part = Path(p).parent.parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    if not candidates:
        raise PgServerError(
            "PostgreSQL binaries not found (no initdb on PATH or in /usr/lib/postgresql/*/bin): "
            "install the 'postgresql' package (make pg-binaries)"
        )
    return Path(max(candidates, key=version)).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server; `url` connects as the superuser `postgres` to database `postgres`."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None
    url: str = ""
    _databases: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, template: str | None = None) -> str:
        """A fresh empty database, or a copy of database `template` (no one connected to it);
        returns its URL."""
        import psycopg

        name = f"itirp_{uuid.uuid4().hex}"
        copy = f' TEMPLATE "{template}"' if template is not None else ""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        self._databases.append(name)
        return self.database_url(name)

    def stop(self) -> None:
        """Stop at once (`-m immediate`) and remove the cluster."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            _run(self, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate",
                        "-w", "stop"])  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def _run(server: PgServer, argv: list[str]) -> subprocess.CompletedProcess[str]:
    if server.run_as is not None:
        user = pwd.getpwnam(server.run_as)
        argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                "--", *argv]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60,
                          cwd=server.root)  # fmt: skip


def start_server(*, fsync: bool = True, parent: str | None = None) -> PgServer:
    """initdb into a temp folder and start a server on a free loopback port."""
    bin_dir = find_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="itirp-pg-", dir=parent))
    run_as = "nobody" if os.geteuid() == 0 else None
    server = PgServer(bin_dir=bin_dir, root=root, port=_free_port(), run_as=run_as)
    sock = root / "sock"
    sock.mkdir()
    if run_as is not None:
        user = pwd.getpwnam(run_as)
        for p in (root, sock):
            os.chown(p, user.pw_uid, user.pw_gid)
        os.chmod(root, 0o700)
    try:
        _run(server, [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-A", "trust",
                      "-U", "postgres", "--no-sync", "-E", "UTF8"])  # fmt: skip
        opts = (f"-p {server.port} -k {sock} -c listen_addresses=127.0.0.1 "
                f"-c fsync={'on' if fsync else 'off'} -c max_connections=200")  # fmt: skip
        _run(server, [str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-w", "-t", "60",
                      "-l", str(root / "server.log"), "-o", opts, "start"])  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise PgServerError(f"PostgreSQL would not start: {exc.stderr}\n{tail}") from exc
    server.url = server.database_url("postgres")
    return server
