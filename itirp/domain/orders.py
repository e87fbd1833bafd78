"""Orders: validation of a new order, and the lifecycle as one transition table.

    PENDING -> RISK_CHECK -> APPROVED -> WORKING -> PARTIALLY_FILLED -> EXECUTED   (internal venue: the book)
                      \\-> REJECTED   WORKING, PARTIALLY_FILLED -> CANCELLED | EXPIRED (a DAY order at the day's end)
    PENDING, RISK_CHECK, APPROVED -> CANCELLED;  APPROVED -> FAILED (circuit breaker open)
    REJECTED -> RISK_CHECK (a risk manager releases it: the controls that rejected it overridden)

    APPROVED -> EXECUTING -> WORKING -> PARTIALLY_FILLED -> EXECUTED          (an external venue)
                EXECUTING -> FAILED (rejected by the venue) | UNKNOWN (no answer: may be working there)
                EXECUTING, UNKNOWN, WORKING, PARTIALLY_FILLED -> PENDING_CANCEL -> CANCELLED | EXECUTED
                UNKNOWN -> WORKING | CANCELLED | FAILED, as the venue's status answers

An order's status is the fold of its events; `Order.transition` refuses any move not in the table.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import copy
import enum
import operator
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, cast

from itirp.domain.money import parse_price

if TYPE_CHECKING:  # the type only: the domain does not import the wire format at run time
    from itirp.v1.common_pb2 import RiskViolation

__all__ = [
    "SYMBOL_RULE",
    "TRANSITIONS",
    "Fill",
    "InvalidTransition",
    "NewOrder",
    "Order",
    "OrderMoment",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "OrderValidationError",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Trigger",
    "valid_symbol",
    "validate_new_order",
]


class OrderStatus(enum.Enum):
    PENDING = "PENDING"
    RISK_CHECK = "RISK_CHECK"
    APPROVED = "APPROVED"
    EXECUTING = "EXECUTING"
    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    WORKING = "WORKING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    EXPIRED = "EXPIRED"
    PENDING_CANCEL = "PENDING_CANCEL"
    """A cancel was sent to the external venue, not yet answered (the order may still fill)."""
    UNKNOWN = "UNKNOWN"
    """Sent to the external venue, whose answer never came: it may be working or filled there."""

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {OrderStatus.EXECUTED, OrderStatus.REJECTED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
)


# The values are the order book's own names (`itirp.domain.book`), so they pass straight through.
class OrderType(enum.Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    DAY = "DAY"


class SelfTradePrevention(enum.Enum):
    """What happens when an order would trade with a resting order of the same user; the
    incoming order's choice applies. Default CANCEL_RESTING (see `itirp.domain.book`)."""

    CANCEL_RESTING = "CANCEL_RESTING"
    CANCEL_INCOMING = "CANCEL_INCOMING"
    CANCEL_BOTH = "CANCEL_BOTH"


