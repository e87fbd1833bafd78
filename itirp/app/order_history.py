"""Orders as an event left them, for the order streams: each update is the order as its own event
left it, not as it is now (a PENDING update of an order rejected a moment later carries no
violations; one of an order that has since filled shows what had filled by then).

Recent events: the core keeps each order event's moment (`TradingState.keep_moments`). An older
event (a stream resumed from far back): the order's own events are read from the log and folded
into a private `TradingState`, the same fold as a restart, once per order per stream and then
incrementally as the stream moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from itirp.core.queries import TradingQueries
from itirp.core.state import TradingState
from itirp.domain.orders import Order
from itirp.store import StoredEvent

__all__ = ["MOMENTS_KEPT", "OrderHistory"]

log = logging.getLogger("itirp.streams")

#: How many recent order events the core keeps the moment of.
MOMENTS_KEPT = 16_384

#: Reads an order's events with after < sequence <= upto, ascending.
ReadOrderEvents = Callable[[str, int, int], Awaitable[list[StoredEvent]]]

_MAX_FOLDS = 1_000  # orders folded from the log, per stream (the oldest are dropped)


class OrderHistory:
    def __init__(self, queries: TradingQueries, read: ReadOrderEvents) -> None:
        self._queries = queries
        self._read = read
        self._folds: dict[str, tuple[TradingState, int]] = {}

    async def at(self, event: StoredEvent) -> Order | None:
        """The order as `event` left it; None when it cannot be rebuilt (a log that does not fold)."""
        current = self._queries.order(event.order_id)
        if current is None:
            return None
        if event.sequence >= current.last_sequence:
            return current
        kept = self._queries.order_as_of(event.sequence, event.order_id)
        if kept is not None:
            return kept
        return await self._fold(event)

    async def _fold(self, event: StoredEvent) -> Order | None:
        order_id = event.order_id
        state, folded = self._folds.pop(order_id, (None, 0))
        if state is None or folded > event.sequence:
            state, folded = TradingState(), 0
        try:
            for earlier in await self._read(order_id, folded, event.sequence):
                state.apply(earlier)
        except Exception:  # a log this fold cannot follow: the caller shows the order as it is
            log.exception("order %s could not be rebuilt from the log", order_id, extra={"order_id": order_id})
            return None
        self._folds[order_id] = (state, event.sequence)
        if len(self._folds) > _MAX_FOLDS:
            del self._folds[next(iter(self._folds))]
        return state.orders.get(order_id)
