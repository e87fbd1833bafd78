"""The event store contract, run against every backend (memory, SQLite, PostgreSQL).

Each test reads as a story: arrange a store, act as the platform would, assert what compliance
relies on (gapless, durable before acknowledged, chained, tamper-evident, in order).
"""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from itirp.store import (
    GENESIS_HASH,
    EventQuery,
    EventStore,
    StoredEvent,
    StoreError,
    by_correlation,
    by_order,
)

pytestmark = pytest.mark.asyncio


def seqs(events: list[StoredEvent]) -> list[int]:
    return [e.sequence for e in events]


# ---------------------------------------------------------------------------- sequencing


async def test_every_backend_follows_the_protocol(harness):
    store = await harness.new_store()

    assert isinstance(store, EventStore)
    assert (store.head_sequence, store.head_hash, store.failed) == (0, GENESIS_HASH, False)


async def test_sequences_start_at_one_and_are_gapless(harness, make_event):
    store = await harness.new_store()

    first = await store.append([make_event()])
    second = await store.append([make_event(), make_event(), make_event()])

    assert seqs(first) == [1]
    assert seqs(second) == [2, 3, 4]
    assert seqs(await store.read()) == [1, 2, 3, 4]
    assert store.head_sequence == 4
    assert store.head_hash == second[-1].hash


async def test_sequences_and_hashes_are_known_at_call_time_but_visible_only_once_durable(
    harness, make_event
):
    store = await harness.new_store()
    await store.append([make_event()])

    pending = store.append([make_event(), make_event()])

    assert seqs(pending.events) == [2, 3]
    assert pending.events[0].prev_hash == store.head_hash
    assert not pending.done()
    assert store.head_sequence == 1
    assert seqs(await store.read()) == [1]
    assert await pending == pending.events
    assert store.head_sequence == 3


async def test_fifty_concurrent_appenders_get_a_gapless_log_in_fewer_commits(harness, make_event):
    store = await harness.new_store()
    batches: list[list[StoredEvent]] = []
    store.add_listener(batches.append)
    appends_per_task, events_per_append, tasks = 4, 3, 50

    async def appender(task: int) -> list[list[StoredEvent]]:
        out = []
        for i in range(appends_per_task):
            evs = [make_event(order_id=f"o{task}-{i}") for _ in range(events_per_append)]
            out.append(await store.append(evs))
        return out

    results = await asyncio.gather(*(appender(t) for t in range(tasks)))

    calls = [call for per_task in results for call in per_task]
    total = tasks * appends_per_task * events_per_append
    for call in calls:  # each call's events are contiguous
        assert seqs(call) == list(range(call[0].sequence, call[0].sequence + len(call)))
    for per_task in results:  # a task's awaited appends are ordered
        firsts = [call[0].sequence for call in per_task]
        assert firsts == sorted(firsts)
    assert sorted(s for call in calls for s in seqs(call)) == list(range(1, total + 1))
    assert seqs(await store.read()) == list(range(1, total + 1))
    assert store.commits == len(batches) < len(calls)  # group commit happened
    assert (await store.verify()).ok


async def test_a_batch_holds_at_most_max_batch_events_but_never_splits_a_call(harness, make_event):
    store = await harness.new_store(max_batch=4)
    sizes: list[int] = []
    store.add_listener(lambda batch: sizes.append(len(batch)))

    await asyncio.gather(
        *(store.append([make_event(), make_event(), make_event()]) for _ in range(6))
    )
    big = await store.append([make_event() for _ in range(10)])

    assert sizes[:-1]
    assert all(s <= 4 for s in sizes[:-1])
    assert sizes[-1] == 10
    assert seqs(big) == list(range(19, 29))


async def test_an_invalid_event_raises_at_once_and_changes_nothing(harness, make_event):
    store = await harness.new_store()

    with pytest.raises(ValueError, match="event_id and event_type are required"):
        store.append([make_event(), make_event(event_id="")])
    with pytest.raises(TypeError):
        store.append([make_event(payload="not bytes")])
    with pytest.raises(ValueError, match="field out of range"):
        store.append([make_event(timestamp_us=2**63)])
    stored = await store.append([make_event()])

    assert seqs(stored) == [1]
    assert stored[0].prev_hash == GENESIS_HASH


async def test_an_empty_append_resolves_to_nothing(harness):
    store = await harness.new_store()

    assert await store.append([]) == []
    assert store.head_sequence == 0


# ---------------------------------------------------------------------------- chain


async def test_the_chain_links_every_event_and_verifies(harness, make_event):
    store = await harness.new_store()
    await asyncio.gather(*(store.append([make_event(), make_event()]) for _ in range(5)))

    events = await store.read()
    result = await store.verify()

    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert result.ok
    assert result.first_bad_sequence == 0
    assert (result.events_checked, result.head_sequence) == (10, 10)
    assert result.head_hash == store.head_hash


