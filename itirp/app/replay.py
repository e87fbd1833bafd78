"""Rebuild state on start by folding every stored event, in order, through the appliers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from itirp.store import EventStore, StoredEvent

__all__ = ["replay"]

Applier = Callable[[StoredEvent], None]


async def replay(store: EventStore, appliers: Sequence[Applier], *, page_size: int = 5000) -> int:
    """Fold events 1..head through each applier; returns the number of events folded."""
    after = 0
    count = 0
    head = store.head_sequence
    while after < head:
        page = await store.read(after=after, limit=page_size)
        if not page:
            break
        for event in page:
            for apply in appliers:
                apply(event)
        count += len(page)
        after = page[-1].sequence
    return count
