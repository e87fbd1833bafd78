"""A trading core wired as the server wires it, over an in-memory event store and a test clock.

    store = MemoryEventStore(); await store.open()
    journal = Journal(store, clock_us=lambda: now[0])
    core = TradingCore(journal, store.append, breaker=CircuitBreaker(...))

(see `itirp/server/bootstrap.py`). Shared by the core and executor tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from itirp.core.journal import Journal
from itirp.core.trading import Committed, TradingCore
from itirp.domain.orders import NewOrder, Order, OrderType, SelfTradePrevention, Side, TimeInForce
from itirp.execution.breaker import CircuitBreaker
from itirp.store import MemoryEventStore, StoredEvent

SECOND = 1_000_000
DAY = 86_400 * SECOND
#: 2024-03-01 12:00:00 UTC
START_US = int(datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp()) * SECOND

BREAKER_THRESHOLD = 3
BREAKER_OPEN_SECONDS = 10.0


def make_breaker() -> CircuitBreaker:
    return CircuitBreaker(threshold=BREAKER_THRESHOLD, open_seconds=BREAKER_OPEN_SECONDS)


@dataclass
class Harness:
    store: MemoryEventStore
    core: TradingCore
    now: list[int] = field(default_factory=lambda: [START_US])
    venue: str = "simulated"

    @property
    def now_us(self) -> int:
        return self.now[0]

    def advance(self, micros: int) -> None:
        self.now[0] += micros

    def submit(
        self,
        *,
        symbol: str = "AAPL",
        side: Side = Side.BUY,
        quantity: int = 100,
        price: str = "150.00",
        client_order_id: str = "",
        user_id: str = "u-trader1",
        username: str = "trader1",
        strategy: str = "test",
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING,
    ) -> tuple[Order, Committed]:
        return self.core.submit(
            NewOrder(
                symbol=symbol,
                side=side,
                quantity=quantity,
                price=Decimal(price) if price else None,
                strategy=strategy,
                client_order_id=client_order_id,
                order_type=order_type,
                time_in_force=time_in_force,
                stp=stp,
            ),
            user_id=user_id,
            username=username,
            correlation_id=f"corr-{client_order_id or symbol}",
            causation_id="",
            now_us=self.now_us,
        )

    def fresh_core(self) -> TradingCore:
        """A new core over the same journal, as after a restart (state still empty)."""
        journal = Journal(self.store, clock_us=lambda: self.now[0])
        return TradingCore(journal, self.store.append, breaker=make_breaker(), venue=self.venue)

    async def replayed(self) -> TradingCore:
        """A fresh core with every stored event folded in."""
        fresh = self.fresh_core()
        for event in await self.store.read():
            fresh.apply(event)
        return fresh

    async def events(self) -> list[StoredEvent]:
        return await self.store.read()

    async def event_types(self) -> list[str]:
        return [e.event_type for e in await self.store.read()]


async def open_harness(venue: str = "simulated") -> Harness:
    store = MemoryEventStore()
    await store.open()
    now = [START_US]
    journal = Journal(store, clock_us=lambda: now[0])
    core = TradingCore(journal, store.append, breaker=make_breaker(), venue=venue)
    return Harness(store, core, now, venue)


def types_of(committed: Committed | None) -> list[str]:
    return [] if committed is None else [e.event_type for e in committed.events]
