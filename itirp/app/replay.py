"""Rebuild state on start by folding every stored event, in order, through the appliers.

A log that verifies folds without error; one that does not (edited and re-hashed) stops the start
as a tampered log does, naming the event. A read-only server (investigation) must open any log,
however it was damaged, so it replays tolerantly: an event an applier cannot fold (an edited type
or order id, a deleted row before it) is skipped and recorded as `Unfolded`, and the replay goes
on; what the state then shows is what could be folded. The server reports them at start and in
`VerifyAuditLog` (`with_unfolded`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itirp.store import EventStore, StoredEvent, TamperedLogError, VerifyResult

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
    """Fold events 1..head through each applier; returns the number of events read. An event an
    applier cannot fold raises `TamperedLogError` naming it; with `unfolded` (a read-only server)
    it is skipped for that applier and appended there instead."""
    after = 0
    count = 0
    head = store.head_sequence
    while after < head:
        page = await store.read(after=after, limit=page_size)
        if not page:
            break
        for event in page:
            for apply in appliers:
                try:
                    apply(event)
                except Exception as exc:  # a damaged event: reported (read-only), or it refuses the start
                    why = f"{type(exc).__name__}: {exc}"
                    if unfolded is None:
                        raise TamperedLogError(
                            event.sequence,
                            f"event {event.sequence} ({event.event_type}) cannot be folded into the state ({why}). "
                            "Refusing to start; start with --read-only to investigate",
                        ) from exc
                    unfolded.append(Unfolded(event.sequence, event.event_type, why))
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
