"""A sequencer wired as the application wires it, over an in-memory event sink and a test clock.

    sink = MemorySink()
    core = Sequencer(Journal(clock_us=lambda: now[0]), sink, breaker=CircuitBreaker(...))

Plain synchronous code: the sink assigns sequences and chains hashes as the store does, and holds
every staged event (durability is the application's business, tested in tests/unit/app). Shared
by the core and executor tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from itirp.auth.roles import Role
from itirp.core.commands import (
    Actor,
    AmendOrder,
    CancelOrder,
    SetKillSwitch,
    SubmitOrder,
    UpdateRiskLimits,
    UpsertInstrument,
)
from itirp.core.journal import Journal
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.breaker import CircuitBreaker
from itirp.domain.instrument_lists import parse_instruments_csv
from itirp.domain.instruments import Instrument
from itirp.domain.orders import Order, OrderType, SelfTradePrevention, Side, TimeInForce
from itirp.domain.viewer import Viewer
from itirp.store.records import GENESIS_HASH, NewEvent, StoredEvent, seal

SECOND = 1_000_000
DAY = 86_400 * SECOND
#: 2024-03-01 12:00:00 UTC
START_US = int(datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp()) * SECOND

BREAKER_THRESHOLD = 3
BREAKER_OPEN_SECONDS = 10.0


def make_breaker() -> CircuitBreaker:
    return CircuitBreaker(threshold=BREAKER_THRESHOLD, open_seconds=BREAKER_OPEN_SECONDS)


class MemorySink:
    """The core's event sink in memory: sequences and the hash chain assigned at `stage`."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []

    def stage(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        last = self.events[-1] if self.events else None
        stored = seal(events, last_sequence=last.sequence if last else 0, last_hash=last.hash if last else GENESIS_HASH)
        self.events.extend(stored)
        return stored

    def refusal(self) -> Exception | None:
        return None


def actor(
    user_id: str = "u-trader1", username: str = "trader1", *, role: Role = Role.TRADER, correlation_id: str = "corr"
) -> Actor:
    return Actor(viewer=Viewer(user_id, role), username=username, correlation_id=correlation_id)


#: A risk manager (sees and may act on every order).
RISK = actor("u-risk1", "risk1", role=Role.RISK_MANAGER)


@dataclass
class Harness:
    sink: MemorySink
    core: Sequencer
    now: list[int] = field(default_factory=lambda: [START_US])
    venue: str = "simulated"
    seeded: tuple[Instrument, ...] = ()
    """Instruments put in the state without events (given to fresh cores too)."""

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
        command = SubmitOrder(
            actor=actor(user_id, username, correlation_id=f"corr-{client_order_id or symbol}"),
            symbol=symbol,
            side=side,
            quantity=quantity,
            price=price,
            strategy=strategy,
            client_order_id=client_order_id,
            order_type=order_type,
            time_in_force=time_in_force,
            stp=stp,
        )
        return self.core.orders.submit(command, self.now_us)

    def cancel(self, order_id: str, *, by: Actor | None = None, reason: str = "") -> tuple[Order, Committed | None]:
        return self.core.orders.cancel(CancelOrder(actor=by or RISK, order_id=order_id, reason=reason), self.now_us)

    def amend(
        self, order_id: str, *, quantity: int = 0, price: str = "", by: Actor | None = None
    ) -> tuple[Order, bool, Committed]:
        command = AmendOrder(actor=by or RISK, order_id=order_id, quantity=quantity, price=price)
        return self.core.orders.amend(command, self.now_us)

    def update_limits(self, reason: str = "test", by: Actor | None = None, **amounts: str) -> Committed:
        command = UpdateRiskLimits(actor=by or RISK, amounts=amounts, reason=reason)
        return self.core.controls.update_limits(command, self.now_us)[2]

    def set_kill_switch(self, enabled: bool, reason: str = "test", by: Actor | None = None) -> Committed | None:
        command = SetKillSwitch(actor=by or RISK, enabled=enabled, reason=reason)
        return self.core.controls.set_kill_switch(command, self.now_us)

    def fresh_core(self) -> Sequencer:
        """A new core over a new sink, as after a restart (state still empty)."""
        journal = Journal(clock_us=lambda: self.now[0])
        core = Sequencer(journal, MemorySink(), breaker=make_breaker(), venue=self.venue)
        return seed_instruments(core, self.seeded)

    def replayed(self) -> Sequencer:
        """A fresh core with every stored event folded in."""
        fresh = self.fresh_core()
        for event in self.sink.events:
            fresh.apply(event)
        return fresh

    def events(self) -> list[StoredEvent]:
        return list(self.sink.events)

    def event_types(self) -> list[str]:
        return [e.event_type for e in self.sink.events]


#: The test desk's instruments (tests/instruments.csv): every symbol the tests trade.
TEST_INSTRUMENTS = parse_instruments_csv((Path(__file__).resolve().parents[2] / "instruments.csv").read_text())


def list_instruments(core: Sequencer, instruments: Sequence[Instrument], now_us: int) -> Committed | None:
    """List instruments as the desk does (INSTRUMENT_UPSERTED events), in one step each."""
    committed = None
    for instrument in instruments:
        _, _, committed = core.reference.upsert(
            UpsertInstrument(actor=RISK, instrument=instrument, reason="the test desk"), now_us
        )
    return committed


def seed_instruments(core: Sequencer, instruments: Sequence[Instrument] = TEST_INSTRUMENTS) -> Sequencer:
    """Arrange: the test desk's instruments in the state, without events (so that a test's log
    holds only what it does; the fold of INSTRUMENT_UPSERTED is tested in test_reference.py)."""
    for instrument in instruments:
        core.state.instruments[instrument.symbol] = instrument
        if instrument.reference_price is not None:
            core.state.risk.set_mark(instrument.symbol, instrument.reference_price)
    return core


def open_harness(
    venue: str = "simulated", instruments: Sequence[Instrument] = TEST_INSTRUMENTS, *, listed: bool = False
) -> Harness:
    """A core that knows the test desk's instruments: seeded into its state (the default), or
    `listed` as events, the first of its log (fresh and replayed cores get the same)."""
    now = [START_US]
    sink = MemorySink()
    core = Sequencer(Journal(clock_us=lambda: now[0]), sink, breaker=make_breaker(), venue=venue)
    if listed:
        list_instruments(core, instruments, START_US)
        return Harness(sink, core, now, venue)
    return Harness(sink, seed_instruments(core, instruments), now, venue, seeded=tuple(instruments))


def types_of(committed: Committed | None) -> list[str]:
    return [] if committed is None else [e.event_type for e in committed.events]