async def test_an_empty_store_verifies(harness):
    store = await harness.new_store()

    result = await store.verify()

    assert result.ok
    assert result.events_checked == 0
    assert result.head_hash == GENESIS_HASH


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        (lambda h: h.edit(3, b"forged"), 3, "hash mismatch"),
        (lambda h: h.delete(3), 3, "sequence gap"),
        (lambda h: h.swap(2, 3), 2, "prev_hash"),
        (lambda h: h.delete(5), 5, "missing"),
    ],
    ids=["edited", "deleted", "swapped", "truncated"],
)
async def test_verify_names_the_first_tampered_event(harness, make_event, tamper, first_bad, words):
    store = await harness.new_store()
    for _ in range(5):
        await store.append([make_event()])

    tamper(harness)
    result = await store.verify()

    assert not result.ok
    assert result.first_bad_sequence == first_bad
    assert result.message.startswith(f"event {first_bad}: ")
    assert words in result.message
    assert result.head_sequence == first_bad - 1


# ---------------------------------------------------------------------------- durability


async def test_reopen_restores_the_head_and_continues_the_chain(harness, make_event):
    store = await harness.new_store()
    before = await store.append([make_event(), make_event(), make_event()])

    store = await harness.reopen(store)
    after = await store.append([make_event()])

    assert (store.head_sequence, before[-1].hash) == (4, after[0].prev_hash)
    assert seqs(await store.read()) == [1, 2, 3, 4]
    assert (await store.verify()).ok


async def test_close_commits_what_is_pending_then_refuses_appends(harness, make_event):
    store = await harness.new_store()
    pending = store.append([make_event()])

    await store.close()

    assert pending.done()
    assert seqs(pending.result()) == [1]
    with pytest.raises(StoreError):
        await store.append([make_event()])
    store = await harness.reopen(store)
    assert store.head_sequence == 1


# ---------------------------------------------------------------------------- failure


async def test_a_failed_commit_fails_its_batch_and_everything_after_it(harness, make_event):
    failures: list[StoreError] = []
    store = await harness.new_store(on_failure=failures.append)
    good = await store.append([make_event()])

    store.fail_next_commit(OSError(28, "No space left on device"))
    doomed = store.append([make_event(), make_event()])
    await asyncio.sleep(0)  # the batch is handed to the writer
    behind = store.append([make_event()])
    outcomes = await asyncio.gather(doomed, behind, return_exceptions=True)

    assert all(isinstance(o, StoreError) for o in outcomes)
    assert store.failed
    with pytest.raises(StoreError, match="failed"):
        await store.append([make_event()])
    assert len(failures) == 1
    assert "No space left" in str(failures[0])
    assert store.head_sequence == 1
    assert await store.read() == good  # the failed batch was rolled back


# ---------------------------------------------------------------------------- listeners


async def test_listeners_get_every_committed_event_once_in_order_on_the_loop(harness, make_event):
    store = await harness.new_store()
    seen: list[int] = []
    threads: set[int] = set()

    def on_commit(batch: list[StoredEvent]) -> None:
        threads.add(threading.get_ident())
        seen.extend(seqs(batch))

    def broken(batch: list[StoredEvent]) -> None:
        raise RuntimeError("a buggy subscriber")

    store.add_listener(broken)
    store.add_listener(on_commit)

    for _ in range(3):
        await asyncio.gather(*(store.append([make_event(), make_event()]) for _ in range(7)))

    assert seen == list(range(1, 43))
    assert threads == {threading.get_ident()}


async def test_a_removed_listener_hears_nothing_more(harness, make_event):
    store = await harness.new_store()
    seen: list[int] = []
    store.add_listener(lambda b: seen.extend(seqs(b)))
    extra: list[int] = []

    def listener(batch: list[StoredEvent]) -> None:
        extra.extend(seqs(batch))

    store.add_listener(listener)
    await store.append([make_event()])
    store.remove_listener(listener)
    store.remove_listener(listener)  # unknown: ignored
    await store.append([make_event()])

    assert (seen, extra) == ([1, 2], [1])


async def test_a_listener_sees_a_batch_before_reads_can_skip_it(harness, make_event):
    """Backlog-then-live is gapless: whatever a read misses, a listener still delivers."""
    store = await harness.new_store()
    await store.append([make_event()])
    live: list[int] = []
    store.add_listener(lambda b: live.extend(seqs(b)))

    pending = store.append([make_event()])
    backlog = await store.read(after=0)
    await pending

    assert sorted(set(seqs(backlog)) | set(live)) == [1, 2]


