"""StoreSink: the core's event sink over the event store, and durability awaited by sequence.

The core stages a command's events (sequences and hashes assigned at once, nothing readable yet);
the application awaits `durable(sequence)`, which returns once the store committed that far, or
raises the store's error when the commit failed. Run over both backends where the backend matters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from itirp.app.sink import StoreSink
from itirp.core.commands import SetKillSwitch, SubmitOrder
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.orders import Side
from itirp.store import MemoryEventStore, NewEvent, SqliteEventStore, StoredEvent, StoreError
from itirp.store.group_commit import GroupCommitStore
from itirp.v1 import events_pb2

from ..core.harness import RISK, START_US, actor, make_breaker, seed_instruments

JOURNAL = Journal(clock_us=lambda: START_US)


def new_events(n: int, reason: str = "r") -> list[NewEvent]:
    return [JOURNAL.new(events_pb2.KillSwitchActivated(reason=f"{reason}{i}"), correlation_id="c") for i in range(n)]


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GroupCommitStore]:
    backend: GroupCommitStore = (
        MemoryEventStore() if request.param == "memory" else SqliteEventStore(tmp_path / "events.db")
    )
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def memory_store() -> AsyncIterator[MemoryEventStore]:
    backend = MemoryEventStore()
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


# -- stage ----------------------------------------------------------------------------------------


async def test_stage_assigns_sequences_and_hashes_at_once_in_call_order(store: GroupCommitStore) -> None:
    sink = StoreSink(store)

    first = sink.stage(new_events(2, "a"))
    second = sink.stage(new_events(1, "b"))

    assert [e.sequence for e in first + second] == [1, 2, 3]
    assert second[0].prev_hash == first[-1].hash
    await sink.durable(3)
    assert await store.read() == first + second  # what was staged is what is stored


async def test_staging_nothing_stages_nothing(store: GroupCommitStore) -> None:
    sink = StoreSink(store)

    assert sink.stage([]) == []
    assert store.head_sequence == 0


# -- durable --------------------------------------------------------------------------------------


async def test_staged_events_are_readable_only_once_durable_returns(store: GroupCommitStore) -> None:
    # Arrange
    sink = StoreSink(store)
    staged = sink.stage(new_events(3))

    # Assert: sequences known at once, nothing committed yet (checked before any await: a SQLite
    # read runs on a thread, during which the group commit may well finish)
    assert [e.sequence for e in staged] == [1, 2, 3]
    assert store.head_sequence == 0
    assert len(await store.read()) <= store.head_sequence  # reads never pass the durable head

    # Act
    await sink.durable(3)

    # Assert
    assert store.head_sequence == 3
    assert await store.read() == staged


async def test_durable_waits_for_the_commit(memory_store: MemoryEventStore) -> None:
    # Arrange
    sink = StoreSink(memory_store)
    sink.stage(new_events(1))

    # Act: one loop iteration: the batch is handed to the store, not yet committed
    waiter = asyncio.create_task(sink.durable(1))
    await asyncio.sleep(0)

    # Assert
    assert not waiter.done()
    assert memory_store.head_sequence == 0
    await asyncio.wait_for(waiter, 5)
    assert memory_store.head_sequence == 1


async def test_durable_of_a_sequence_already_committed_returns_at_once(store: GroupCommitStore) -> None:
    sink = StoreSink(store)
    sink.stage(new_events(2))
    await sink.durable(2)

    # the same sequence again, an earlier one, and one committed before anyone awaited it
    await asyncio.wait_for(sink.durable(2), 1)
    await asyncio.wait_for(sink.durable(1), 1)
    sink.stage(new_events(1))
    await store.append(new_events(1))  # commits after the staged one: both durable now
    await asyncio.wait_for(sink.durable(3), 1)


async def test_durable_of_the_last_of_several_commands_covers_those_before(store: GroupCommitStore) -> None:
    sink = StoreSink(store)
    sink.stage(new_events(1))
    sink.stage(new_events(2))

    await sink.durable(3)

    assert store.head_sequence == 3


async def test_durable_raises_the_stores_error_after_a_failed_commit(store: GroupCommitStore) -> None:
    # Arrange
    sink = StoreSink(store)
    store.fail_next_commit(OSError(28, "No space left on device"))
    first = sink.stage(new_events(1))
    second = sink.stage(new_events(2))

    # Act / Assert: every command of the failed batch fails
    with pytest.raises(StoreError, match="No space left on device"):
        await sink.durable(first[-1].sequence)
    with pytest.raises(StoreError):
        await sink.durable(second[-1].sequence)

    # ... nothing of it is readable, and nothing staged after it is accepted: the refusal is raised
    assert store.head_sequence == 0
    assert await store.read() == []
    with pytest.raises(StoreError, match="appends refused"):
        sink.stage(new_events(1))


async def test_a_sequence_appended_directly_to_the_store_is_awaited_through_the_commit_listener(
    memory_store: MemoryEventStore,
) -> None:
    # Arrange: another writer (authentication) appends without the sink
    sink = StoreSink(memory_store)
    pending = memory_store.append(new_events(2))
    sequence = pending.events[-1].sequence

    # Act
    waiter = asyncio.create_task(sink.durable(sequence))
    await asyncio.sleep(0)

    # Assert: it waits for the commit, then returns
    assert not waiter.done()
    await asyncio.wait_for(waiter, 5)
    assert memory_store.head_sequence >= sequence
    assert await pending == await memory_store.read()


async def test_waiters_for_a_direct_append_are_released_in_sequence_order(memory_store: MemoryEventStore) -> None:
    sink = StoreSink(memory_store)
    released: list[int] = []

    async def wait(sequence: int) -> None:
        await sink.durable(sequence)
        released.append(sequence)

    memory_store.append(new_events(1))
    memory_store.append(new_events(1))
    waiters = [asyncio.create_task(wait(s)) for s in (2, 1)]
    await asyncio.wait_for(asyncio.gather(*waiters), 5)

    assert sorted(released) == [1, 2]
    assert memory_store.head_sequence == 2


async def test_fail_releases_every_waiter_with_the_error_and_later_waits_raise_it(
    memory_store: MemoryEventStore,
) -> None:
    # Arrange: a wait for a sequence not yet appended by anyone
    sink = StoreSink(memory_store)
    waiter = asyncio.create_task(sink.durable(5))
    await asyncio.sleep(0)
    error = StoreError("disk gone")

    # Act
    sink.fail(error)

    # Assert
    with pytest.raises(StoreError, match="disk gone"):
        await waiter
    with pytest.raises(StoreError, match="disk gone"):
        await sink.durable(6)


# -- the core over the sink (as the application wires it) --------------------------------------------


def sequencer(sink: StoreSink) -> Sequencer:
    return seed_instruments(Sequencer(Journal(clock_us=lambda: START_US), sink, breaker=make_breaker()))


def submit_command() -> SubmitOrder:
    return SubmitOrder(actor=actor(), symbol="AAPL", side=Side.BUY, quantity=100, price="150.00", strategy="t")


async def test_a_commands_events_are_applied_at_once_and_readable_once_durable(store: GroupCommitStore) -> None:
    # Arrange
    sink = StoreSink(store)
    core = sequencer(sink)

    # Act
    order, committed = core.orders.submit(submit_command(), START_US)

    # Assert: applied at once, readable after the commit
    assert len(committed.events) == 3
    assert core.queries.last_applied == committed.last_sequence == 3
    assert await store.read() == []
    await sink.durable(committed.last_sequence)
    stored: list[StoredEvent] = await store.read()
    assert stored == committed.events
    assert {e.order_id for e in stored} == {order.order_id}


async def test_a_failed_commit_fails_the_wait_for_the_commands_events(store: GroupCommitStore) -> None:
    # Arrange
    sink = StoreSink(store)
    core = sequencer(sink)
    store.fail_next_commit()

    # Act
    _, committed = core.orders.submit(submit_command(), START_US)

    # Assert
    with pytest.raises(StoreError):
        await sink.durable(committed.last_sequence)
    assert store.head_sequence == 0


async def test_a_command_on_a_failed_store_is_refused_with_the_stores_error(memory_store: MemoryEventStore) -> None:
    sink = StoreSink(memory_store)
    core = sequencer(sink)
    memory_store.fail_next_commit()
    _, committed = core.orders.submit(submit_command(), START_US)
    with pytest.raises(StoreError):
        await sink.durable(committed.last_sequence)

    with pytest.raises(StoreError):
        core.controls.set_kill_switch(SetKillSwitch(actor=RISK, enabled=True, reason="halt"), START_US)
