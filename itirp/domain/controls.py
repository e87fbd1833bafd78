"""The pre-trade controls beside the limits: scoped kill switches, trading states, restricted
lists, the duplicate-order check and the repeated-execution throttle - and `pre_trade`, the one
check an order passes through, with the limits of every level (`itirp.domain.risk_levels`).

Order of the checks, each a `ViolationDetail` naming its scope and control:

1. a kill switch on any of the order's levels or its instrument: KILL_SWITCH_ACTIVE, alone;
2. HALTED on any of them, or the account's repeated-execution throttle tripping: TRADING_HALTED,
   alone;
3. the firm's or the account's restricted list: RESTRICTED_INSTRUMENT;
4. the price collar (the instrument's band around the reference price): PRICE_BAND;
5. REDUCING on any of them, or a level's daily loss limit reached: an order that does not reduce
   that level's position is REDUCE_ONLY (DAILY_LOSS_LIMIT when the loss limit moves it there now);
6. the duplicate-order check: DUPLICATE_ORDER;
7. the limits of each level, firm first (`RiskLevels.check`).

Pure: no I/O, no clock (times are the events' timestamps, passed in).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Final

from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.risk_levels import RiskLevels
from itirp.domain.risk_violations import KILL_SWITCH, Violation, ViolationDetail

__all__ = [
    "NOT_RELEASABLE",
    "ControlNote",
    "Controls",
    "PreTradeOrder",
    "Restriction",
    "Settings",
    "TradingMode",
    "Verdict",
    "pre_trade",
]

#: Violations a risk manager's release cannot override: the kill switch and a halt stop everything.
NOT_RELEASABLE: Final = frozenset({Violation.KILL_SWITCH_ACTIVE, Violation.TRADING_HALTED})
#: How long the duplicate-order index and the execution counts keep an entry (the longest window
#: allowed for either).
RETENTION_US: Final = 60_000_000


class TradingMode(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Restriction(StrEnum):
    NONE = "NONE"
    NO_TRADING = "NO_TRADING"
    SELL_ONLY = "SELL_ONLY"


@dataclass(frozen=True, slots=True)
class ControlNote:
    """Who set a control, when and why."""

    reason: str
    set_by: str
    set_us: int
    control: str = ""
    """The automatic control that set it ("daily_loss_limit", "execution_throttle"); "" for a user."""


@dataclass(frozen=True, slots=True)
class PreTradeOrder:
    symbol: str
    side: str
    quantity: int
    price: Decimal
    """The price risk counts the order at (the limit, or a MARKET order's sweep price)."""
    levels: tuple[Scope, ...]
    """Firm, desk, account, trader."""
    at_us: int
    intended_duplicate: bool = False

    @property
    def account(self) -> Scope:
        return self.levels[2]


@dataclass(slots=True)
class Verdict:
    violations: list[ViolationDetail]
    reducing: list[tuple[Scope, str]] = field(default_factory=list)
    """Levels to move to REDUCING now, with the control that asks it ("daily_loss_limit")."""
    halting: list[tuple[Scope, str]] = field(default_factory=list)
    """Levels to move to HALTED now ("execution_throttle")."""


class Controls:
    """The controls in force, folded from events."""

    def __init__(self) -> None:
        self.kill_switches: dict[Scope, ControlNote] = {}
        self.states: dict[Scope, tuple[TradingMode, ControlNote]] = {}
        self.restrictions: dict[tuple[Scope, str], tuple[Restriction, ControlNote]] = {}
        self._recent: OrderedDict[tuple[str, str, str, int, Decimal], int] = OrderedDict()
        self._fills: dict[str, deque[int]] = {}

    def mode(self, scope: Scope) -> TradingMode:
        entry = self.states.get(scope)
        return entry[0] if entry is not None else TradingMode.ACTIVE

    def set_mode(self, scope: Scope, mode: TradingMode, note: ControlNote) -> None:
        if mode is TradingMode.ACTIVE:
            self.states.pop(scope, None)
            self._fills.pop(scope.id, None)  # a re-enabled account starts its count again
        else:
            self.states[scope] = (mode, note)

    def set_kill_switch(self, scope: Scope, on: bool, note: ControlNote) -> None:
        if on:
            self.kill_switches[scope] = note
        else:
            self.kill_switches.pop(scope, None)

    def restrict(self, scope: Scope, symbol: str, restriction: Restriction, note: ControlNote) -> None:
        if restriction is Restriction.NONE:
            self.restrictions.pop((scope, symbol), None)
        else:
            self.restrictions[(scope, symbol)] = (restriction, note)

    def restriction(self, scope: Scope, symbol: str) -> Restriction:
        entry = self.restrictions.get((scope, symbol))
        return entry[0] if entry is not None else Restriction.NONE

    def order_approved(self, account: str, symbol: str, side: str, quantity: int, price: Decimal, at_us: int) -> None:
        """Remember an approved order for the duplicate-order check (kept for a minute)."""
        recent = self._recent
        key = (account, symbol, side, quantity, price)
        recent.pop(key, None)
        recent[key] = at_us
        while recent:
            oldest_key, oldest = next(iter(recent.items()))
            if at_us - oldest <= RETENTION_US:
                break
            del recent[oldest_key]

    def execution(self, account: str, at_us: int) -> None:
        """Count a fill of `account` for the repeated-execution throttle (kept for a minute)."""
        fills = self._fills.setdefault(account, deque())
        fills.append(at_us)
        while fills and at_us - fills[0] > RETENTION_US:
            fills.popleft()

    def recent_executions(self, account: str, now_us: int, window_us: int) -> int:
        fills = self._fills.get(account)
        if not fills:
            return 0
        count = 0
        for at in reversed(fills):
            if now_us - at > window_us:
                break
            count += 1
        return count

    def duplicate_of(self, order: PreTradeOrder, window_us: int) -> int | None:
        """When an order with the same account, instrument, side, quantity and price was
        approved within `window_us` before this one: its time."""
        key = (order.account.id, order.symbol, order.side, order.quantity, order.price)
        at = self._recent.get(key)
        if at is None or order.at_us - at > window_us:
            return None
        return at


@dataclass(frozen=True, slots=True)
class Settings:
    """The controls' parameters (from the configuration, whose defaults switch the duplicate check
    on; a core built without settings runs none of the time-window controls)."""

    duplicate_window_us: int = 0
    """0: no duplicate-order check."""
    execution_throttle_fills: int = 0
    """More fills than this in `execution_throttle_window_us` halt the account; 0: off."""
    execution_throttle_window_us: int = 1_000_000


def pre_trade(
    risk: RiskLevels,
    controls: Controls,
    order: PreTradeOrder,
    *,
    band: ViolationDetail | None = None,
    settings: Settings = Settings(),
    overridden: frozenset[Violation] = frozenset(),
) -> Verdict:
    """Every control and limit the order fails, in the documented order; `overridden`: the
    violations a risk manager's release lets through (never the kill switch or a halt)."""
    instrument = Scope(Level.INSTRUMENT, order.symbol)
    scopes = (*order.levels, instrument)
    stop = _stopped(risk, controls, order, scopes, settings)
    if stop is not None:
        return stop
    found: list[ViolationDetail] = []
    verdict = Verdict(found)
    for scope in (FIRM, order.account):
        restriction = controls.restriction(scope, order.symbol)
        if restriction is Restriction.NO_TRADING or (restriction is Restriction.SELL_ONLY and order.side == "BUY"):
            found.append(_restricted(scope, order, restriction))
    if band is not None:
        found.append(_named(band, instrument, "price_collar"))
    _reduce_only(risk, controls, order, scopes, verdict)
    if settings.duplicate_window_us and not order.intended_duplicate:
        at = controls.duplicate_of(order, settings.duplicate_window_us)
        if at is not None:
            found.append(_duplicate(order, (order.at_us - at) / 1000, settings.duplicate_window_us / 1000))
    found += risk.check(
        symbol=order.symbol, side=order.side, quantity=order.quantity, price=order.price, levels=order.levels
    )
    if overridden:
        verdict.violations = [v for v in found if v.violation not in overridden or v.violation in NOT_RELEASABLE]
    return verdict


def _stopped(
    risk: RiskLevels, controls: Controls, order: PreTradeOrder, scopes: tuple[Scope, ...], settings: Settings
) -> Verdict | None:
    """A kill switch or a halt: the one violation reported."""
    kills, states = controls.kill_switches, controls.states
    if kills or risk.limits.kill_switch_enabled:
        for scope in scopes:
            if scope in kills or (scope == FIRM and risk.limits.kill_switch_enabled):
                return Verdict([_named(KILL_SWITCH, scope, "kill_switch")])
    if states:
        for scope in scopes:
            entry = states.get(scope)
            if entry is not None and entry[0] is TradingMode.HALTED:
                note = entry[1]
                why = f" ({note.reason})" if note.reason else ""
                return Verdict([_halted(scope, f"trading is HALTED{why}: nothing but cancels is accepted")])
    limit = settings.execution_throttle_fills
    if limit:
        account = order.account
        window = settings.execution_throttle_window_us
        count = controls.recent_executions(account.id, order.at_us, window)
        if count > limit:
            message = (
                f"{count} executions in {window / 1_000_000:g} s, above the repeated-execution throttle of"
                f" {limit}: trading is HALTED until a risk manager makes the account ACTIVE again"
            )
            return Verdict([_halted(account, message, "execution_throttle")], halting=[(account, "execution_throttle")])
    return None


def _reduce_only(
    risk: RiskLevels, controls: Controls, order: PreTradeOrder, scopes: tuple[Scope, ...], verdict: Verdict
) -> None:
    """REDUCING (set, or a daily loss limit reached now): only orders that reduce the position."""
    states, engines = controls.states, risk.engines
    for scope in scopes:
        entry = states.get(scope)
        mode = TradingMode.ACTIVE if entry is None else entry[0]
        instrument = scope.level is Level.INSTRUMENT  # REDUCING an instrument: the account's position
        engine = engines.get(order.account if instrument else scope)
        loss = not instrument and mode is TradingMode.ACTIVE and engine is not None and engine.loss_reached()
        if mode is not TradingMode.REDUCING and not loss:
            continue
        if loss:
            verdict.reducing.append((scope, "daily_loss_limit"))
        if engine is not None and engine.reduces(order.symbol, order.side, order.quantity):
            continue
        if loss:
            assert engine is not None
            limit = engine.limits.daily_loss_limit
            pnl = engine.daily_pnl()
            message = (
                f"the day's loss {-pnl:,f} reached daily_loss_limit {limit:,f}: trading is REDUCING, only"
                " orders that reduce the position are accepted"
            )
            detail = ViolationDetail(Violation.DAILY_LOSS_LIMIT, limit, -pnl, message)
            verdict.violations.append(_named(detail, scope, "daily_loss_limit"))
        else:
            message = (
                "trading is REDUCING: only an order that reduces the position (with its working orders) is accepted"
            )
            verdict.violations.append(
                _named(ViolationDetail(Violation.REDUCE_ONLY, None, None, message), scope, "trading_state")
            )


def _named(detail: ViolationDetail, scope: Scope, control: str) -> ViolationDetail:
    return replace(detail, scope=str(scope), limit_name=control, message=f"{scope}/{control}: {detail.message}")


def _halted(scope: Scope, message: str, control: str = "trading_state") -> ViolationDetail:
    return _named(ViolationDetail(Violation.TRADING_HALTED, None, None, message), scope, control)


def _restricted(scope: Scope, order: PreTradeOrder, restriction: Restriction) -> ViolationDetail:
    whose = "the firm's" if scope == FIRM else f"account {scope.id}'s"
    what = "no trading" if restriction is Restriction.NO_TRADING else "sells only"
    message = f"{order.symbol} is on {whose} restricted list ({what})"
    return _named(ViolationDetail(Violation.RESTRICTED_INSTRUMENT, None, None, message), scope, "restricted_list")


def _duplicate(order: PreTradeOrder, ago_ms: float, window_ms: float) -> ViolationDetail:
    message = (
        f"the same order (account {order.account.id}, {order.side} {order.quantity:,} {order.symbol} at"
        f" {order.price:f}) was approved {ago_ms:.0f} ms ago, within the {window_ms:g} ms duplicate window;"
        " send it with intended_duplicate if it is meant"
    )
    return _named(ViolationDetail(Violation.DUPLICATE_ORDER, None, None, message), order.account, "duplicate_window")