# ---------------------------------------------------------------------------- reads


@pytest.fixture
def dataset(make_event):
    """Twelve events over two users, three orders, two symbols, a few types."""
    users = ["alice", "bob"]
    symbols = ["AAPL", "MSFT"]
    types = ["ORDER_CREATED", "RISK_CHECK_PASSED", "EXECUTION_COMPLETED"]
    return [
        make_event(
            user_id=users[i % 2],
            order_id=f"order-{i // 4}",
            correlation_id=f"corr-{i // 4}",
            symbol=symbols[(i // 2) % 2],
            event_type=types[i % 3],
            timestamp_us=1_000 * (i + 1),
        )
        for i in range(12)
    ]


async def filled(harness, dataset):
    store = await harness.new_store()
    for i in range(0, len(dataset), 4):
        await store.append(dataset[i : i + 4])
    return store, await store.read()


async def test_read_pages_ascending_after_a_sequence(harness, dataset):
    store, _ = await filled(harness, dataset)

    assert seqs(await store.read(after=3, limit=4)) == [4, 5, 6, 7]
    assert seqs(await store.read(after=10)) == [11, 12]
    assert await store.read(after=12) == []
    assert await store.read(limit=0) == []


@pytest.mark.parametrize(
    ("flt", "predicate"),
    [
        (
            EventQuery(event_types=frozenset({"ORDER_CREATED"})),
            lambda e: e.event_type == "ORDER_CREATED",
        ),
        (
            EventQuery(event_types=frozenset({"ORDER_CREATED", "EXECUTION_COMPLETED"})),
            lambda e: e.event_type != "RISK_CHECK_PASSED",
        ),
        (EventQuery(user_id="bob"), lambda e: e.user_id == "bob"),
        (EventQuery(order_id="order-1"), lambda e: e.order_id == "order-1"),
        (EventQuery(symbol="MSFT"), lambda e: e.symbol == "MSFT"),
        (EventQuery(correlation_id="corr-2"), lambda e: e.correlation_id == "corr-2"),
        (EventQuery(start_us=3_000, end_us=7_000), lambda e: 3_000 <= e.timestamp_us < 7_000),
        (EventQuery(start_us=11_000), lambda e: e.timestamp_us >= 11_000),
        (EventQuery(end_us=2_000), lambda e: e.timestamp_us < 2_000),
        (
            EventQuery(user_id="alice", symbol="AAPL", event_types=frozenset({"ORDER_CREATED"})),
            lambda e: (e.user_id, e.symbol, e.event_type) == ("alice", "AAPL", "ORDER_CREATED"),
        ),
        (EventQuery(user_id="nobody"), lambda e: False),
    ],
    ids=[
        "type",
        "types",
        "user",
        "order",
        "symbol",
        "corr",
        "range",
        "start",
        "end",
        "all",
        "none",
    ],
)
async def test_query_filters_newest_first_by_default(harness, dataset, flt, predicate):
    store, events = await filled(harness, dataset)

    found = await store.query(filter=flt, limit=100)

    assert found == [e for e in reversed(events) if predicate(e)]


async def test_query_pages_ascending_and_descending_with_a_limit(harness, dataset):
    store, events = await filled(harness, dataset)
    alice = [e for e in events if e.user_id == "alice"]

    up: list[StoredEvent] = []
    after = 0
    while page := await store.query(
        filter=EventQuery(user_id="alice", after_sequence=after), limit=4
    ):
        assert len(page) <= 4
        up += page
        after = page[-1].sequence

    down = await store.query(filter=EventQuery(user_id="alice"), limit=4)
    while True:
        before = down[-1].sequence
        page = await store.query(
            filter=EventQuery(user_id="alice", before_sequence=before), limit=4
        )
        if not page:
            break
        down += page

    assert up == alice
    assert down == list(reversed(alice))


async def test_trails_by_correlation_and_by_order_are_ascending(harness, dataset):
    store, events = await filled(harness, dataset)

    corr = await by_correlation(store, "corr-1", page_size=2)
    order = await by_order(store, "order-2")

    assert corr == [e for e in events if e.correlation_id == "corr-1"]
    assert order == [e for e in events if e.order_id == "order-2"]
    assert await by_order(store, "order-404") == []


async def test_query_rejects_contradictory_paging_and_a_zero_limit(harness):
    store = await harness.new_store()

    with pytest.raises(ValueError, match="after_sequence and before_sequence are exclusive"):
        EventQuery(after_sequence=1, before_sequence=5)
    with pytest.raises(ValueError, match="limit must be >= 1"):
        await store.query(filter=EventQuery(), limit=0)
