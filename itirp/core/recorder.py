"""How a command's events reach the log and the state: mint, stage with the event sink (which
assigns sequence numbers at once), fold the stored events into the state, and hand back what was
staged. Durability is the caller's to await, by sequence (`Committed.last_sequence`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from google.protobuf.message import Message

from itirp.core.journal import Journal
from itirp.store.records import NewEvent, StoredEvent

__all__ = ["Committed", "Envelope", "EventSink", "Item", "Recorder"]

#: The ids an event carries beside its payload (`Journal.new`'s keyword arguments).
Envelope = dict[str, str]
#: One event to record: its payload and envelope.
Item = tuple[Message, Envelope]


class EventSink(Protocol):
    """Where a command's events go: `stage` gives them their sequence numbers (and hashes) at once,
    in call order, and makes them durable later; the application awaits that by sequence."""

    def stage(self, events: Sequence[NewEvent]) -> list[StoredEvent]: ...

    def refusal(self) -> Exception | None:
        """The error `stage` would raise now (a failed or read-only store), or None."""
        ...


class Committed:
    """The outcome of a command: its stored events, sequences assigned, not yet known durable.
    (A plain slotted class: one is made per command, and a frozen dataclass's init costs more.)"""

    __slots__ = ("events",)

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events

    @property
    def last_sequence(self) -> int:
        return self.events[-1].sequence if self.events else 0


class Recorder:
    def __init__(self, journal: Journal, sink: EventSink, apply: Callable[[StoredEvent, Message], None]) -> None:
        self.journal = journal
        self._sink = sink
        self._apply = apply

    def admit(self) -> None:
        """Raise now what the sink would raise at `stage`. A command whose work changes state before
        its events are staged (the internal venue's book: a match, an amendment) calls this first,
        so that a refused append finds nothing changed."""
        refusal = self._sink.refusal()
        if refusal is not None:
            raise refusal

    def emit(self, items: Sequence[Item], now_us: int) -> Committed:
        """Record `items` as one append and fold each stored event (with its payload) into the state."""
        new = self.journal
        stored = self._sink.stage([new.new(payload, timestamp_us=now_us, **envelope) for payload, envelope in items])
        apply = self._apply
        for event, (payload, _) in zip(stored, items, strict=True):
            apply(event, payload)
        return Committed(stored)
