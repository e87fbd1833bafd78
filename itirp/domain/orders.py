"""Orders: validation of a new order, and the lifecycle as one transition table.

    PENDING -> RISK_CHECK -> APPROVED -> EXECUTING -> EXECUTED
                      \\-> REJECTED           \\-> FAILED
    PENDING, RISK_CHECK, APPROVED -> CANCELLED;  APPROVED -> FAILED (circuit breaker open)

An order's status is the fold of its events; `Order.transition` refuses any move not in the table.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from decimal import Decimal

from itirp.domain.money import parse_price

__all__ = [
    "TRANSITIONS",
    "InvalidTransition",
    "NewOrder",
    "Order",
    "OrderStatus",
    "Side",
    "Trigger",
    "OrderValidationError",
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

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.EXECUTED, OrderStatus.REJECTED, OrderStatus.FAILED, OrderStatus.CANCELLED})


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


S, T = OrderStatus, Trigger

#: The whole lifecycle: (status, trigger) -> next status. Anything else is refused.
TRANSITIONS: dict[tuple[OrderStatus, Trigger], OrderStatus] = {
    (S.PENDING, T.RISK_CHECK_STARTED): S.RISK_CHECK,
    (S.RISK_CHECK, T.RISK_CHECK_PASSED): S.APPROVED,
    (S.RISK_CHECK, T.RISK_CHECK_FAILED): S.REJECTED,
    (S.APPROVED, T.EXECUTION_STARTED): S.EXECUTING,
    (S.APPROVED, T.EXECUTION_FAILED): S.FAILED,  # failed fast: circuit breaker open
    (S.EXECUTING, T.EXECUTION_RETRIED): S.EXECUTING,
    (S.EXECUTING, T.EXECUTION_STARTED): S.EXECUTING,  # the next attempt
    (S.EXECUTING, T.EXECUTION_COMPLETED): S.EXECUTED,
    (S.EXECUTING, T.EXECUTION_FAILED): S.FAILED,
    (S.PENDING, T.ORDER_CANCELLED): S.CANCELLED,
    (S.RISK_CHECK, T.ORDER_CANCELLED): S.CANCELLED,
    (S.APPROVED, T.ORDER_CANCELLED): S.CANCELLED,
}


class InvalidTransition(Exception):
    def __init__(self, order_id: str, status: OrderStatus, trigger: Trigger) -> None:
        super().__init__(f"order {order_id} is {status.value}: {trigger.value} is not allowed")
        self.status = status
        self.trigger = trigger


@dataclass(slots=True, kw_only=True)
class Order:
    order_id: str
    client_order_id: str
    user_id: str
    username: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    strategy: str
    correlation_id: str
    created_us: int
    created_sequence: int = 0
    status: OrderStatus = OrderStatus.PENDING
    updated_us: int = 0
    last_sequence: int = 0
    message: str = ""
    violations: tuple = ()
    filled_quantity: int = 0
    average_fill_price: Decimal | None = None
    execution_attempts: int = 0
    extra: dict = field(default_factory=dict)

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

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """A validated order request."""

    symbol: str
    side: Side
    quantity: int
    price: Decimal
    strategy: str
    client_order_id: str


class OrderValidationError(ValueError):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


_SYMBOL = re.compile(r"[A-Z0-9.]{1,12}")


def _printable(text: str) -> bool:
    return text.isprintable()


def validate_new_order(
    *, symbol: str, side: str, quantity: int, price: str, strategy: str, client_order_id: str, max_quantity: int
) -> NewOrder:
    """A `NewOrder`, or `OrderValidationError` naming the first bad field."""
    if not _SYMBOL.fullmatch(symbol):
        raise OrderValidationError("symbol", "1-12 characters: upper-case letters, digits and dots, e.g. \"AAPL\"")
    try:
        parsed_side = Side(side)
    except ValueError:
        raise OrderValidationError("side", "must be BUY or SELL") from None
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise OrderValidationError("quantity", "must be a positive whole number")
    if quantity >= max_quantity:
        raise OrderValidationError("quantity", f"must be below {max_quantity:,}")
    try:
        parsed_price = parse_price(price)
    except ValueError as exc:
        raise OrderValidationError("price", str(exc)) from None
    if len(strategy) > 64 or not _printable(strategy):
        raise OrderValidationError("strategy", "at most 64 printable characters")
    if len(client_order_id) > 64 or not _printable(client_order_id) or client_order_id != client_order_id.strip():
        raise OrderValidationError("client_order_id", "at most 64 printable characters, no surrounding spaces")
    return NewOrder(
        symbol=symbol,
        side=parsed_side,
        quantity=quantity,
        price=parsed_price,
        strategy=strategy,
        client_order_id=client_order_id,
    )
