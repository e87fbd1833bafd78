"""The internal venue's glue: the order books by symbol, the one book call that a command and a
replay both make, and the events that record what a book operation did.

A book operation runs once, where the command runs it; its result waits here (`hold`) for the
fold of the event that records it (ORDER_ACCEPTED, ORDER_AMENDED), which takes it (`take`). A
replay, which has no command, runs the same operation when it folds that event: the book is
deterministic, so the replay rebuilds the same books. Book changes are reported to
`on_book_change` with the sequence of the event behind them (market data shows them once that
event is durable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from itirp.core.recorder import Envelope, Item
from itirp.domain import book as bk
from itirp.domain.book import LevelChange, OrderBook
from itirp.domain.money import format_money
from itirp.domain.orders import NewOrder, Order
from itirp.v1 import events_pb2

if TYPE_CHECKING:
    from itirp.store.records import StoredEvent

__all__ = ["INTERNAL_VENUE", "BookChangeHook", "Matching", "order_envelope"]

INTERNAL_VENUE = "internal"

#: Called with (event sequence, event timestamp_us, symbol, level changes) for every event that
#: changed a book, live and during replay.
BookChangeHook = Callable[[int, int, str, list[LevelChange]], None]

#: Why the book cancelled the rest of an incoming order, for the trader.
_REMAINDER_REASON = {
    bk.REASON_IOC: "IOC: the part that could not fill at once was cancelled",
    bk.REASON_MARKET: "MARKET: no more liquidity in the book; the unfilled part was cancelled",
    bk.REASON_FOK: "FOK: could not fill completely at once; nothing traded",
    bk.REASON_SELF_TRADE: "self-trade prevention: it would have traded with your own resting order",
}


def order_envelope(order: Order, correlation_id: str, causation_id: str) -> Envelope:
    return {
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "order_id": order.order_id,
        "user_id": order.user_id,
        "symbol": order.symbol,
    }


class Matching:
    def __init__(self) -> None:
        #: The internal venue's books, by symbol (rebuilt by replay whatever the venue now is).
        self.books: dict[str, OrderBook] = {}
        self.on_book_change: BookChangeHook | None = None
        # A book operation's result between the command that ran it and the fold of its event.
        self._held: dict[str, bk.SubmitResult] = {}

    def book(self, symbol: str) -> OrderBook:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = OrderBook(symbol)
        return book

    def submit(self, order_id: str, user_id: str, order: NewOrder | Order) -> bk.SubmitResult:
        """The book operation of ORDER_ACCEPTED: the one call the command (with the new order, not
        yet in the state) and the replay (with the order) both make."""
        return self.book(order.symbol).submit(
            order_id,
            user_id,
            order.side.value,
            order.quantity,
            order.price,
            order_type=order.order_type.value,
            time_in_force=order.time_in_force.value,
            stp=order.stp.value,
        )

    def hold(self, order_id: str, result: bk.SubmitResult) -> None:
        self._held[order_id] = result

    def take(self, order_id: str) -> bk.SubmitResult | None:
        return self._held.pop(order_id, None)

    def changed(self, event: StoredEvent, symbol: str, result: bk.SubmitResult) -> None:
        if self.on_book_change is not None:
            changes = result.level_changes
            if changes:
                self.on_book_change(event.sequence, event.timestamp_us, symbol, changes)

    def leave(self, order: Order, event: StoredEvent) -> None:
        """A cancel or expiry of a resting order takes it out of its book (the book's own
        cancellations - self-trade prevention, an IOC's rest - already did: nothing to do)."""
        book = self.books.get(order.symbol)
        if book is None:
            return
        cancelled = book.cancel(order.order_id)
        if cancelled is not None and self.on_book_change is not None:
            self.on_book_change(event.sequence, event.timestamp_us, order.symbol, [cancelled.level_change])

    @staticmethod
    def events_of(
        result: bk.SubmitResult,
        open_quantity: int,
        envelope: Envelope,
        orders: Mapping[str, Order],
        new_id: Callable[[], str],
    ) -> list[Item]:
        """The events of what a book operation did: a fill for each order of each match, the
        self-trade cancellations, and the cancellation of the incoming order's rest."""
        items: list[Item] = []
        correlation_id, taker_id = envelope["correlation_id"], envelope["order_id"]
        left = open_quantity
        for fill in result.fills:
            trade_id = new_id()
            price = format_money(fill.price)
            left -= fill.quantity
            taker_fill = events_pb2.OrderFilled(
                trade_id=trade_id,
                quantity=fill.quantity,
                price=price,
                contra_order_id=fill.maker_order_id,
                aggressor=True,
                remaining_quantity=left,
                venue=INTERNAL_VENUE,
            )
            maker = orders[fill.maker_order_id]
            maker_fill = events_pb2.OrderFilled(
                trade_id=trade_id,
                quantity=fill.quantity,
                price=price,
                contra_order_id=taker_id,
                aggressor=False,
                remaining_quantity=maker.remaining_quantity - fill.quantity,
                venue=INTERNAL_VENUE,
            )
            items += [(taker_fill, envelope), (maker_fill, order_envelope(maker, correlation_id, taker_id))]
        for cancel in result.self_trade_cancels:
            resting = orders[cancel.order_id]
            reason = f"self-trade prevention: your order {taker_id} would have traded with it"
            items.append(
                (
                    events_pb2.OrderCancelled(reason=reason, quantity=cancel.quantity),
                    order_envelope(resting, correlation_id, taker_id),
                )
            )
        if result.status in (bk.CANCELLED, bk.KILLED):
            reason = _REMAINDER_REASON[result.reason]
            items.append((events_pb2.OrderCancelled(reason=reason, quantity=result.cancelled_quantity), envelope))
        return items
