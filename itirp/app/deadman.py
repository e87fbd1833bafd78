"""The dead-man's switch of unary clients (SetCancelAllAfter): a trader arms it for N seconds and
renews it before they pass; if the deadline passes, all of the trader's working orders are
cancelled (a mass cancel of their trader scope, their own orders, trigger "cancel_all_after").
Per user: a new arming replaces the deadline, 0 disarms. Timers live on the event loop;
`stop()` (at shutdown) cancels them and waits for a cancel that has started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from itirp.core.commands import Actor
from itirp.core.mass_cancel import CancelAll
from itirp.domain.accounts import Level, Scope
from itirp.errors import InvalidArgument
from itirp.ids import new_uuid

__all__ = ["MAX_SECONDS", "DeadMansSwitch"]

log = logging.getLogger("itirp.orders")

#: The longest a switch may be armed for, s.
MAX_SECONDS = 3600

CancelAllRun = Callable[[CancelAll], Awaitable[object]]


class DeadMansSwitch:
    def __init__(self, cancel_all: CancelAllRun, *, clock: Callable[[], float]) -> None:
        self._cancel_all = cancel_all
        self._clock = clock
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def set(self, actor: Actor, seconds: int) -> float | None:
        """Arm (or renew) `actor`'s switch for `seconds`, or disarm it (0). Returns the deadline
        (the injected clock's time), or None when disarmed."""
        if not 0 <= seconds <= MAX_SECONDS:
            raise InvalidArgument("seconds", f"must be 1 to {MAX_SECONDS}, or 0 to disarm (got {seconds})")
        user_id = actor.user_id
        old = self._timers.pop(user_id, None)
        if old is not None:
            old.cancel()
        if not seconds:
            return None
        loop = asyncio.get_running_loop()
        self._timers[user_id] = loop.call_later(seconds, self._fire, actor)
        return self._clock() + seconds

    def armed(self, user_id: str) -> bool:
        return user_id in self._timers

    def _fire(self, actor: Actor) -> None:
        self._timers.pop(actor.user_id, None)
        task = asyncio.get_running_loop().create_task(self._cancel(actor), name="itirp-cancel-all-after")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _cancel(self, actor: Actor) -> None:
        command = CancelAll(
            actor=Actor(viewer=actor.viewer, username=actor.username, correlation_id=new_uuid()),
            scope=Scope(Level.TRADER, actor.username),
            reason="cancel-all-after deadline passed without renewal",
            trigger="cancel_all_after",
            user_id=actor.user_id,
        )
        try:
            await self._cancel_all(command)
        except Exception:
            log.exception("cancel-all-after failed", extra={"username": actor.username})
        else:
            log.info("cancel-all-after fired", extra={"username": actor.username})

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
