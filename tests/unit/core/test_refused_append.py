"""A command whose append the sink refuses (the event store failed, or is read-only) changes
nothing: not the state, and not the internal venue's book, which a submit and an amend move before
their events are staged. Before the fix the book kept a refused order (the next crossing order
then met an order the state did not know: KeyError) and a refused amendment."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from itirp.domain.orders import Side
from itirp.store import NewEvent, StoredEvent, StoreError

from .harness import Harness, MemorySink, actor, open_harness

BUY, SELL = Side.BUY, Side.SELL


class RefusingSink(MemorySink):
    """The in-memory sink, made to refuse as a failed store does once `refuse` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: StoreError | None = None

    def refusal(self) -> Exception | None:
        return self.refuse

    def stage(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        if self.refuse is not None:
            raise self.refuse
        return super().stage(events)


@pytest.fixture
def h() -> Harness:
    harness = open_harness("internal")
    sink = RefusingSink()
    harness.core.orders._recorder._sink = sink  # type: ignore[attr-defined]
    harness.sink = sink
    return harness


def refuse(h: Harness) -> None:
    assert isinstance(h.sink, RefusingSink)
    h.sink.refuse = StoreError("event store failed, appends refused: disk full")


def test_a_refused_submit_leaves_the_book_and_the_state_as_they_were(h: Harness) -> None:
    # Arrange
    resting, _ = h.submit(side=SELL, quantity=100, price="150.00", user_id="u-1")
    before = h.core.matching.books["AAPL"].snapshot()
    orders = dict(h.core.state.orders)
    refuse(h)

    # Act: an order that would rest, then one that would trade with the resting one
    for side, price in ((SELL, "149.00"), (BUY, "150.00")):
        with pytest.raises(StoreError):
            h.submit(side=side, quantity=10, price=price, user_id="u-2")

    # Assert
    assert h.core.matching.books["AAPL"].snapshot() == before
    assert h.core.state.orders == orders
    assert h.core.matching.take(resting.order_id) is None  # no book result left waiting for a fold


def test_a_refused_amend_leaves_the_book_and_the_order_as_they_were(h: Harness) -> None:
    resting, _ = h.submit(side=SELL, quantity=100, price="150.00", user_id="u-1")
    before = h.core.matching.books["AAPL"].snapshot()
    refuse(h)

    owner = actor("u-1", "u-1", correlation_id="amend")
    for change in ({"quantity": 300}, {"price": "151.00"}, {"quantity": 50, "price": "149.50"}):
        with pytest.raises(StoreError):
            h.amend(resting.order_id, by=owner, **change)  # type: ignore[arg-type]

    assert h.core.matching.books["AAPL"].snapshot() == before
    order = h.core.state.orders[resting.order_id]
    assert (order.quantity, str(order.price)) == (100, "150.00")
    assert h.core.matching.take(resting.order_id) is None
