"""The risk-control commands: limits at every level, kill switches, trading states and restricted
lists, each an event with who and why."""

from __future__ import annotations

from decimal import Decimal

from itirp.core.commands import SetKillSwitch, SetRestriction, SetTradingState, UpdateRiskLimits, required_reason
from itirp.core.protos import RESTRICTION_PROTO, TRADING_MODE_PROTO, limits_proto, scope_proto
from itirp.core.recorder import Committed, Recorder
from itirp.core.state import TradingState, check_exists
from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.controls import Restriction, TradingMode
from itirp.domain.money import parse_amount
from itirp.domain.risk import INSTRUMENT_LIMITS, LIMIT_AMOUNTS, UNLIMITED, InstrumentLimits, RiskLimits
from itirp.errors import FieldViolation, InvalidArgument, NotFound, Reason
from itirp.v1 import events_pb2

__all__ = ["RiskCommands"]

#: The firm's exposure limits are always set: they cannot be cleared.
_FIRM_REQUIRED = LIMIT_AMOUNTS[:4]


class RiskCommands:
    def __init__(self, state: TradingState, recorder: Recorder) -> None:
        self._state = state
        self._recorder = recorder

    def update_limits(
        self, command: UpdateRiskLimits, now_us: int
    ) -> tuple[RiskLimits | InstrumentLimits, RiskLimits | InstrumentLimits, Committed]:
        """(limits before, limits after, events). Only the amounts given change; `clear` removes."""
        scope, symbol = command.scope, command.symbol
        if scope.level is Level.INSTRUMENT:
            raise InvalidArgument("scope", "limits are set on a firm, desk, account or trader (per instrument: symbol)")
        check_exists(self._state, scope)
        names = INSTRUMENT_LIMITS if symbol else LIMIT_AMOUNTS
        if symbol and symbol not in self._state.instruments:
            raise NotFound(
                f"no instrument {symbol!r} is listed", reason=Reason.INSTRUMENT_NOT_FOUND, metadata={"symbol": symbol}
            )
        unknown = (set(command.amounts) | set(command.clear)) - set(LIMIT_AMOUNTS)
        if unknown:
            raise ValueError(f"UpdateRiskLimits takes only the amounts {sorted(LIMIT_AMOUNTS)}, not {sorted(unknown)}")
        changes = self._changes(command, names, scope)
        reason = required_reason(command.reason)
        engine = self._state.risk.engine(scope) if scope != FIRM else self._state.risk.firm
        old: RiskLimits | InstrumentLimits = (
            engine.instrument_limits.get(symbol, InstrumentLimits()) if symbol else engine.limits
        )
        values = {name: changes.get(name, getattr(old, name)) for name in names}
        new: RiskLimits | InstrumentLimits = (
            InstrumentLimits(**values)
            if symbol
            else RiskLimits(**values, kill_switch_enabled=engine.limits.kill_switch_enabled)
        )
        previous_note = self._state.limits_notes.get((scope, symbol))
        actor = command.actor
        payload = events_pb2.RiskLimitsUpdated(
            old_limits=limits_proto(
                old,
                previous_note.set_us if previous_note else 0,
                previous_note.set_by if previous_note else "",
                scope=scope,
                symbol=symbol,
            ),
            new_limits=limits_proto(new, now_us, actor.username or actor.user_id, scope=scope, symbol=symbol),
            reason=reason,
        )
        return old, new, self._recorder.emit([(payload, actor.envelope(symbol))], now_us)

    @staticmethod
    def _changes(command: UpdateRiskLimits, names: tuple[str, ...], scope: Scope) -> dict[str, Decimal]:
        changes: dict[str, Decimal] = {}
        problems: list[FieldViolation] = []
        for name in LIMIT_AMOUNTS:
            text = command.amounts.get(name, "")
            if not text:
                continue
            if name not in names:
                problems.append(FieldViolation(name, "an instrument's overrides are only " + ", ".join(names)))
                continue
            try:
                value = parse_amount(text)
            except ValueError as exc:
                problems.append(FieldViolation(name, str(exc)))
                continue
            if name == "max_order_quantity" and value != value.to_integral_value():
                problems.append(FieldViolation(name, "must be a whole number"))
            changes[name] = value
        for name in command.clear:
            if scope == FIRM and not command.symbol and name in _FIRM_REQUIRED:
                problems.append(FieldViolation("clear", f"the firm's {name} is always set; change it instead"))
            elif name in changes:
                problems.append(FieldViolation("clear", f"{name} is both given and cleared"))
            elif name in names:
                changes[name] = UNLIMITED
        if problems:
            raise InvalidArgument.of(problems)
        if not changes:
            raise InvalidArgument("limits", f"give (or clear) at least one of {', '.join(names)}")
        return changes

    def set_kill_switch(self, command: SetKillSwitch, now_us: int) -> Committed | None:
        """None when the switch already is in the requested state (nothing to record)."""
        reason = required_reason(command.reason)
        scope = command.scope
        check_exists(self._state, scope)
        if (scope in self._state.controls.kill_switches) == command.enabled:
            return None
        actor = command.actor
        payload: events_pb2.KillSwitchActivated | events_pb2.KillSwitchDeactivated
        if command.enabled:
            payload = events_pb2.KillSwitchActivated(
                reason=reason, username=actor.username, cancel_working=command.cancel_working
            )
        else:
            payload = events_pb2.KillSwitchDeactivated(reason=reason, username=actor.username)
        if scope != FIRM:
            payload.scope.CopyFrom(scope_proto(scope))
        return self._recorder.emit([(payload, actor.envelope())], now_us)

    def set_trading_state(self, command: SetTradingState, now_us: int) -> tuple[TradingMode, Committed | None]:
        """(the state before, events); no events when it already is in that state."""
        reason = required_reason(command.reason)
        check_exists(self._state, command.scope)
        before = self._state.controls.mode(command.scope)
        if before is command.mode:
            return before, None
        actor = command.actor
        payload = events_pb2.TradingStateChanged(
            scope=scope_proto(command.scope),
            old_state=TRADING_MODE_PROTO[before],
            new_state=TRADING_MODE_PROTO[command.mode],
            reason=reason,
            username=actor.username,
        )
        return before, self._recorder.emit([(payload, actor.envelope())], now_us)

    def set_restriction(self, command: SetRestriction, now_us: int) -> tuple[Restriction, Committed | None]:
        """(the restriction before, events); no events when it already is the one asked for."""
        reason = required_reason(command.reason)
        scope, symbol = command.scope, command.symbol
        if scope.level not in (Level.FIRM, Level.ACCOUNT):
            raise InvalidArgument("scope", "a restricted list is the firm's or an account's")
        check_exists(self._state, scope)
        if symbol not in self._state.instruments:
            raise NotFound(
                f"no instrument {symbol!r} is listed", reason=Reason.INSTRUMENT_NOT_FOUND, metadata={"symbol": symbol}
            )
        before = self._state.controls.restriction(scope, symbol)
        if before is command.restriction:
            return before, None
        actor = command.actor
        payload = events_pb2.RestrictionChanged(
            scope=scope_proto(scope),
            symbol=symbol,
            old_restriction=RESTRICTION_PROTO[before],
            new_restriction=RESTRICTION_PROTO[command.restriction],
            reason=reason,
            username=actor.username,
        )
        return before, self._recorder.emit([(payload, actor.envelope(symbol))], now_us)
