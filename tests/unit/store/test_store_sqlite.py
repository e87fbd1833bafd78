"""What only the SQLite backend has: the file layout, real SQLite failures, the single-writer
lock, read-only forensics and the synchronous export iterator."""

from __future__ import annotations

import asyncio
import threading
from contextlib import closing

import pytest

from itirp.store import SqliteEventStore, StoreError, TamperedLogError, iter_events_sync
from itirp.store import sqlite as sqlite_module

pytestmark = pytest.mark.asyncio


async def test_the_file_is_wal_with_the_documented_table_and_indexes(sqlite_harness, make_event):
    store = await sqlite_harness.new_store()
    await store.append([make_event()])

    with closing(sqlite_harness.raw()) as db:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        columns = [r[1] for r in db.execute("PRAGMA table_info(events)")]
        indexed = {
            db.execute(f"PRAGMA index_info({name!r})").fetchone()[2]
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }

    assert mode == "wal"
    assert columns == [
        "sequence", "event_id", "event_type", "correlation_id", "causation_id", "order_id",
        "user_id", "symbol", "timestamp_us", "schema_version", "payload", "prev_hash", "hash",
    ]  # fmt: skip
    # exactly these: each secondary index is paid on every order (see the schema's comment)
    assert indexed == {"correlation_id", "order_id", "user_id", "event_type"}


async def test_a_real_sqlite_error_fails_the_store_and_rolls_the_batch_back(
    sqlite_harness, make_event
):
    store = await sqlite_harness.new_store()
    await store.append([make_event()])
    await store.close()
    with closing(sqlite_harness.raw()) as db:  # a disk that refuses one particular row
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.symbol = 'BOOM'"
            " BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END"
        )
    failures: list[StoreError] = []
    store = await sqlite_harness.new_store(on_failure=failures.append)

    doomed = store.append([make_event(), make_event(symbol="BOOM")])
    with pytest.raises(StoreError, match="simulated I/O error"):
        await doomed

    assert store.failed
    assert len(failures) == 1
    store = await sqlite_harness.reopen(store)
    assert store.head_sequence == 1  # neither event of the failed call is there


async def test_a_second_writer_on_the_same_file_is_refused(sqlite_harness):
    await sqlite_harness.new_store()

    with pytest.raises(StoreError, match="open for writing elsewhere"):
        await SqliteEventStore(sqlite_harness.path).open()


async def test_read_only_mode_reads_and_verifies_but_refuses_appends(sqlite_harness, make_event):
    store = await sqlite_harness.new_store()
    for _ in range(4):
        await store.append([make_event()])
    await store.close()
    sqlite_harness.edit(2, b"forged")

    ro = await SqliteEventStore.open_read_only(sqlite_harness.path)
    sqlite_harness.stores.append(ro)
    result = await ro.verify()

    assert ro.read_only
    assert ro.head_sequence == 4
    assert len(await ro.read()) == 4
    with pytest.raises(StoreError, match="read-only"):
        await ro.append([make_event()])
    assert (result.ok, result.first_bad_sequence) == (False, 2)
    with pytest.raises(TamperedLogError) as caught:
        result.raise_if_tampered()
    assert caught.value.first_bad_sequence == 2


async def test_opening_a_missing_file_read_only_fails(tmp_path):
    with pytest.raises(StoreError):
        await SqliteEventStore.open_read_only(tmp_path / "nope.db")


async def test_the_sync_iterator_exports_from_a_sequence(sqlite_harness, make_event):
    store = await sqlite_harness.new_store()
    stored = await store.append([make_event() for _ in range(5)])

    exported = list(iter_events_sync(sqlite_harness.path, after=2))

    assert exported == stored[2:]


async def test_commits_run_on_the_writer_thread_not_the_event_loop(
    sqlite_harness, make_event, monkeypatch
):
    threads: list[int] = []
    real = sqlite_module._write_batch

    def spy(conn, batch, inject):
        threads.append(threading.get_ident())
        return real(conn, batch, inject)

    monkeypatch.setattr(sqlite_module, "_write_batch", spy)
    store = await sqlite_harness.new_store()

    await asyncio.gather(*(store.append([make_event()]) for _ in range(5)))
    await store.append([make_event()])

    assert len(threads) == store.commits >= 2
    assert len(set(threads)) == 1
    assert threading.get_ident() not in threads


async def test_hashes_at_gives_the_stored_hash_of_committed_sequences_only(sqlite_harness, make_event):
    store = await sqlite_harness.new_store()
    stored = await store.append([make_event() for _ in range(1200)])

    found = await store.hashes_at([0, 1, 600, 1200, 1201, 600])

    assert found == {1: stored[0].hash, 600: stored[599].hash, 1200: stored[1199].hash}
    assert len(await store.hashes_at(list(range(1, 1201)))) == 1200  # more than one IN (...) chunk
