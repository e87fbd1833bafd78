"""Reading a SQLite file of the data folder without writing anything beside it.

A plain read-only connection (`mode=ro`) to a database in WAL mode creates `-wal` and `-shm`
files next to it and leaves them there. Investigation (`--read-only`) and backups must not touch
the folder they read, so:

- no `-wal` file (the server stopped cleanly, or never ran): the file is opened `immutable`
  (no locks, no `-shm`, nothing created); everything is in the main file;
- a `-wal` file a crash left (no server holds the writer's lock): the file and its WAL are copied
  to a private temporary folder and read there, so that the crash's last commits are seen and the
  data folder stays as it is;
- a server is running on the folder (it holds `events.db.lock`): read in place with `mode=ro`,
  consistently while it writes; the `-wal` and `-shm` are the running server's own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

__all__ = ["ReadOnlyFile", "writer_running"]


def writer_running(lock: Path) -> bool:
    """Whether a process holds the writer's flock on `lock` (a running server). Reads only."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the shared lock, if taken
    return False


class ReadOnlyFile:
    """Where read-only connections to `path` come from (see the module docstring); `close()`
    removes the private copy, if one was made."""

    def __init__(self, path: Path, uri: str, copy_dir: Path | None) -> None:
        self.path = path
        self.uri = uri
        self._copy_dir = copy_dir
        #: Whether it reads a private copy (a crash's WAL), removed by `close()`.
        self.copied = copy_dir is not None

    @classmethod
    def open(cls, path: Path, *, lock: Path | None = None) -> ReadOnlyFile:
        """Decide how to read `path` (blocking: copies a crash's WAL). FileNotFoundError if absent.
        `lock`: the flock a running server holds (`events.db.lock`, for every file of its folder)."""
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        wal = Path(f"{path}-wal")
        if not wal.exists():
            return cls(path, f"{path.resolve().as_uri()}?mode=ro&immutable=1", None)
        if lock is not None and writer_running(lock):
            return cls(path, f"{path.resolve().as_uri()}?mode=ro", None)
        copy_dir = Path(tempfile.mkdtemp(prefix="itirp-read-only-"))
        try:
            copy = copy_dir / path.name
            shutil.copyfile(path, copy)
            with contextlib.suppress(FileNotFoundError):  # checkpointed and removed meanwhile
                shutil.copyfile(wal, Path(f"{copy}-wal"))
        except BaseException:
            shutil.rmtree(copy_dir, ignore_errors=True)
            raise
        return cls(path, f"{copy.as_uri()}?mode=ro", copy_dir)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn

    def close(self) -> None:
        if self._copy_dir is not None:
            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None
