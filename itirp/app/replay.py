"""Rebuild state on start by folding every stored event, in order, through the appliers.

A log that verifies folds without error. A read-only server (investigation) must open any log,
however it was damaged, so it replays tolerantly: an event an applier cannot fold (an edited type
or order id, a deleted row before it) is skipped and recorded as `Unfolded`, and the replay goes
on; what the state then shows is what could be folded. The server reports them at start and in
`VerifyAuditLog` (`with_unfolded`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itirp.store import EventStore, StoredEvent, VerifyResult

__all__ = ["Unfolded", "replay", "with_unfolded"]

Applier = Callable[[StoredEvent], None]


@dataclass(frozen=True, slots=True)
class Unfolded:
    """An event the state could not take: its sequence, its (stored) type and why."""

    sequence: int
    event_type: str
    error: str


async def replay(
    store: EventStore, appliers: Sequence[Applier], *, page_size: int = 5000, unfolded: list[Unfolded] | None = None
) -> int:
    """Fold events 1..head through each applier; returns the number of events read. With
    `unfolded` (a read-only server), an applier's error skips that event for that applier and is
    appended there instead of raised."""
    after = 0
    count = 0
    head = store.head_sequence
    while after < head:
        page = await store.read(after=after, limit=page_size)
        if not page:
            break
        for event in page:
            for apply in appliers:
                if unfolded is None:
                    apply(event)
                    continue
                try:
                    apply(event)
                except Exception as exc:  # noqa: BLE001 - investigation: a damaged event is reported, not fatal
                    unfolded.append(Unfolded(event.sequence, event.event_type, f"{type(exc).__name__}: {exc}"))
        count += len(page)
        after = page[-1].sequence
    return count


def with_unfolded(result: VerifyResult, unfolded: Sequence[Unfolded]) -> VerifyResult:
    """A chain verification that also fails at the first event the state could not fold (a log
    edited and re-hashed verifies, yet may not make sense)."""
    if not unfolded:
        return result
    first = unfolded[0]
    note = f"{len(unfolded)} event(s) could not be folded into the state, the first: event {first.sequence}"
    note += f" ({first.event_type}: {first.error})"
    if result.ok or first.sequence < result.first_bad_sequence:
        return dataclasses.replace(result, ok=False, first_bad_sequence=first.sequence, message=note)
    return dataclasses.replace(result, message=f"{result.message}; {note}")
