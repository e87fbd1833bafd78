"""The test PostgreSQL server helper: where it finds the binaries, and a clear error without them
(the `pg_server` fixture turns that error into a failure, never a skip)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests import pg_server as helper


def test_missing_binaries_are_an_error_that_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper.shutil, "which", lambda name: None)
    monkeypatch.setattr(helper.glob, "glob", lambda pattern: [])

    with pytest.raises(helper.PgServerError, match="install the 'postgresql' package"):
        helper.find_bin_dir()


def test_the_newest_installed_version_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    found = ["/usr/lib/postgresql/9.6/bin/initdb", "/usr/lib/postgresql/15/bin/initdb",
             "/usr/lib/postgresql/13/bin/initdb"]  # fmt: skip
    monkeypatch.setattr(helper.shutil, "which", lambda name: None)
    monkeypatch.setattr(helper.glob, "glob", lambda pattern: found)

    assert helper.find_bin_dir() == Path("/usr/lib/postgresql/15/bin")


def test_each_test_gets_its_own_empty_database_with_fsync_on(pg_server: helper.PgServer, pg_url: str) -> None:
    other = pg_server.create_database()

    with psycopg.connect(pg_url) as db:
        name = db.execute("SELECT current_database()").fetchone()
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        fsync = db.execute("SHOW fsync").fetchone()

    assert name is not None
    assert other != pg_url
    assert pg_url.endswith(f"/{name[0]}")
    assert tables == (0,)
    assert fsync == ("on",)
