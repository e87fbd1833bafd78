"""Commands as values: what a caller asks the core to do, built once at the edge (the servicer)
and handed through unchanged. Each names its `Actor`: who asks, and the ids its events carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itirp.domain.accounts import FIRM, Scope
from itirp.domain.controls import Restriction, TradingMode
from itirp.domain.instruments import Instrument, InstrumentStatus, Mark
from itirp.domain.orders import OrderType, SelfTradePrevention, Side, TimeInForce
from itirp.domain.viewer import Viewer
from itirp.errors import InvalidArgument

__all__ = [
    "Actor",
    "AmendOrder",
    "CancelOrder",
    "RecordMark",
    "ReleaseOrder",
    "SetInstrumentStatus",
    "SetKillSwitch",
    "SetRestriction",
    "SetTradingState",
    "SubmitOrder",
    "UpdateRiskLimits",
    "UpsertInstrument",
    "required_reason",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who issues a command (`viewer`: their user id and role) and the ids its events carry."""

    viewer: Viewer
    username: str
    correlation_id: str
    causation_id: str = ""

    @property
    def user_id(self) -> str:
        return self.viewer.user_id

    def envelope(self, symbol: str = "") -> dict[str, str]:
        """The ids an event of this actor's command carries (an order's events carry more)."""
        ids = {"correlation_id": self.correlation_id, "causation_id": self.causation_id, "user_id": self.user_id}
        if symbol:
            ids["symbol"] = symbol
        return ids


def required_reason(reason: str) -> str:
    """A reason the audit log records, stripped; INVALID_ARGUMENT when there is none."""
    stripped = reason.strip()
    if not stripped:
        raise InvalidArgument("reason", "required: it is recorded in the audit log")
    return stripped


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOrder:
    """A new order as the trader sent it (validated by the core: `validate_new_order`)."""

    actor: Actor
    symbol: str
    side: Side
    quantity: int
    price: str
    """A decimal string; empty for a MARKET order."""
    strategy: str = ""
    client_order_id: str = ""
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING
    account: str = ""
    """The account to book to; "" for the trader's default."""
    intended_duplicate: bool = False
    """The order repeats one moments before on purpose (the duplicate-order check lets it pass)."""
    session_id: str = ""
    """The order-entry session it came on ("" for a unary SubmitOrder)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    actor: Actor
    order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrder:
    """A resting order's new total size (0 keeps it) and/or new limit price ("" keeps it)."""

    actor: Actor
    order_id: str
    quantity: int = 0
    price: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateRiskLimits:
    """New limit amounts as decimal strings, by limit name (`LIMIT_AMOUNTS`); empty ones are kept,
    those named in `clear` removed. At `scope` (the firm by default), for `symbol`'s overrides
    when given."""

    actor: Actor
    amounts: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    scope: Scope = FIRM
    symbol: str = ""
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetKillSwitch:
    actor: Actor
    enabled: bool
    reason: str
    scope: Scope = FIRM
    cancel_working: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTradingState:
    actor: Actor
    scope: Scope
    mode: TradingMode
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRestriction:
    actor: Actor
    scope: Scope
    symbol: str
    restriction: Restriction
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseOrder:
    actor: Actor
    order_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertInstrument:
    """List an instrument or change its definition. `status` None: ACTIVE when new, else kept."""

    actor: Actor
    instrument: Instrument
    status: InstrumentStatus | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetInstrumentStatus:
    actor: Actor
    symbol: str
    status: InstrumentStatus
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordMark:
    """A reference price from the market data feed (`mark.sequence` is ignored: the event sets it)."""

    mark: Mark
    correlation_id: str = ""
