"""The event store: durable, gapless, hash-chained, group-committed.

Event sourcing is the platform's memory and compliance's evidence: an acknowledged event is
never lost, the event loop never waits on the disk, and any edit, deletion or reordering of
stored rows is detectable (`verify`). Backends: `MemoryEventStore` (tests) and
`SqliteEventStore` (one file, WAL); both follow `EventStore`.
"""

from itirp.store.base import CommitListener, EventQuery, EventStore, by_correlation, by_order
from itirp.store.errors import StoreError, TamperedLogError
from itirp.store.group_commit import PendingAppend
from itirp.store.memory import MemoryEventStore
from itirp.store.records import (
    GENESIS_HASH,
    NewEvent,
    StoredEvent,
    VerifyResult,
    canonical_bytes,
    compute_hash,
    verify_chain,
)
from itirp.store.sqlite import SqliteEventStore, iter_events_sync

__all__ = [
    "GENESIS_HASH",
    "CommitListener",
    "EventQuery",
    "EventStore",
    "MemoryEventStore",
    "NewEvent",
    "PendingAppend",
    "SqliteEventStore",
    "StoreError",
    "StoredEvent",
    "TamperedLogError",
    "VerifyResult",
    "by_correlation",
    "by_order",
    "canonical_bytes",
    "compute_hash",
    "iter_events_sync",
    "verify_chain",
]
