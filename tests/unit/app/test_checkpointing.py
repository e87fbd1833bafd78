"""The last checkpoint at a clean stop covers every append staged before it, even one still being
committed (an e2e test saw a login in flight at the stop left unsigned, with the checkpoint's own
event after it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from itirp.app.checkpointing import Checkpointer, CheckpointFiles
from itirp.audit.keyfile import create_private_key, read_checkpoints
from itirp.core.journal import Journal
from itirp.store.memory import MemoryEventStore
from itirp.v1 import events_pb2


class SlowStore(MemoryEventStore):
    """A store whose commits, once `slow`, complete 50 ms after they start (a slow disk)."""

    slow = False

    def _start_commit(self, batch: list, inject: BaseException | None) -> None:  # type: ignore[type-arg]
        if not self.slow:
            super()._start_commit(batch, inject)
            return
        asyncio.get_running_loop().call_later(0.05, self._apply, batch, inject)


async def test_the_last_checkpoint_waits_for_an_append_still_in_flight(tmp_path: Path) -> None:
    # Arrange: a committed event, then one staged and not yet committed as the stop begins
    store = SlowStore()
    await store.open()
    journal = Journal(clock_us=lambda: 1_700_000_000_000_000)
    key = create_private_key(tmp_path / "checkpoint.key")
    files = CheckpointFiles(tmp_path / "checkpoints.jsonl", key)
    checkpointer = Checkpointer(store, journal, files, interval=3600, clock_us=lambda: 1_700_000_000_000_000)  # type: ignore[arg-type]
    await checkpointer.start()
    login = events_pb2.UserLoggedIn(username="trader1")
    await store.append([journal.new(login, correlation_id="c")])
    store.slow = True
    in_flight = asyncio.ensure_future(store.append([journal.new(login, correlation_id="c")]))
    await asyncio.sleep(0)  # staged: sequence 2 is assigned, its commit not done
    assert store.head_sequence == 1

    # Act
    await checkpointer.stop()

    # Assert: the last checkpoint signs sequence 2; its own event is 3, the head
    await in_flight
    (checkpoint,) = read_checkpoints(files.path)
    assert checkpoint.sequence == 2
    assert store.head_sequence == 3
    await store.close()
