"""Reading a WAL-mode SQLite file without writing beside it (`ReadOnlyFile`): a plain `mode=ro`
connection leaves `-wal` and `-shm` files behind; these ways do not, and still see a crash's WAL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest

from itirp.store.sqlite_files import ReadOnlyFile, writer_running


def files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def make_db(path: Path, rows: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    db.close()  # the last connection checkpoints and removes the WAL


def read_all(source: ReadOnlyFile) -> list[int]:
    db = source.connect()
    try:
        return [r[0] for r in db.execute("SELECT x FROM t ORDER BY x")]
    finally:
        db.close()


def test_a_cleanly_closed_file_is_read_in_place_and_nothing_is_created(tmp_path: Path) -> None:
    make_db(tmp_path / "e.db", 3)
    before = files(tmp_path)

    source = ReadOnlyFile.open(tmp_path / "e.db")
    rows = read_all(source)
    source.close()

    assert rows == [0, 1, 2]
    assert not source.copied
    assert files(tmp_path) == before


def test_a_wal_left_by_a_crash_is_read_from_a_private_copy(tmp_path: Path) -> None:
    make_db(tmp_path / "e.db", 2)
    writer = sqlite3.connect(tmp_path / "e.db", isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO t VALUES (2)")  # committed, in the WAL only
    before = files(tmp_path)
    assert "e.db-wal" in before

    source = ReadOnlyFile.open(tmp_path / "e.db", lock=tmp_path / "e.db.lock")
    rows = read_all(source)
    source.close()
    after = files(tmp_path)
    writer.close()

    assert rows == [0, 1, 2]
    assert source.copied
    assert after == before
    assert not Path(source.uri.removeprefix("file://").split("?")[0]).parent.exists()  # the copy is gone


def test_a_running_writer_is_read_in_place(tmp_path: Path) -> None:
    make_db(tmp_path / "e.db", 1)
    writer = sqlite3.connect(tmp_path / "e.db", isolation_level=None)
    writer.execute("INSERT INTO t VALUES (1)")
    fd = os.open(tmp_path / "e.db.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert writer_running(tmp_path / "e.db.lock")
        source = ReadOnlyFile.open(tmp_path / "e.db", lock=tmp_path / "e.db.lock")
        assert read_all(source) == [0, 1]
        assert not source.copied
        source.close()
    finally:
        os.close(fd)
        writer.close()
    assert not writer_running(tmp_path / "e.db.lock")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ReadOnlyFile.open(tmp_path / "nope.db")
    assert list(tmp_path.iterdir()) == []
