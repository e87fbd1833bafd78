"""Order-entry sessions as events: SESSION_OPENED when a client opens one, SESSION_CLOSED when it
ends (clean after the client's close; else cut), with the mass cancel of the session's working
orders when it asked for cancel-on-disconnect, in the same append. The stream itself and its
requests are the application's (`itirp.app.sessions`); the core records their beginning and end."""

from __future__ import annotations

from dataclasses import dataclass

from itirp.core.commands import Actor
from itirp.core.mass_cancel import CancelAll, cancel_items
from itirp.core.recorder import Committed, Item, Recorder
from itirp.core.state import TradingState
from itirp.domain.accounts import FIRM
from itirp.domain.orders import Order, OrderStatus
from itirp.errors import InvalidArgument
from itirp.v1 import events_pb2

__all__ = ["MAX_HEARTBEAT_SECONDS", "CloseSession", "OpenSession", "SessionCommands"]

#: The longest heartbeat interval a session may ask for, s.
MAX_HEARTBEAT_SECONDS = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenSession:
    actor: Actor
    name: str = ""
    cancel_on_disconnect: bool = False
    heartbeat_seconds: int = 0
    client_address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseSession:
    """`clean`: the client closed it; else it was cut (`reason` says how), and with
    `cancel_working` the orders entered on it and still working are cancelled."""

    actor: Actor
    session_id: str
    clean: bool
    reason: str = ""
    cancel_working: bool = False


class SessionCommands:
    def __init__(self, state: TradingState, recorder: Recorder) -> None:
        self._state = state
        self._recorder = recorder

    def open(self, command: OpenSession, now_us: int) -> tuple[str, Committed]:
        """Record SESSION_OPENED; returns the new session's id."""
        if not 0 <= command.heartbeat_seconds <= MAX_HEARTBEAT_SECONDS:
            problem = f"must be 0 (none) to {MAX_HEARTBEAT_SECONDS} (got {command.heartbeat_seconds})"
            raise InvalidArgument("open.heartbeat_seconds", problem)
        session_id = self._recorder.journal.new_id()
        actor = command.actor
        payload = events_pb2.SessionOpened(
            session_id=session_id,
            name=command.name,
            cancel_on_disconnect=command.cancel_on_disconnect,
            heartbeat_seconds=command.heartbeat_seconds,
            username=actor.username,
            client_address=command.client_address,
        )
        envelope = {**actor.envelope(), "correlation_id": actor.correlation_id or session_id}
        return session_id, self._recorder.emit([(payload, envelope)], now_us)

    def close(self, command: CloseSession, now_us: int) -> tuple[list[Order], list[Order], Committed]:
        """Record SESSION_CLOSED, after the mass cancel of the session's working orders when the
        session was cut and asked for it (one append). Returns (cancelled at once, now
        PENDING_CANCEL, the events)."""
        actor = command.actor
        correlation_id = actor.correlation_id or command.session_id
        items: list[Item] = []
        order_ids: list[str] = []
        if command.cancel_working and not command.clean:
            mass = CancelAll(
                actor=actor,
                scope=FIRM,
                reason=f"session {command.session_id} ended: {command.reason}",
                trigger="disconnect",
                user_id=actor.user_id,
                session_id=command.session_id,
            )
            items, order_ids = cancel_items(self._state, self._recorder, mass)
        closed = events_pb2.SessionClosed(
            session_id=command.session_id, clean=command.clean, reason=command.reason, orders_cancelled=len(order_ids)
        )
        items.append((closed, {**actor.envelope(), "correlation_id": correlation_id}))
        committed = self._recorder.emit(items, now_us)
        orders = [self._state.orders[order_id] for order_id in order_ids]
        cancelled = [o for o in orders if o.status is OrderStatus.CANCELLED]
        pending = [o for o in orders if o.status is OrderStatus.PENDING_CANCEL]
        return cancelled, pending, committed
