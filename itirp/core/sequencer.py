"""The sequencer: one writer, one command at a time, no await inside a command.

Each command validates against the current state, mints its events, stages them with the event
sink (sequence numbers assigned at once), folds those same stored events into the state, and
returns them; the application awaits their durability by sequence before it answers. The risk
check and the reservation it makes happen in one synchronous call, so two concurrent orders can
never both pass a limit only one of them fits. Pure: no I/O, no asyncio, no gRPC; the clock is
the caller's (`now_us`) and ids come from the journal.
"""

from __future__ import annotations

from itirp.core.accounts import AccountCommands
from itirp.core.controls import RiskCommands
from itirp.core.execution import ExecutionSteps
from itirp.core.journal import Journal
from itirp.core.matching import Matching
from itirp.core.orders import SIMULATED_VENUE, OrderCommands
from itirp.core.queries import TradingQueries
from itirp.core.recorder import EventSink, Recorder
from itirp.core.reference import ReferenceCommands
from itirp.core.sessions import SessionCommands
from itirp.core.state import TradingState
from itirp.domain.breaker import CircuitBreaker
from itirp.domain.controls import Settings
from itirp.store.records import StoredEvent

__all__ = ["Sequencer"]


class Sequencer:
    """The core, by job: `state` (the fold); `orders` (with the mass cancel: `orders.cancel_all`),
    `controls`, `accounts`, `reference` and `sessions` (the commands); `execution` (the steps at an
    external venue), `queries` (read-only answers), `matching` (the books)."""

    def __init__(
        self,
        journal: Journal,
        sink: EventSink,
        *,
        breaker: CircuitBreaker | None = None,
        venue: str = SIMULATED_VENUE,
        max_order_quantity: int = 1_000_000,
        settings: Settings = Settings(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> None:
        self.state = TradingState(breaker)
        recorder = Recorder(journal, sink, self.state.apply)
        self.queries = TradingQueries(self.state)
        self.orders = OrderCommands(
            self.state, recorder, self.queries, venue=venue, max_order_quantity=max_order_quantity, settings=settings
        )
        self.controls = RiskCommands(self.state, recorder)
        self.accounts = AccountCommands(self.state, recorder)
        self.reference = ReferenceCommands(self.state, recorder, self.queries)
        self.execution = ExecutionSteps(self.state, recorder)
        self.sessions = SessionCommands(self.state, recorder)

    @property
    def venue(self) -> str:
        return self.orders.venue

    @property
    def matching(self) -> Matching:
        return self.state.matching

    def apply(self, event: StoredEvent) -> None:
        """Fold one stored event (the replay on start)."""
        self.state.apply(event)