class Side(enum.Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class Trigger(enum.Enum):
    """What happened to the order; each is one event type."""

    RISK_CHECK_STARTED = "RISK_CHECK_STARTED"
    RISK_CHECK_PASSED = "RISK_CHECK_PASSED"
    RISK_CHECK_FAILED = "RISK_CHECK_FAILED"
    EXECUTION_STARTED = "EXECUTION_STARTED"
    EXECUTION_RETRIED = "EXECUTION_RETRIED"
    EXECUTION_COMPLETED = "EXECUTION_COMPLETED"
    EXECUTION_FAILED = "EXECUTION_FAILED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ORDER_ACCEPTED = "ORDER_ACCEPTED"
    PARTIAL_FILL = "PARTIAL_FILL"  # ORDER_FILLED leaving something open
    FINAL_FILL = "FINAL_FILL"  # ORDER_FILLED leaving nothing open
    ORDER_AMENDED = "ORDER_AMENDED"
    ORDER_EXPIRED = "ORDER_EXPIRED"
    ORDER_CANCEL_REQUESTED = "ORDER_CANCEL_REQUESTED"
    ORDER_STATUS_UNKNOWN = "ORDER_STATUS_UNKNOWN"
    ORDER_RELEASED = "ORDER_RELEASED"  # a risk manager overrides the controls that rejected it


S, T = OrderStatus, Trigger

#: The whole lifecycle: (status, trigger) -> next status. Anything else is refused.
TRANSITIONS: dict[tuple[OrderStatus, Trigger], OrderStatus] = {
    (S.PENDING, T.RISK_CHECK_STARTED): S.RISK_CHECK,
    (S.RISK_CHECK, T.RISK_CHECK_PASSED): S.APPROVED,
    (S.RISK_CHECK, T.RISK_CHECK_FAILED): S.REJECTED,
    # the one way out of REJECTED: a risk manager's release checks the order again (RTS 6 Art. 15(6))
    (S.REJECTED, T.ORDER_RELEASED): S.RISK_CHECK,
    (S.APPROVED, T.EXECUTION_STARTED): S.EXECUTING,
    (S.APPROVED, T.EXECUTION_FAILED): S.FAILED,  # failed fast: circuit breaker open
    (S.EXECUTING, T.EXECUTION_RETRIED): S.EXECUTING,
    (S.EXECUTING, T.EXECUTION_STARTED): S.EXECUTING,  # the next attempt
    (S.EXECUTING, T.EXECUTION_COMPLETED): S.EXECUTED,
    (S.EXECUTING, T.EXECUTION_FAILED): S.FAILED,
    (S.PENDING, T.ORDER_CANCELLED): S.CANCELLED,
    (S.RISK_CHECK, T.ORDER_CANCELLED): S.CANCELLED,
    (S.APPROVED, T.ORDER_CANCELLED): S.CANCELLED,
    # the internal venue
    (S.APPROVED, T.ORDER_ACCEPTED): S.WORKING,
    (S.WORKING, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.WORKING, T.FINAL_FILL): S.EXECUTED,
    (S.PARTIALLY_FILLED, T.FINAL_FILL): S.EXECUTED,
    (S.WORKING, T.ORDER_AMENDED): S.WORKING,
    (S.PARTIALLY_FILLED, T.ORDER_AMENDED): S.PARTIALLY_FILLED,
    (S.WORKING, T.ORDER_CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, T.ORDER_CANCELLED): S.CANCELLED,
    (S.WORKING, T.ORDER_EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, T.ORDER_EXPIRED): S.EXPIRED,
    # an external venue: the same accepted / filled / cancelled, and the states of doubt
    (S.EXECUTING, T.ORDER_ACCEPTED): S.WORKING,
    (S.EXECUTING, T.ORDER_STATUS_UNKNOWN): S.UNKNOWN,
    (S.UNKNOWN, T.ORDER_ACCEPTED): S.WORKING,
    (S.UNKNOWN, T.ORDER_CANCELLED): S.CANCELLED,
    (S.UNKNOWN, T.EXECUTION_FAILED): S.FAILED,  # rejected, or the venue never received it
    (S.EXECUTING, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.UNKNOWN, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.WORKING, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.ORDER_ACCEPTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.EXECUTION_RETRIED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FINAL_FILL): S.EXECUTED,
    (S.PENDING_CANCEL, T.ORDER_CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, T.EXECUTION_FAILED): S.FAILED,
}


class InvalidTransition(Exception):
    def __init__(self, order_id: str, status: OrderStatus, trigger: Trigger) -> None:
        super().__init__(f"order {order_id} is {status.value}: {trigger.value} is not allowed")
        self.status = status
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of an order: a match in the internal venue (`trade_id` shared by both orders) or
    an execution at the simulated venue (its execution id)."""

    trade_id: str
    quantity: int
    price: Decimal
    aggressor: bool
    """True when the order took liquidity (it was the incoming order)."""
    timestamp_us: int
    sequence: int


@dataclass(slots=True, kw_only=True)
class Order:
    order_id: str
    client_order_id: str
    user_id: str
    username: str
    symbol: str
    side: Side
    quantity: int
    """The order's total size (an amendment may change it)."""
    price: Decimal | None
    """The limit price; None for a MARKET order."""
    strategy: str
    correlation_id: str
    created_us: int
    created_sequence: int = 0
    status: OrderStatus = OrderStatus.PENDING
    updated_us: int = 0
    last_sequence: int = 0
    message: str = ""
    violations: tuple[RiskViolation, ...] = ()
    """The RISK_CHECK_FAILED event's violations, as recorded (wire messages)."""
    filled_quantity: int = 0
    filled_notional: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    execution_attempts: int = 0
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING
    reserved_price: Decimal | None = None
    """The price its risk reservation is counted at (the limit, or a MARKET order's sweep price)."""
    venue: str = ""
    """The venue the order went to ("" until it is sent, or enters the internal book)."""
    venue_accepted: bool = False
    """Whether the venue has acknowledged it (ORDER_ACCEPTED): it is there, working or filled."""
    fills: list[Fill] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    account: str = ""
    """The account it is booked to (`itirp.domain.accounts`)."""
    desk: str = ""
    """The desk of that account."""
    session_id: str = ""
    """The order-entry session it came on ("" for a unary SubmitOrder)."""
    released: bool = False
    """A risk manager released it after pre-trade controls rejected it."""

    def can(self, trigger: Trigger) -> bool:
        return (self.status, trigger) in TRANSITIONS

    def transition(self, trigger: Trigger, *, at_us: int, sequence: int = 0) -> OrderStatus:
        try:
            self.status = TRANSITIONS[(self.status, trigger)]
        except KeyError:
            raise InvalidTransition(self.order_id, self.status, trigger) from None
        self.updated_us = at_us
        if sequence:
            self.last_sequence = sequence
        return self.status

    def moment(self) -> OrderMoment:
        """What an event can change of the order, as it is now (cheap: one tuple)."""
        return (*_moment_fields(self), len(self.fills))

    def at(self, moment: OrderMoment) -> Order:
        """A copy of the order as it was at `moment` (taken with `moment()` then)."""
        then = copy.copy(self)
        for name, value in zip(_MOMENT_FIELDS, moment, strict=False):
            setattr(then, name, value)
        then.fills = self.fills[: cast(int, moment[-1])]
        return then

    @property
    def remaining_quantity(self) -> int:
        """What is still open: 0 once the order is terminal (executed, cancelled, expired, ...)."""
        return 0 if self.status.terminal else self.quantity - self.filled_quantity

    def has_fill(self, trade_id: str) -> bool:
        return any(f.trade_id == trade_id for f in self.fills)

    def add_fill(self, fill: Fill) -> None:
        """Count a fill: filled quantity, the exact volume-weighted average price, the fill list."""
        self.filled_quantity += fill.quantity
        self.filled_notional += fill.quantity * fill.price
        self.average_fill_price = self.filled_notional / self.filled_quantity
        self.fills.append(fill)


#: The fields an event may change (the rest are fixed at creation), then the number of fills.
_MOMENT_FIELDS = (
    "status",
    "released",
    "updated_us",
    "last_sequence",
    "message",
    "violations",
    "filled_quantity",
    "filled_notional",
    "average_fill_price",
    "execution_attempts",
    "quantity",
    "price",
    "reserved_price",
    "venue",
    "venue_accepted",
)
_moment_fields = operator.attrgetter(*_MOMENT_FIELDS)
OrderMoment = tuple[object, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """A validated order request."""

    symbol: str
    side: Side
    quantity: int
    price: Decimal | None
    """None for a MARKET order."""
    strategy: str
    client_order_id: str
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING


class OrderValidationError(ValueError):
    """Every bad field of a new order, as (field, problem) pairs, in the order they were checked."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field_name, problem = problems[0]
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem
        self.problems = problems


_SYMBOL = re.compile(r"[A-Z0-9.]{1,12}")
SYMBOL_RULE = '1-12 characters: upper-case letters, digits and dots, e.g. "AAPL"'


def valid_symbol(symbol: str) -> bool:
    """Whether `symbol` is a symbol the desk trades: `SYMBOL_RULE`."""
    return _SYMBOL.fullmatch(symbol) is not None


def _printable(text: str) -> bool:
    return text.isprintable()


class OrderRequest(Protocol):
    """A new order as sent, before validation (the core's `SubmitOrder` command is one)."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> int: ...
    @property
    def price(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def client_order_id(self) -> str: ...
    @property
    def order_type(self) -> OrderType: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def stp(self) -> SelfTradePrevention: ...


def validate_new_order(request: OrderRequest, *, max_quantity: int) -> NewOrder:
    """A `NewOrder`, or `OrderValidationError` naming every bad field (the first in its message).

    A MARKET order takes no price (a price means a limit: sending one is ambiguous, so refused).
    """
    problems: list[tuple[str, str]] = []
    symbol, quantity, price = request.symbol, request.quantity, request.price
    if not valid_symbol(symbol):
        problems.append(("symbol", SYMBOL_RULE))
    if not isinstance(request.side, Side):
        problems.append(("side", "must be BUY or SELL"))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        problems.append(("quantity", "must be a positive whole number"))
    elif quantity >= max_quantity:
        problems.append(("quantity", f"must be below {max_quantity:,}"))
    parsed_price: Decimal | None = None
    if request.order_type is OrderType.MARKET:
        if price:
            problems.append(("price", "a MARKET order takes no price (send a LIMIT order to cap it)"))
    else:
        try:
            parsed_price = parse_price(price)
        except ValueError as exc:
            problems.append(("price", str(exc)))
    strategy, client_order_id = request.strategy, request.client_order_id
    if len(strategy) > 64 or not _printable(strategy):
        problems.append(("strategy", "at most 64 printable characters"))
    if len(client_order_id) > 64 or not _printable(client_order_id) or client_order_id != client_order_id.strip():
        problems.append(("client_order_id", "at most 64 printable characters, no surrounding spaces"))
    if problems:
        raise OrderValidationError(problems)
    return NewOrder(
        symbol=symbol,
        side=request.side,
        quantity=quantity,
        price=parsed_price,
        strategy=strategy,
        client_order_id=client_order_id,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        stp=request.stp,
    )
