"""The risk-control commands: limits and the kill switch, each an event with who and why."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from itirp.core.commands import SetKillSwitch, UpdateRiskLimits, required_reason
from itirp.core.protos import limits_proto
from itirp.core.recorder import Committed, Recorder
from itirp.core.state import TradingState
from itirp.domain.money import parse_amount
from itirp.domain.risk import LIMIT_AMOUNTS, RiskLimits
from itirp.errors import FieldViolation, InvalidArgument
from itirp.v1 import events_pb2

__all__ = ["RiskCommands"]


class RiskCommands:
    def __init__(self, state: TradingState, recorder: Recorder) -> None:
        self._state = state
        self._recorder = recorder

    def update_limits(self, command: UpdateRiskLimits, now_us: int) -> tuple[RiskLimits, RiskLimits, Committed]:
        """(limits before, limits after, events). Only the amounts given change."""
        unknown = set(command.amounts) - set(LIMIT_AMOUNTS)
        if unknown:
            raise ValueError(f"UpdateRiskLimits takes only the amounts {sorted(LIMIT_AMOUNTS)}, not {sorted(unknown)}")
        changes: dict[str, Decimal] = {}
        problems: list[FieldViolation] = []
        for name in LIMIT_AMOUNTS:
            text = command.amounts.get(name, "")
            if text:
                try:
                    changes[name] = parse_amount(text)
                except ValueError as exc:
                    problems.append(FieldViolation(name, str(exc)))
        if problems:
            raise InvalidArgument.of(problems)
        if not changes:
            raise InvalidArgument("limits", f"give at least one of {', '.join(LIMIT_AMOUNTS)}")
        state, actor = self._state, command.actor
        old = state.risk.limits
        new = dataclasses.replace(old, **changes)  # type: ignore[arg-type]  # names checked against LIMIT_AMOUNTS
        payload = events_pb2.RiskLimitsUpdated(
            old_limits=limits_proto(old, state.limits_updated_us, state.limits_updated_by),
            new_limits=limits_proto(new, now_us, actor.username or actor.user_id),
            reason=command.reason,
        )
        return old, new, self._recorder.emit([(payload, actor.envelope())], now_us)

    def set_kill_switch(self, command: SetKillSwitch, now_us: int) -> Committed | None:
        """None when the switch already is in the requested state (nothing to record)."""
        reason = required_reason(command.reason)
        if self._state.risk.limits.kill_switch_enabled == command.enabled:
            return None
        actor = command.actor
        cls = events_pb2.KillSwitchActivated if command.enabled else events_pb2.KillSwitchDeactivated
        return self._recorder.emit([(cls(reason=reason, username=actor.username), actor.envelope())], now_us)
