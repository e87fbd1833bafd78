"""Order-entry sessions, the application's side: the open sessions, and their end.

A session begins with SESSION_OPENED and ends exactly once with SESSION_CLOSED: cleanly (the
client's close) or cut (the client vanished, its connection failed keepalive, its access was
taken away, the server is stopping). A cut session that asked for cancel-on-disconnect has its
still-working orders cancelled in the same append (`itirp.core.sessions`). The end runs as its
own task, so that it completes even when the call's handler is cancelled by grpc; `stop()`
(at shutdown, before the executor drains and the store closes) ends the sessions still open and
waits for every end to be recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from itirp.app.trading import TradingService
from itirp.core.commands import Actor
from itirp.core.sessions import CloseSession, OpenSession

__all__ = ["OrderEntrySessions", "Session"]

log = logging.getLogger("itirp.orders")


@dataclass(eq=False)
class Session:
    session_id: str
    actor: Actor
    cancel_on_disconnect: bool
    heartbeat_seconds: int
    name: str = ""
    ending: asyncio.Task[int] | None = field(default=None, repr=False)
    #: How the server makes the session's stream end (set by the stream's handler).
    on_cut: Callable[[], None] | None = field(default=None, repr=False)


class OrderEntrySessions:
    def __init__(self, trading: TradingService) -> None:
        self._trading = trading
        self._open: dict[str, Session] = {}
        self._ending: set[asyncio.Task[int]] = set()

    @property
    def open_sessions(self) -> int:
        return len(self._open)

    async def open(self, command: OpenSession) -> Session:
        session_id = await self._trading.open_session(command)
        session = Session(
            session_id, command.actor, command.cancel_on_disconnect, command.heartbeat_seconds, command.name
        )
        self._open[session_id] = session
        log.info(
            "order-entry session opened",
            extra={"session_id": session_id, "username": command.actor.username, "session_name": command.name},
        )
        return session

    def end(self, session: Session, *, clean: bool, reason: str) -> asyncio.Task[int]:
        """End the session (once: later calls get the first end's task). The task's result is the
        number of orders cancelled because it ended."""
        if session.ending is None:
            session.ending = asyncio.get_running_loop().create_task(
                self._close(session, clean, reason), name=f"itirp-session-end-{session.session_id[:8]}"
            )
            self._ending.add(session.ending)
            session.ending.add_done_callback(self._ending.discard)
        return session.ending

    async def _close(self, session: Session, clean: bool, reason: str) -> int:
        command = CloseSession(
            actor=session.actor,
            session_id=session.session_id,
            clean=clean,
            reason=reason,
            cancel_working=session.cancel_on_disconnect,
        )
        try:
            cancelled, pending = await self._trading.close_session(command)
        except Exception:  # a failed store, a read-only server: said, and the session is gone anyway
            ids = {"session_id": session.session_id}
            log.exception("the end of an order-entry session could not be recorded", extra=ids)
            return 0
        finally:
            self._open.pop(session.session_id, None)
        count = len(cancelled) + len(pending)
        log.info(
            "order-entry session closed",
            extra={"session_id": session.session_id, "clean": clean, "reason": reason, "orders_cancelled": count},
        )
        return count

    def cut_all(self) -> None:
        """Make every open session's stream end (the server is stopping); each records its end."""
        for session in list(self._open.values()):
            if session.on_cut is not None and session.ending is None:
                session.on_cut()

    async def stop(self) -> None:
        """End the sessions still open (cut: the server is stopping) and wait for every end."""
        for session in list(self._open.values()):
            self.end(session, clean=False, reason="the server is shutting down")
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
