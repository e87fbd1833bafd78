"""The journal: the one place where events are minted and appended.

It stamps each payload with an id, the injected clock's time and the call's ids, encodes it, and
hands it to the event store. Appending is synchronous (the store assigns sequence and hash in call
order); the returned awaitable resolves when the events are durable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from google.protobuf.message import Message

from itirp.events import SCHEMA_VERSION, encode_payload, kind_of
from itirp.ids import new_uuid
from itirp.store import EventStore, NewEvent, StoredEvent

__all__ = ["Journal", "new_uuid"]


class Journal:
    def __init__(
        self,
        store: EventStore,
        *,
        clock_us: Callable[[], int],
        new_id: Callable[[], str] = new_uuid,
    ) -> None:
        self.store = store
        self._clock_us = clock_us
        self._new_id = new_id

    def new_id(self) -> str:
        return self._new_id()

    def new(
        self,
        payload: Message,
        *,
        correlation_id: str,
        causation_id: str = "",
        order_id: str = "",
        user_id: str = "",
        symbol: str = "",
        timestamp_us: int | None = None,
    ) -> NewEvent:
        return NewEvent(
            event_id=self._new_id(),
            event_type=kind_of(payload).name,
            correlation_id=correlation_id,
            causation_id=causation_id,
            order_id=order_id,
            user_id=user_id,
            symbol=symbol,
            timestamp_us=self._clock_us() if timestamp_us is None else timestamp_us,
            schema_version=SCHEMA_VERSION,
            payload=encode_payload(payload),
        )

    def append(self, events: Sequence[NewEvent]) -> Awaitable[list[StoredEvent]]:
        return self.store.append(events)

    async def record(self, payload: Message, **envelope: str) -> StoredEvent:
        """Append one event and wait until it is durable."""
        (stored,) = await self.store.append([self.new(payload, **envelope)])  # type: ignore[arg-type]
        return stored
