"""The reference-data application service: the instrument master's commands with their
durability, and the listing of instruments at start (a file, or the demo desk's list)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable

from itirp.auth.roles import Role
from itirp.core.commands import Actor, SetInstrumentStatus, UpsertInstrument
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.instruments import Instrument
from itirp.domain.viewer import Viewer
from itirp.errors import FailedPrecondition, ItirpError, Reason
from itirp.ids import new_uuid

__all__ = ["SYSTEM_USER", "ReferenceService"]

log = logging.getLogger("itirp.reference")

#: Who lists instruments at start (a file or the demo list), as the audit log shows it.
SYSTEM_USER = "system"


def _same(listed: Instrument, given: Instrument) -> bool:
    """Equal definitions, who changed it and when aside, and its status too: a halt or a close made
    through the API is the desk's decision, which a file read at start must not undo."""
    return listed == dataclasses.replace(
        given, status=listed.status, updated_us=listed.updated_us, updated_by=listed.updated_by
    )


class ReferenceService:
    def __init__(
        self,
        core: Sequencer,
        durable: Callable[[int], Awaitable[None]],
        *,
        clock: Callable[[], float],
        read_only: bool = False,
    ) -> None:
        self._core = core
        self.queries = core.queries
        self._durable_sequence = durable
        self._clock = clock
        self._read_only = read_only

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    async def _durable(self, committed: Committed | None) -> None:
        """The command's events durable; with none (nothing changed, or refused), the state the
        answer was decided on (an answer reveals what it read)."""
        if committed is not None and committed.events:
            await self._durable_sequence(committed.last_sequence)
        else:
            await self._durable_sequence(self.queries.last_applied)

    def _writable(self) -> None:
        if self._read_only:
            raise FailedPrecondition(
                "the server is read-only (started for investigation): nothing can be recorded", reason=Reason.READ_ONLY
            )

    async def upsert(self, command: UpsertInstrument) -> tuple[Instrument, bool]:
        """(the instrument as listed now, whether it is new)."""
        self._writable()
        try:
            instrument, created, committed = self._core.reference.upsert(command, self._now_us())
        except ItirpError:
            await self._durable(None)
            raise
        await self._durable(committed)
        return instrument, created

    async def set_status(self, command: SetInstrumentStatus) -> tuple[Instrument, bool]:
        """(the instrument, whether its status changed)."""
        self._writable()
        try:
            instrument, committed = self._core.reference.set_status(command, self._now_us())
        except ItirpError:
            await self._durable(None)
            raise
        await self._durable(committed)
        return instrument, committed is not None

    async def list_at_start(self, instruments: Iterable[Instrument], *, reason: str) -> int:
        """List each new instrument, and change each listed one whose definition differs (its
        status aside); returns how many were recorded. Nothing on a read-only server."""
        if self._read_only:
            return 0
        actor = Actor(viewer=Viewer(SYSTEM_USER, Role.ADMIN), username=SYSTEM_USER, correlation_id=new_uuid())
        listed = {i.symbol: i for i in self.queries.instruments()}
        changed = 0
        for instrument in instruments:
            current = listed.get(instrument.symbol)
            if current is not None and _same(current, instrument):
                continue
            # the file's status applies to a new listing only (`None` keeps a listed one's)
            status = instrument.status if current is None else None
            command = UpsertInstrument(actor=actor, instrument=instrument, status=status, reason=reason)
            await self.upsert(command)
            changed += 1
        if changed:
            log.info("instruments listed", extra={"instruments": changed, "reason": reason})
        return changed
