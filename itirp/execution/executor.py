"""The executor: takes approved orders to the venue after the reply, with retry, backoff and
jitter, a per-attempt timeout and the circuit breaker (held by the core, so its transitions are
events); sends cancels; records what the venue reports; reconciles orders in doubt.

Every decision is recorded before it is acted on: EXECUTION_STARTED is durable before the venue is
called, so after a crash the log tells which orders may have reached the venue. A retry after a
timeout first asks the venue for the order's status and sends the order only if the venue has no
record of it (and the venue knows orders by our id, so even that cannot make a second order). When
no answer comes the order is UNKNOWN, never FAILED while it may have filled; reconciliation
(`reconcile_seconds`, and at every start) asks the venue again until it answers.

One driver task per order at a time: a cancel or a report that arrives while it runs is picked up
by the same task before it ends, so the calls for one order never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable

from itirp.core.execution import AT_VENUE
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.orders import OrderStatus
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import ExecutionReport, PermanentVenueError, TransientVenueError, Venue, VenueOrder

__all__ = ["Executor"]

log = logging.getLogger("itirp.execution")

#: Orders at the venue whose state a driver asks it for (a pending cancel is sent instead).
_ASK = AT_VENUE - {OrderStatus.PENDING_CANCEL}


class Executor:
    def __init__(
        self,
        core: Sequencer,
        venue: Venue,
        policy: RetryPolicy,
        *,
        durable: Callable[[int], Awaitable[None]],
        clock_us: Callable[[], int],
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_in_flight: int = 1024,
        reconcile_seconds: float = 5.0,
    ) -> None:
        self._steps = core.execution
        self._queries = core.queries
        self._durable_sequence = durable
        self._venue = venue
        self._policy = policy
        self._clock_us = clock_us
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._background: list[asyncio.Task[None]] = []
        self._reconcile_seconds = reconcile_seconds
        self._closed = False
        venue.listen(self._on_report)

    @property
    def venue(self) -> Venue:
        return self._venue

    @property
    def venue_name(self) -> str:
        return self._venue.name

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def start(self) -> None:
        """The venue's own loop (resting orders filling) and the reconciliation of orders in doubt."""
        loop = asyncio.get_running_loop()
        self._background.append(loop.create_task(self._venue.run(), name="itirp-venue"))
        if self._reconcile_seconds > 0:
            self._background.append(loop.create_task(self._reconcile_forever(), name="itirp-reconcile"))

    async def _durable(self, committed: Committed | None) -> None:
        if committed is not None and committed.events:
            await self._durable_sequence(committed.last_sequence)

    def _status(self, order_id: str) -> OrderStatus:
        order = self._queries.order(order_id)
        assert order is not None
        return order.status

    # ------------------------------------------------------------------ what starts a driver

    def execute(self, order_id: str) -> None:
        """Send an approved order (in the background)."""
        self._drive(order_id)

    def cancel(self, order_id: str) -> None:
        """Cancel a PENDING_CANCEL order at the venue (after the send in flight, if any)."""
        self._drive(order_id)

    async def reconcile(self, order_ids: Iterable[str], timeout: float) -> None:  # noqa: ASYNC109
        """Ask the venue about each order (after a restart); wait up to `timeout` for the answers."""
        for order_id in order_ids:
            self._drive(order_id)
        tasks = set(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def _drive(self, order_id: str) -> None:
        if self._closed:
            return
        if order_id in self._tasks:
            self._again.add(order_id)  # the running driver looks at the order again before it ends
            return
        self._tasks[order_id] = asyncio.get_running_loop().create_task(self._run(order_id))

    async def _run(self, order_id: str) -> None:
        async with self._slots:
            try:
                while True:
                    self._again.discard(order_id)
                    await self._step(order_id)
                    if order_id not in self._again:
                        return
            except asyncio.CancelledError:
                raise
            except Exception:  # the store failed, or a bug: the order stays where its events left it
                log.exception("execution of order %s stopped", order_id, extra={"order_id": order_id})
            finally:  # in the task itself: a `_drive` after this starts a new driver
                self._again.discard(order_id)
                self._tasks.pop(order_id, None)

    async def _step(self, order_id: str) -> None:
        status = self._status(order_id)
        if status is OrderStatus.APPROVED:
            await self._send(order_id)
        elif status in _ASK:
            await self._ask(order_id)
        if self._status(order_id) is OrderStatus.PENDING_CANCEL:
            await self._cancel(order_id)

    # ------------------------------------------------------------------ the calls

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"no answer within {self._policy.attempt_timeout:g} s"
        if isinstance(exc, TransientVenueError):
            return str(exc)
        return f"venue error {type(exc).__name__}: {exc}"

    def _venue_order(self, order_id: str, attempt: int) -> VenueOrder:
        order = self._queries.order(order_id)
        assert order is not None
        assert order.price is not None  # MARKET orders never reach an external venue
        return VenueOrder(
            order_id,
            order.symbol,
            order.side.value,
            order.quantity,
            order.price,
            attempt,
            order.time_in_force.value,
        )

    async def _send(self, order_id: str) -> None:
        """The attempts to get the order to the venue: status first on a retry, then the order."""
        steps, venue, policy = self._steps, self._venue, self._policy
        attempt = 1
        while True:
            go, committed = steps.begin_attempt(order_id, attempt, venue.name, self._clock_us())
            await self._durable(committed)
            if not go:
                return
            try:
                async with asyncio.timeout(policy.attempt_timeout):  # no extra task, unlike wait_for
                    report = await venue.status(order_id) if attempt > 1 else None
                    if report is None:
                        report = await venue.submit(self._venue_order(order_id, attempt))
            except PermanentVenueError as exc:
                await self._durable(steps.rejected_by_venue(order_id, attempt, str(exc), self._clock_us()))
                return
            except Exception as exc:  # noqa: BLE001 - anything unclassified counts as transient
                # retried and counted by the breaker; never leaves the order (or a probe) hanging
                if not await self._failed(order_id, attempt, exc):
                    return
                attempt += 1
                continue
            await self._durable(steps.report(order_id, report, venue.name, self._clock_us()))
            return

    async def _failed(self, order_id: str, attempt: int, exc: Exception) -> bool:
        """Record a failed call; sleep the backoff and return True when there is another attempt."""
        delay = self._policy.delay(attempt, self._rng)
        retry, committed = self._steps.attempt_failed(
            order_id,
            attempt,
            self._reason(exc),
            max_attempts=self._policy.attempts,
            retry_delay_ms=int(delay * 1000),
            now_us=self._clock_us(),
        )
        await self._durable(committed)
        if retry:
            await self._sleep(delay)
        return retry

    async def _cancel(self, order_id: str) -> None:
        """Cancel at the venue until it answers (or the attempts run out: reconciliation goes on)."""
        steps, venue = self._steps, self._venue
        for attempt in range(1, self._policy.attempts + 1):
            try:
                async with asyncio.timeout(self._policy.attempt_timeout):
                    report = await venue.cancel(order_id)
            except PermanentVenueError as exc:
                log.warning("the venue refused a cancel: %s", exc, extra={"order_id": order_id})
                await self._ask(order_id)
                return
            except Exception as exc:  # noqa: BLE001 - as for a send
                if not await self._failed(order_id, attempt, exc):
                    return
                continue
            await self._durable(steps.report(order_id, report, venue.name, self._clock_us()))
            return

    async def _ask(self, order_id: str) -> None:
        """Reconcile: the venue's status of the order, recorded; no record: it is not there."""
        steps, venue = self._steps, self._venue
        try:
            async with asyncio.timeout(self._policy.attempt_timeout):
                report = await venue.status(order_id)
        except Exception as exc:  # noqa: BLE001 - no answer: it stays in doubt, asked again later
            reason = f"status query failed: {self._reason(exc)}"
            log.warning("reconciliation: %s", reason, extra={"order_id": order_id})
            await self._durable(steps.unreachable(order_id, reason, self._clock_us()))
            return
        now_us = self._clock_us()
        if report is None:
            committed = steps.no_record(order_id, venue.name, now_us)
        else:
            committed = steps.report(order_id, report, venue.name, now_us, answered=False)
        await self._durable(committed)

    # ------------------------------------------------------------------ unsolicited

    def _on_report(self, report: ExecutionReport) -> None:
        """A fill (or close) the venue reports on its own: recorded now; nobody waits for it."""
        if self._closed or self._queries.order(report.order_id) is None:
            return
        try:
            self._steps.report(report.order_id, report, self._venue.name, self._clock_us(), answered=False)
        except Exception:
            log.exception("a venue report could not be recorded", extra={"order_id": report.order_id})

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reconcile_seconds)
            for order_id in self._queries.in_doubt():
                self._drive(order_id)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a grace period handed to asyncio.wait
        """Stop taking new work; wait up to `timeout` for executions in flight, then cancel the rest
        (their orders stay where their events left them and are reconciled at the next start)."""
        self._closed = True
        for task in self._background:
            task.cancel()
        if self._background:
            await asyncio.wait(self._background)
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks.values()), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
