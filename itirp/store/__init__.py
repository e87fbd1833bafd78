"""The event store: durable, gapless, hash-chained, group-committed.

Event sourcing is the platform's memory and compliance's evidence: an acknowledged event is
never lost, the event loop never waits on the disk, and any edit, deletion or reordering of
stored rows is detectable (`verify`). Backends: `MemoryEventStore` (tests), `SqliteEventStore`
(one file, WAL) and `PostgresEventStore` (a shared database, one leader under a lease:
`PostgresLease`); all follow `EventStore`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from itirp.store.base import CommitListener, EventQuery, EventStore, by_correlation, by_order
from itirp.store.errors import FencedError, LeaderInfo, NotLeaderError, StoreError, TamperedLogError
from itirp.store.records import (
    GENESIS_HASH,
    NewEvent,
    StoredEvent,
    VerifyResult,
    canonical_bytes,
    compute_hash,
    verify_chain,
)

if TYPE_CHECKING:
    from itirp.store.group_commit import PendingAppend
    from itirp.store.lease import PostgresLease
    from itirp.store.memory import MemoryEventStore
    from itirp.store.postgres import PostgresEventStore, iter_events_pg
    from itirp.store.sqlite import SqliteEventStore, iter_events_sync

# The backends (asyncio, sqlite3, threads) load on first use, so that importing the pure record
# types (`itirp.store.records`, as the core does) never loads them.
_BACKENDS = {
    "PendingAppend": "itirp.store.group_commit",
    "MemoryEventStore": "itirp.store.memory",
    "SqliteEventStore": "itirp.store.sqlite",
    "iter_events_sync": "itirp.store.sqlite",
    "PostgresEventStore": "itirp.store.postgres",
    "iter_events_pg": "itirp.store.postgres",
    "PostgresLease": "itirp.store.lease",
}


def __getattr__(name: str) -> Any:
    module = _BACKENDS.get(name)
    if module is None:
        raise AttributeError(f"module 'itirp.store' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "GENESIS_HASH",
    "CommitListener",
    "EventQuery",
    "EventStore",
    "FencedError",
    "LeaderInfo",
    "MemoryEventStore",
    "NewEvent",
    "NotLeaderError",
    "PendingAppend",
    "PostgresEventStore",
    "PostgresLease",
    "SqliteEventStore",
    "StoreError",
    "StoredEvent",
    "TamperedLogError",
    "VerifyResult",
    "by_correlation",
    "by_order",
    "canonical_bytes",
    "compute_hash",
    "iter_events_pg",
    "iter_events_sync",
    "verify_chain",
]
