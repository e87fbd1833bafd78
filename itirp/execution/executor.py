"""The executor: takes approved orders to the venue after the reply, with retry, backoff and
jitter, a per-attempt timeout, and the circuit breaker (held by the core, so its transitions are
events).

Every decision is recorded before it is acted on: EXECUTION_STARTED is durable before the venue is
called, so after a crash the log tells which orders may have reached the venue.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import PermanentVenueError, TransientVenueError, Venue, VenueOrder

__all__ = ["Executor"]

log = logging.getLogger("itirp.execution")


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
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def _durable(self, committed: Committed | None) -> None:
        if committed is not None and committed.events:
            await self._durable_sequence(committed.last_sequence)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def execute(self, order_id: str) -> None:
        """Start executing an approved order in the background."""
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._run(order_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, order_id: str) -> None:
        async with self._slots:
            try:
                await self._execute(order_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # the store failed, or a bug: the order stays where its events left it
                log.exception("execution of order %s stopped", order_id, extra={"order_id": order_id})

    async def _execute(self, order_id: str) -> None:
        steps, venue, policy = self._steps, self._venue, self._policy
        for attempt in range(1, policy.attempts + 1):
            go, committed = steps.begin_attempt(order_id, attempt, venue.name, self._clock_us())
            await self._durable(committed)
            if not go:
                return
            order = self._queries.order(order_id)
            assert order is not None
            assert order.price is not None  # MARKET orders never reach an external venue
            request = VenueOrder(order_id, order.symbol, order.side.value, order.quantity, order.price, attempt)
            try:
                async with asyncio.timeout(policy.attempt_timeout):  # no extra task, unlike wait_for
                    fill = await venue.execute(request)
            except PermanentVenueError as exc:
                await self._durable(steps.rejected_by_venue(order_id, attempt, str(exc), self._clock_us()))
                return
            except (TransientVenueError, TimeoutError, Exception) as exc:  # noqa: BLE001 - see below
                # anything the venue adapter did not classify counts as a transient failure: it is
                # retried and feeds the breaker, and never leaves the order (or a probe) hanging
                reason = str(exc) or f"no answer within {policy.attempt_timeout:g} s"
                if not isinstance(exc, TransientVenueError | TimeoutError):
                    reason = f"venue error {type(exc).__name__}: {exc}"
                delay = policy.delay(attempt, self._rng)
                retry, committed = steps.attempt_failed(
                    order_id,
                    attempt,
                    reason,
                    max_attempts=policy.attempts,
                    retry_delay_ms=int(delay * 1000),
                    now_us=self._clock_us(),
                )
                await self._durable(committed)
                if not retry:
                    return
                await self._sleep(delay)
                continue
            await self._durable(steps.completed(order_id, attempt, fill, venue.name, self._clock_us()))
            return

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a grace period handed to asyncio.wait
        """Stop taking new work; wait up to `timeout` for executions in flight, then cancel the rest
        (their orders stay EXECUTING and are failed for reconciliation at the next start)."""
        self._closed = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
