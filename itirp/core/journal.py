"""The journal: the one place where events are minted. It stamps each payload with an id, the
injected clock's time and the command's ids, and encodes it; the event sink stores it."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from itirp.events import SCHEMA_VERSION, encode_payload, kind_of
from itirp.ids import new_uuid
from itirp.store.records import NewEvent

__all__ = ["Journal", "new_uuid"]


class Journal:
    def __init__(self, *, clock_us: Callable[[], int], new_id: Callable[[], str] = new_uuid) -> None:
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
        event_id: str = "",
    ) -> NewEvent:
        """`event_id`: one minted beforehand (`new_id`), so that later events can name it as their
        cause in the same append; else a new one."""
        return NewEvent(
            event_id=event_id or self._new_id(),
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
