"""The executor: takes approved orders to the venue with retries, backoff, a per-attempt timeout
and the core's circuit breaker; sends cancels; records what the venue reports, answered or
unsolicited; reconciles orders in doubt. Driven here with a real Sequencer over a StoreSink on a
MemoryEventStore (durability awaited by sequence, as the application wires it), a scripted venue
that knows orders by id as a real one does, and a `sleep` that records the delays instead of
waiting. No assertion depends on the wall clock: the loop is run until a condition holds."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from itirp.app.sink import StoreSink
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.breaker import BreakerState
from itirp.domain.orders import OrderStatus
from itirp.events import decode_payload
from itirp.execution.executor import Executor
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import (
    ExecutionReport,
    Fill,
    PermanentVenueError,
    TransientVenueError,
    VenueOrder,
    VenueOrderState,
)
from itirp.store import MemoryEventStore, StoredEvent
from itirp.v1 import common_pb2, events_pb2

from ..core.harness import (
    BREAKER_OPEN_SECONDS,
    BREAKER_THRESHOLD,
    SECOND,
    Harness,
    MemorySink,
    make_breaker,
    open_harness,
    seed_instruments,
)

SEED = 20240301

#: What the executor records about an order once it is approved (the creation and risk check aside).
_BEFORE_EXECUTION = frozenset({"ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED"})


class ScriptedVenue:
    """A venue that knows orders by our id, as a real one does, and answers each call with the
    next step of that method's script.

    submit: "fill" (the order arrives and fills whole at its limit), "rest" (it arrives and rests,
    unfilled), "reject" (it arrives and the venue rejects it: a REJECTED report), "lost-fill" /
    "lost-rest" (it arrives, then the answer is lost: TransientVenueError), "transient" (the request
    is lost: the venue never sees the order), "permanent" (PermanentVenueError), "bug" (an exception
    the adapter did not classify) or "hang" (never answers; the venue never sees the order). Past
    the end of the script an order fills. A submit of an id the venue already has answers that
    order and never makes a second one.

    status: "answer" (the order's report, None when the venue has no record), "transient", "hang".
    cancel: "answer" (cancels what is open; a tombstone when the venue never had the order),
    "transient", "permanent", "hang". Past the end of their scripts both answer.

    `gates[method]`, when set, holds every call of that method until the event is set (after the
    call is recorded). The venue notes any two calls for one order that overlap."""

    name = "scripted"

    def __init__(self, *submits: str, statuses: tuple[str, ...] = (), cancels: tuple[str, ...] = ()) -> None:
        self.submit_script = list(submits)
        self.status_script = list(statuses)
        self.cancel_script = list(cancels)
        self.calls: list[tuple[str, str, int]] = []
        """(method, order id, attempt; 0 for status and cancel), in call order."""
        self.submitted: list[VenueOrder] = []
        self.orders: dict[str, VenueOrder] = {}
        """The orders that reached the venue, by id."""
        self.reports: dict[str, ExecutionReport] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.entered = asyncio.Event()
        self.cancelled = 0
        """Hung calls the executor abandoned."""
        self.listeners: list[Callable[[ExecutionReport], None]] = []
        self.ran = False
        self._active: set[str] = set()
        self.overlaps: list[str] = []

    # ------------------------------------------------------------------ the Venue protocol

    def listen(self, on_report: Callable[[ExecutionReport], None]) -> None:
        self.listeners.append(on_report)

    async def run(self) -> None:
        self.ran = True

    async def submit(self, order: VenueOrder) -> ExecutionReport:
        step = self.submit_script.pop(0) if self.submit_script else "fill"
        self.submitted.append(order)
        async with self._call("submit", order.order_id, order.attempt):
            await self._fail(step)
            if order.order_id not in self.reports:
                self._arrive(order, step.removeprefix("lost-"))
            if step.startswith("lost-"):
                raise TransientVenueError("scripted: connection reset after the order was sent")
            return self.reports[order.order_id]

    async def status(self, order_id: str) -> ExecutionReport | None:
        step = self.status_script.pop(0) if self.status_script else "answer"
        async with self._call("status", order_id):
            await self._fail(step)
            return self.reports.get(order_id)

    async def cancel(self, order_id: str) -> ExecutionReport:
        step = self.cancel_script.pop(0) if self.cancel_script else "answer"
        async with self._call("cancel", order_id):
            await self._fail(step)
            report = self.reports.get(order_id)
            if report is None:  # the cancel came first: the order is refused if it ever arrives
                report = ExecutionReport(
                    order_id, VenueOrderState.CANCELLED, reason="cancelled before it arrived", accepted=False
                )
            elif report.state is VenueOrderState.WORKING:
                report = dataclasses.replace(report, state=VenueOrderState.CANCELLED, reason="cancelled on request")
            self.reports[order_id] = report
            return report

    # ------------------------------------------------------------------ the market, as a test drives it

    def know(self, order_id: str, state: VenueOrderState, *fills: tuple[int, str]) -> ExecutionReport:
        """Arrange: the venue has the order (as before a restart), with these (quantity, price) fills."""
        report = ExecutionReport(
            order_id, state, tuple(Fill(q, Decimal(p), f"x-{order_id[:8]}-{i}") for i, (q, p) in enumerate(fills, 1))
        )
        self.reports[order_id] = report
        return report

    def fill_resting(self, order_id: str, quantity: int, *, report: bool = True) -> ExecutionReport:
        """A resting order fills (part) at its limit; reported to the listener (unless `report` is
        False: the venue's message was lost, only a later answer carries the fill)."""
        current, order = self.reports[order_id], self.orders[order_id]
        fill = Fill(quantity, order.price, f"x-{order_id[:8]}-{len(current.fills) + 1}", aggressor=False)
        fills = (*current.fills, fill)
        done = sum(f.quantity for f in fills) == order.quantity
        updated = dataclasses.replace(current, fills=fills, state=VenueOrderState.FILLED if done else current.state)
        self.reports[order_id] = updated
        if report:
            self.emit(updated)
        return updated

    def emit(self, report: ExecutionReport) -> None:
        """An unsolicited report, as the venue sends one between calls."""
        for listener in self.listeners:
            listener(report)

    def methods(self, order_id: str) -> list[str]:
        return [method for method, oid, _ in self.calls if oid == order_id]

    def attempts(self) -> list[int]:
        """The attempt number of each submit."""
        return [attempt for method, _, attempt in self.calls if method == "submit"]

    # ------------------------------------------------------------------ internals

    @asynccontextmanager
    async def _call(self, method: str, order_id: str, attempt: int = 0) -> AsyncIterator[None]:
        self.calls.append((method, order_id, attempt))
        if order_id in self._active:
            self.overlaps.append(order_id)
        self._active.add(order_id)
        self.entered.set()
        try:
            gate = self.gates.get(method)
            if gate is not None:
                await gate.wait()
            yield
        finally:
            self._active.discard(order_id)

    async def _fail(self, step: str) -> None:
        if step == "transient":
            raise TransientVenueError("scripted: connection reset")
        if step == "permanent":
            raise PermanentVenueError("scripted: symbol halted")
        if step == "bug":
            raise KeyError("adapter bug")
        if step == "hang":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise

    def _arrive(self, order: VenueOrder, step: str) -> None:
        self.orders[order.order_id] = order
        if step == "reject":
            report = ExecutionReport(order.order_id, VenueOrderState.REJECTED, reason="symbol not tradable")
        elif step == "rest":
            report = ExecutionReport(order.order_id, VenueOrderState.WORKING)
        else:
            fill = Fill(order.quantity, order.price, f"x-{order.order_id[:8]}-1")
            report = ExecutionReport(order.order_id, VenueOrderState.FILLED, (fill,))
        self.reports[order.order_id] = report


class RecordingSleep:
    """Records each delay instead of waiting; while `hold` is set to an unset event, each sleep
    waits for it (an order held in its backoff)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.hold: asyncio.Event | None = None

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.hold is not None:
            await self.hold.wait()


@pytest.fixture
async def store() -> AsyncIterator[MemoryEventStore]:
    backend = MemoryEventStore()
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def sink(store: MemoryEventStore) -> StoreSink:
    return StoreSink(store)


@pytest.fixture
def h(sink: StoreSink) -> Harness:
    """The harness, its core staging with the StoreSink instead of the harness's MemorySink."""
    harness = open_harness()
    harness.core = seed_instruments(Sequencer(Journal(clock_us=lambda: harness.now_us), sink, breaker=make_breaker()))
    return harness


def make_executor(
    h: Harness,
    sink: StoreSink,
    venue: ScriptedVenue,
    policy: RetryPolicy,
    sleep: RecordingSleep,
    *,
    reconcile_seconds: float = 5.0,
) -> Executor:
    return Executor(
        h.core,
        venue,
        policy,
        durable=sink.durable,
        clock_us=lambda: h.now_us,
        rng=random.Random(SEED),
        sleep=sleep,
        reconcile_seconds=reconcile_seconds,
    )


async def approved(h: Harness, sink: StoreSink, **kwargs: object) -> str:
    order, committed = h.submit(**kwargs)  # type: ignore[arg-type]
    await sink.durable(committed.last_sequence)
    assert order.status is OrderStatus.APPROVED
    return order.order_id


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (a safety net of 2 s, never a timing assertion)."""
    async with asyncio.timeout(2):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0)


async def spin(turns: int = 50) -> None:
    """Let the loop run a while (whatever can happen without outside help does)."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def settle(executor: Executor) -> None:
    """Wait for every driver to end, the executor staying open (unlike drain)."""
    await until(lambda: executor.in_flight == 0)


async def run_to_completion(executor: Executor) -> None:
    await executor.drain(timeout=5.0)  # returns as soon as every execution has finished
    assert executor.in_flight == 0


async def durable_events(h: Harness, sink: StoreSink, store: MemoryEventStore) -> list[StoredEvent]:
    """What the store committed, once everything the core staged (unsolicited reports too) is durable."""
    await sink.durable(h.core.queries.last_applied)
    return await store.read()


async def order_events(h: Harness, sink: StoreSink, store: MemoryEventStore, order_id: str) -> list[str]:
    """The durable event types of the order from its approval on."""
    events = await durable_events(h, sink, store)
    return [e.event_type for e in events if e.order_id == order_id and e.event_type not in _BEFORE_EXECUTION]


def payload(event: StoredEvent) -> Message:
    return decode_payload(event.event_type, event.schema_version, event.payload)


async def payloads(h: Harness, sink: StoreSink, store: MemoryEventStore, event_type: str, order_id: str = "") -> list:  # type: ignore[type-arg]
    return [
        payload(e)
        for e in await durable_events(h, sink, store)
        if e.event_type == event_type and (not order_id or e.order_id == order_id)
    ]


async def last_payload(h: Harness, sink: StoreSink, store: MemoryEventStore, order_id: str) -> Message:
    return payload([e for e in await durable_events(h, sink, store) if e.order_id == order_id][-1])


async def replayed(h: Harness, sink: StoreSink, store: MemoryEventStore) -> Sequencer:
    """A fresh core with the durable log folded in, as at a restart."""
    core = seed_instruments(Sequencer(Journal(clock_us=lambda: h.now_us), MemorySink(), breaker=make_breaker()))
    for event in await durable_events(h, sink, store):
        core.apply(event)
    return core


async def assert_replays(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    """The log folds to the live state: the same orders, statuses, fills and exposure."""
    again = await replayed(h, sink, store)

    def view(core: Sequencer) -> list[tuple[str, OrderStatus, int]]:
        return [(o.order_id, o.status, o.filled_quantity) for o in core.state.order_list]

    assert view(again) == view(h.core)
    assert again.queries.metrics() == h.core.queries.metrics()


def working_exposure(h: Harness) -> Decimal:
    return h.core.queries.metrics().working_exposure


# ====================================================================== sending (ported)


async def test_executor_sends_an_approved_order_and_records_the_venues_report(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink, symbol="MSFT", quantity=25, price="401.10")
    venue, sleep = ScriptedVenue("fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: one submit, the first attempt, no status asked
    (call,) = venue.submitted
    assert (call.order_id, call.symbol, call.side, call.quantity, str(call.price), call.attempt) == (
        order_id, "MSFT", "BUY", 25, "401.10", 1,
    )  # fmt: skip
    assert call.time_in_force == "GTC"
    assert venue.methods(order_id) == ["submit"]
    assert await order_events(h, sink, store, order_id) == ["EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED"]
    (filled,) = await payloads(h, sink, store, "ORDER_FILLED", order_id)
    assert (filled.trade_id, filled.quantity, filled.price, filled.remaining_quantity, filled.venue) == (
        f"x-{order_id[:8]}-1", 25, "401.10", 0, "scripted",
    )  # fmt: skip
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity, order.venue, order.venue_accepted) == (
        OrderStatus.EXECUTED, 25, "scripted", True,
    )  # fmt: skip
    assert working_exposure(h) == 0
    assert sleep.delays == []
    await assert_replays(h, sink, store)


async def test_transient_failures_are_retried_after_the_policys_delays_each_retry_asking_status_first(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the first two requests are lost (the venue never sees them)
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("transient", "transient", "fill"), RecordingSleep()
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=30.0)
    executor = make_executor(h, sink, venue, policy, sleep)
    same_rng = random.Random(SEED)
    expected = [policy.delay(1, same_rng), policy.delay(2, same_rng)]

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: each retry asked the venue first, which had no record, so the order went again
    assert venue.methods(order_id) == ["submit", "status", "submit", "status", "submit"]
    assert venue.attempts() == [1, 2, 3]
    assert sleep.delays == expected
    assert 0.5 <= expected[0] <= 1.0
    assert 1.0 <= expected[1] <= 2.0
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED",
        "EXECUTION_STARTED", "EXECUTION_RETRIED",
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED",
    ]  # fmt: skip
    retried = await payloads(h, sink, store, "EXECUTION_RETRIED", order_id)
    assert [(r.attempt, r.delay_ms) for r in retried] == [(1, int(expected[0] * 1000)), (2, int(expected[1] * 1000))]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    # (that the success resets the breaker's count: test_a_venue_answer_resets_the_breakers_failure_count)
    await assert_replays(h, sink, store)


async def test_after_the_last_transient_attempt_the_order_is_unknown_not_failed(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    """Was: FAILED after the last attempt. The order may have reached the venue, so it is UNKNOWN."""
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("transient", "transient"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=2), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.attempts() == [1, 2]
    assert len(sleep.delays) == 1  # no sleep after the last attempt
    unknown = await last_payload(h, sink, store, order_id)
    assert isinstance(unknown, events_pb2.OrderStatusUnknown)
    assert (unknown.attempts, unknown.attempt_failed, unknown.reason) == (2, True, "scripted: connection reset")
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED", "EXECUTION_STARTED", "ORDER_STATUS_UNKNOWN",
    ]  # fmt: skip
    assert "EXECUTION_FAILED" not in await order_events(h, sink, store, order_id)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN
    await assert_replays(h, sink, store)


async def test_an_unknown_order_keeps_its_risk_reservation(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: 100 @ 150.00 reserved at approval
    order_id = await approved(h, sink, quantity=100, price="150.00")
    reserved = working_exposure(h)
    assert reserved == Decimal("15000.00")
    venue, sleep = ScriptedVenue("transient", "lost-fill", "transient"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: still counted as working (it may be working, or filled, at the venue)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN
    metrics = h.core.queries.metrics()
    assert (metrics.working_exposure, metrics.daily_volume, metrics.executed_volume) == (reserved, reserved, Decimal(0))
    assert h.core.queries.in_doubt() == [order_id]
    again = await replayed(h, sink, store)
    assert again.queries.metrics().working_exposure == reserved


async def test_permanent_rejection_is_not_retried(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("permanent", "fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit"]
    assert sleep.delays == []
    failed = await last_payload(h, sink, store, order_id)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.permanent, failed.reason, failed.attempts) == (True, "scripted: symbol halted", 1)
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED
    assert working_exposure(h) == 0


async def test_a_rejected_report_fails_the_order_permanently(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the venue answers with a REJECTED report (rather than refusing the call)
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("reject"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: never accepted, never retried
    assert venue.methods(order_id) == ["submit"]
    assert await order_events(h, sink, store, order_id) == ["EXECUTION_STARTED", "EXECUTION_FAILED"]
    failed = await last_payload(h, sink, store, order_id)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.permanent, failed.attempts) == (True, 1)
    assert failed.reason == "rejected by the scripted venue: symbol not tradable"
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED
    assert working_exposure(h) == 0


async def test_an_attempt_that_times_out_counts_as_a_transient_failure(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("hang", "fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=2, attempt_timeout=0.01), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit", "status", "submit"]
    assert venue.attempts() == [1, 2]
    assert venue.cancelled == 1  # the hung call was abandoned
    assert len(sleep.delays) == 1
    (retried,) = await payloads(h, sink, store, "EXECUTION_RETRIED", order_id)
    assert retried.reason == "no answer within 0.01 s"
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_an_unclassified_venue_error_is_retried_like_a_transient_one(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    venue, sleep = ScriptedVenue("bug", "fill"), RecordingSleep()
    order_id = await approved(h, sink)
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3, base_delay=0.001), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert venue.attempts() == [1, 2]
    assert len(sleep.delays) == 1
    (retried,) = await payloads(h, sink, store, "EXECUTION_RETRIED", order_id)
    assert "venue error KeyError" in retried.reason


async def test_an_order_cancelled_before_the_executor_runs_is_never_sent(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue(), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)
    executor.execute(order_id)  # scheduled, not yet running
    order, committed = h.cancel(order_id, reason="changed my mind")
    assert committed is not None
    assert order.status is OrderStatus.CANCELLED  # never left the desk: cancelled at once

    # Act
    await sink.durable(committed.last_sequence)
    await run_to_completion(executor)

    # Assert
    assert venue.calls == []
    assert await order_events(h, sink, store, order_id) == ["ORDER_CANCELLED"]
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED


async def test_an_order_executed_twice_is_driven_once(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)

    # Act
    executor.execute(order_id)
    executor.execute(order_id)
    assert executor.in_flight == 1
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit"]
    assert await order_events(h, sink, store, order_id) == ["EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED"]


async def test_drain_waits_for_quick_executions_and_cancels_those_still_in_flight(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: one order the venue answers, one it never answers
    quick = await approved(h, sink, symbol="QUICK")
    stuck = await approved(h, sink, symbol="STUCK")
    venue, sleep = ScriptedVenue("fill", "hang"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempt_timeout=60.0), sleep)
    executor.execute(quick)
    executor.execute(stuck)
    await until(lambda: len(venue.calls) == 2)

    # Act
    await executor.drain(timeout=0.05)

    # Assert
    assert executor.in_flight == 0
    assert venue.cancelled == 1
    assert h.core.state.orders[quick].status is OrderStatus.EXECUTED
    # the stuck one stays EXECUTING (its log ends at EXECUTION_STARTED): reconciled at the next start
    assert h.core.state.orders[stuck].status is OrderStatus.EXECUTING
    assert await order_events(h, sink, store, stuck) == ["EXECUTION_STARTED"]


async def test_a_drained_executor_takes_no_new_work(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue(), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)
    await executor.drain(timeout=0.01)

    # Act
    executor.execute(order_id)
    await executor.reconcile([order_id], timeout=1.0)
    await spin()

    # Assert
    assert executor.in_flight == 0
    assert venue.calls == []
    assert h.core.state.orders[order_id].status is OrderStatus.APPROVED


async def test_each_execution_started_is_durable_before_the_venue_is_called(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: a venue that looks at the committed log whenever it is called
    committed_at_call: list[tuple[str, int]] = []

    async def started(order_id: str) -> int:
        return [e.event_type for e in await store.read() if e.order_id == order_id].count("EXECUTION_STARTED")

    class Watching(ScriptedVenue):
        async def submit(self, order: VenueOrder) -> ExecutionReport:
            committed_at_call.append(("submit", await started(order.order_id)))
            return await super().submit(order)

        async def status(self, order_id: str) -> ExecutionReport | None:
            committed_at_call.append(("status", await started(order_id)))
            return await super().status(order_id)

    order_id = await approved(h, sink)
    venue, sleep = Watching("transient", "transient", "fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: each attempt's EXECUTION_STARTED was committed before its first call
    assert committed_at_call == [("submit", 1), ("status", 2), ("submit", 2), ("status", 3), ("submit", 3)]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_the_executor_runs_over_the_harness_sink_with_a_trivial_durable_wait() -> None:
    # Arrange: the harness's in-memory sink holds every staged event; nothing to wait for
    harness = open_harness()
    waited: list[int] = []

    async def durable(sequence: int) -> None:
        waited.append(sequence)

    order, _ = harness.submit()
    executor = Executor(
        harness.core, ScriptedVenue("fill"), RetryPolicy(), durable=durable, clock_us=lambda: harness.now_us
    )

    # Act
    executor.execute(order.order_id)
    await run_to_completion(executor)

    # Assert: every step's last sequence was awaited, in order (the report's events are one step)
    assert harness.event_types()[-3:] == ["EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED"]
    assert waited == [harness.events()[-3].sequence, harness.events()[-1].sequence]
    assert order.status is OrderStatus.EXECUTED


# ====================================================================== a retry never sends twice


async def test_a_retry_after_a_lost_answer_asks_status_and_never_submits_twice(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the order reaches the venue and fills there, but the answer is lost
    order_id = await approved(h, sink, quantity=40, price="99.50")
    venue, sleep = ScriptedVenue("lost-fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: the second attempt asked, the venue answered with the fill, nothing was sent again
    assert venue.methods(order_id) == ["submit", "status"]
    assert len(venue.submitted) == 1
    assert len(venue.orders) == 1
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED", "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED",
    ]  # fmt: skip
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity, order.execution_attempts) == (OrderStatus.EXECUTED, 40, 2)
    assert [f.trade_id for f in order.fills] == [f"x-{order_id[:8]}-1"]
    await assert_replays(h, sink, store)


async def test_a_retry_after_a_lost_answer_of_a_resting_order_leaves_it_working(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the order rests at the venue; the answer to the submit is lost
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("lost-rest"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit", "status"]
    assert h.core.state.orders[order_id].status is OrderStatus.WORKING
    assert working_exposure(h) == Decimal("15000.00")


async def test_a_retry_whose_status_query_fails_does_not_submit_blindly(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the first request is lost, then the status query of attempt 2 fails too
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("transient", "fill", statuses=("transient",)), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: attempt 2 failed on its status query without submitting; attempt 3 asked, then sent
    assert venue.methods(order_id) == ["submit", "status", "status", "submit"]
    assert venue.attempts() == [1, 3]
    assert len(sleep.delays) == 2
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_a_report_that_arrives_during_the_backoff_ends_the_retries(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the answer is lost; the venue reports the order's fill on its own while we wait
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("lost-fill"), RecordingSleep()
    sleep.hold = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)
    executor.execute(order_id)
    await until(lambda: len(sleep.delays) == 1)

    # Act
    venue.emit(venue.reports[order_id])
    sleep.hold.set()
    await run_to_completion(executor)

    # Assert: no second attempt
    assert venue.methods(order_id) == ["submit"]
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED", "ORDER_ACCEPTED", "ORDER_FILLED",
    ]  # fmt: skip
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


# ====================================================================== the circuit breaker


async def test_once_the_breaker_opens_further_orders_fail_fast_without_reaching_the_venue(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    """Was: the failing orders FAILED. Now each is UNKNOWN (its one attempt may have reached the venue)."""
    # Arrange: BREAKER_THRESHOLD orders, one attempt each, all failing
    venue, sleep = ScriptedVenue(*["transient"] * BREAKER_THRESHOLD), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), sleep)
    failing = []
    for i in range(BREAKER_THRESHOLD):
        order_id = await approved(h, sink, symbol=f"F{i}")
        failing.append(order_id)
        executor.execute(order_id)
        await asyncio.sleep(0)
    await until(lambda: len(venue.calls) == BREAKER_THRESHOLD and not executor.in_flight)
    assert [h.core.state.orders[o].status for o in failing] == [OrderStatus.UNKNOWN] * BREAKER_THRESHOLD
    assert h.core.state.breaker.state is BreakerState.OPEN
    late = await approved(h, sink, symbol="LATE")

    # Act
    executor.execute(late)
    await run_to_completion(executor)

    # Assert
    assert len(venue.calls) == BREAKER_THRESHOLD
    assert venue.methods(late) == []
    failed = await last_payload(h, sink, store, late)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.circuit_open, failed.attempts, failed.permanent) == (True, 0, False)
    assert h.core.state.orders[late].status is OrderStatus.FAILED
    assert await order_events(h, sink, store, late) == ["EXECUTION_FAILED"]
    assert "CIRCUIT_BREAKER_OPENED" in [e.event_type for e in await durable_events(h, sink, store)]
    await assert_replays(h, sink, store)


async def test_the_failure_that_opens_the_breaker_makes_the_order_unknown(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: attempts to spare, but the third consecutive failure opens the breaker
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue(*["transient"] * BREAKER_THRESHOLD), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=BREAKER_THRESHOLD + 2), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert: no retry once it opened
    assert venue.attempts() == list(range(1, BREAKER_THRESHOLD + 1))
    assert len(sleep.delays) == BREAKER_THRESHOLD - 1
    unknown = await last_payload(h, sink, store, order_id)
    assert isinstance(unknown, events_pb2.OrderStatusUnknown)
    assert (unknown.attempts, unknown.attempt_failed) == (BREAKER_THRESHOLD, True)
    assert unknown.reason.endswith("circuit breaker opened")
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN
    assert h.core.state.breaker.state is BreakerState.OPEN
    await assert_replays(h, sink, store)


async def test_a_later_attempt_with_the_breaker_open_makes_the_order_unknown_without_a_call(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: every order fails once and waits in its backoff; the last failure opens the breaker
    venue, sleep = ScriptedVenue(*["transient"] * BREAKER_THRESHOLD), RecordingSleep()
    sleep.hold = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)
    orders = [await approved(h, sink, symbol=f"F{i}") for i in range(BREAKER_THRESHOLD)]
    for order_id in orders:
        executor.execute(order_id)
    await until(lambda: h.core.state.breaker.state is BreakerState.OPEN)
    waiting, opener = orders[:-1], orders[-1]

    # Act: the backoffs end while the breaker is still open
    sleep.hold.set()
    await run_to_completion(executor)

    # Assert: the waiting orders' second attempts never reached the venue
    assert len(venue.calls) == BREAKER_THRESHOLD
    for order_id in waiting:
        unknown = await last_payload(h, sink, store, order_id)
        assert isinstance(unknown, events_pb2.OrderStatusUnknown)
        assert (unknown.attempts, unknown.attempt_failed) == (1, False)
        assert unknown.reason.startswith("circuit breaker open")
        assert await order_events(h, sink, store, order_id) == [
            "EXECUTION_STARTED", "EXECUTION_RETRIED", "ORDER_STATUS_UNKNOWN",
        ]  # fmt: skip
    assert [h.core.state.orders[o].status for o in orders] == [OrderStatus.UNKNOWN] * BREAKER_THRESHOLD
    assert h.core.state.orders[opener].status is OrderStatus.UNKNOWN
    assert working_exposure(h) == Decimal("15000.00") * BREAKER_THRESHOLD
    await assert_replays(h, sink, store)


@pytest.mark.parametrize(
    ("probe", "breaker_after", "status_after"),
    [("fill", BreakerState.CLOSED, OrderStatus.EXECUTED), ("transient", BreakerState.OPEN, OrderStatus.UNKNOWN)],
)
async def test_after_the_open_period_one_order_probes_the_venue(
    h: Harness,
    sink: StoreSink,
    store: MemoryEventStore,
    probe: str,
    breaker_after: BreakerState,
    status_after: OrderStatus,
) -> None:
    # Arrange: the breaker opened, then its open period passed
    venue, sleep = ScriptedVenue(*["transient"] * BREAKER_THRESHOLD, probe), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), sleep)
    for i in range(BREAKER_THRESHOLD):
        executor.execute(await approved(h, sink, symbol=f"F{i}"))
        await settle(executor)
    assert h.core.state.breaker.state is BreakerState.OPEN
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    order_id = await approved(h, sink, symbol="PRB")
    mark = h.core.queries.last_applied

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit"]
    types = [e.event_type for e in await durable_events(h, sink, store) if e.sequence > mark]
    assert types[:2] == ["CIRCUIT_BREAKER_HALF_OPENED", "EXECUTION_STARTED"]
    assert types[-1] == ("CIRCUIT_BREAKER_CLOSED" if breaker_after is BreakerState.CLOSED else "CIRCUIT_BREAKER_OPENED")
    assert h.core.state.breaker.state is breaker_after
    assert h.core.state.orders[order_id].status is status_after
    await assert_replays(h, sink, store)


async def test_a_venue_answer_resets_the_breakers_failure_count(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: BREAKER_THRESHOLD orders, one after the other, each failing once then filling
    venue = ScriptedVenue(*["transient", "fill"] * BREAKER_THRESHOLD)
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=2), RecordingSleep())
    orders = [await approved(h, sink, symbol=f"F{i}") for i in range(BREAKER_THRESHOLD)]

    counts: list[int] = []

    # Act
    for order_id in orders:
        executor.execute(order_id)
        await settle(executor)
        counts.append(h.core.state.breaker.consecutive_failures)
    await run_to_completion(executor)

    # Assert: the failures were never consecutive, so the breaker never opened (today the third
    # order's failure opens it and that order ends UNKNOWN); each success ended the run of failures
    assert [h.core.state.orders[o].status for o in orders] == [OrderStatus.EXECUTED] * BREAKER_THRESHOLD
    assert h.core.state.breaker.state is BreakerState.CLOSED
    assert counts == [0] * BREAKER_THRESHOLD
    await assert_replays(h, sink, store)


# ====================================================================== unsolicited reports


async def test_an_unsolicited_report_is_applied_at_once(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange: a resting order
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    assert h.core.state.orders[order_id].status is OrderStatus.WORKING

    # Act: the market reaches it (no await between the report and the assertions)
    venue.fill_resting(order_id, 30)

    # Assert
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 30)
    assert order.fills[0].aggressor is False
    assert working_exposure(h) == Decimal("10500.00")  # 70 @ 150.00 still reserved
    venue.fill_resting(order_id, 70)
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert venue.methods(order_id) == ["submit"]
    await run_to_completion(executor)
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED", "ORDER_FILLED",
    ]  # fmt: skip
    await assert_replays(h, sink, store)


async def test_the_same_report_applied_twice_records_nothing_the_second_time(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: a resting order, partly filled by an unsolicited report
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    report = venue.fill_resting(order_id, 30)
    before = len(await durable_events(h, sink, store))

    # Act: the venue repeats it, and a call's answer carries it again
    venue.emit(report)
    again = h.core.execution.report(order_id, report, venue.name, h.now_us)

    # Assert
    assert again is None
    assert len(await durable_events(h, sink, store)) == before
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 30)
    await run_to_completion(executor)


async def test_an_unsolicited_report_for_an_unknown_order_is_applied_and_resolves_it(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: an UNKNOWN order that in fact rests at the venue
    order_id = await approved(h, sink)
    venue = ScriptedVenue("lost-rest")
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN

    # Act
    venue.fill_resting(order_id, 100)

    # Assert
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert working_exposure(h) == 0
    await run_to_completion(executor)
    await assert_replays(h, sink, store)


async def test_reports_for_orders_the_desk_does_not_have_or_after_drain_are_ignored(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    before = h.core.queries.last_applied

    # Act
    venue.emit(ExecutionReport("no-such-order", VenueOrderState.FILLED, (Fill(1, Decimal(1), "x-stray"),)))
    await executor.drain(timeout=1.0)
    venue.fill_resting(order_id, 100)

    # Assert
    assert h.core.queries.last_applied == before
    assert h.core.state.orders[order_id].status is OrderStatus.WORKING


async def test_a_report_that_overtakes_the_submits_answer_is_not_counted_twice(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the order rests at the venue and fills 30 there; the venue reports that before
    # the submit's answer (which carries the same fill) comes back
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    venue.gates["submit"] = gate = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await venue.entered.wait()
    (sent,) = venue.submitted
    venue.orders[order_id] = sent  # the venue has it; its answer is on the way
    venue.know(order_id, VenueOrderState.WORKING)
    report = venue.fill_resting(order_id, 30)
    assert h.core.state.orders[order_id].status is OrderStatus.PARTIALLY_FILLED

    # Act
    gate.set()
    await run_to_completion(executor)

    # Assert
    assert await order_events(h, sink, store, order_id) == ["EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED"]
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 30)
    assert [f.trade_id for f in order.fills] == [f.execution_id for f in report.fills]
    await assert_replays(h, sink, store)


# ====================================================================== cancels


async def test_cancel_of_a_working_order_goes_pending_then_cancelled_keeping_the_venues_fills(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: a resting order that filled 25 at the venue, a fill the desk has not heard of yet
    order_id = await approved(h, sink, quantity=100, price="150.00")
    venue, sleep = ScriptedVenue("rest"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)
    executor.execute(order_id)
    await settle(executor)
    venue.fill_resting(order_id, 25, report=False)

    # Act
    order, committed = h.cancel(order_id, reason="enough")
    assert committed is not None
    assert order.status is OrderStatus.PENDING_CANCEL
    assert working_exposure(h) == Decimal("15000.00")  # it may still fill until the venue answers
    await sink.durable(committed.last_sequence)
    executor.cancel(order_id)
    await run_to_completion(executor)

    # Assert: the cancel's answer brought the fill, then closed the rest
    assert venue.methods(order_id) == ["submit", "cancel"]
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_CANCEL_REQUESTED", "ORDER_FILLED", "ORDER_CANCELLED",
    ]  # fmt: skip
    cancelled = await last_payload(h, sink, store, order_id)
    assert isinstance(cancelled, events_pb2.OrderCancelled)
    assert (cancelled.quantity, cancelled.reason) == (75, "cancelled on request")
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 25)
    assert working_exposure(h) == 0
    assert h.core.queries.positions("AAPL")[0].quantity == 25
    assert h.core.queries.in_doubt() == []
    await assert_replays(h, sink, store)


async def test_a_pending_cancel_of_an_order_that_filled_meanwhile_ends_executed(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the order filled whole at the venue before the cancel reached it
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    venue.fill_resting(order_id, 100, report=False)
    h.cancel(order_id)

    # Act
    executor.cancel(order_id)
    await run_to_completion(executor)

    # Assert
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_CANCEL_REQUESTED", "ORDER_FILLED",
    ]  # fmt: skip
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    await assert_replays(h, sink, store)


async def test_a_partial_unsolicited_fill_then_a_cancel(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange: a resting order the market fills 40 of, reported by the venue
    order_id = await approved(h, sink, quantity=100, price="150.00")
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    venue.fill_resting(order_id, 40)
    assert h.core.state.orders[order_id].status is OrderStatus.PARTIALLY_FILLED

    # Act
    order, _ = h.cancel(order_id)
    assert order.status is OrderStatus.PENDING_CANCEL
    executor.cancel(order_id)
    await run_to_completion(executor)

    # Assert: the fill is counted once, the 60 open are cancelled
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_FILLED", "ORDER_CANCEL_REQUESTED", "ORDER_CANCELLED",
    ]  # fmt: skip
    (cancelled,) = await payloads(h, sink, store, "ORDER_CANCELLED", order_id)
    assert cancelled.quantity == 60
    (requested,) = await payloads(h, sink, store, "ORDER_CANCEL_REQUESTED", order_id)
    assert requested.previous_status == common_pb2.ORDER_STATUS_PARTIALLY_FILLED
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 40)
    assert working_exposure(h) == 0
    assert h.core.queries.positions("AAPL")[0].quantity == 40
    await assert_replays(h, sink, store)


async def test_a_cancel_during_an_in_flight_send_is_sent_after_the_answer_never_overlapping(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the submit is held at the venue
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    venue.gates["submit"] = gate = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await venue.entered.wait()

    # Act: the cancel arrives while the order is EXECUTING
    order, committed = h.cancel(order_id)
    assert committed is not None
    assert order.status is OrderStatus.PENDING_CANCEL
    await sink.durable(committed.last_sequence)
    executor.cancel(order_id)
    await spin()

    # Assert: nothing goes to the venue while the send is unanswered; the same driver does it after
    assert venue.methods(order_id) == ["submit"]
    assert executor.in_flight == 1
    gate.set()
    await run_to_completion(executor)
    assert venue.methods(order_id) == ["submit", "cancel"]
    assert venue.overlaps == []
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_CANCEL_REQUESTED", "ORDER_ACCEPTED", "ORDER_CANCELLED",
    ]  # fmt: skip
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED
    assert working_exposure(h) == 0
    await assert_replays(h, sink, store)


async def test_a_cancel_during_a_backoff_ends_the_retries_and_cancels_at_the_venue(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the first submit's answer is lost (the order rests at the venue); it waits to retry
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("lost-rest"), RecordingSleep()
    sleep.hold = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)
    executor.execute(order_id)
    await until(lambda: len(sleep.delays) == 1)

    # Act
    h.cancel(order_id)
    executor.cancel(order_id)
    sleep.hold.set()
    await run_to_completion(executor)

    # Assert: no second attempt; the cancel went after the backoff, by the same driver
    assert venue.methods(order_id) == ["submit", "cancel"]
    assert venue.overlaps == []
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED", "ORDER_CANCEL_REQUESTED", "ORDER_ACCEPTED", "ORDER_CANCELLED",
    ]  # fmt: skip
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED
    await assert_replays(h, sink, store)


async def test_a_cancel_of_an_unknown_order_is_sent_to_the_venue(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: UNKNOWN (the answer was lost; the order rests at the venue)
    order_id = await approved(h, sink)
    venue = ScriptedVenue("lost-rest")
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN

    # Act
    order, _ = h.cancel(order_id)
    assert order.status is OrderStatus.PENDING_CANCEL
    executor.cancel(order_id)
    await run_to_completion(executor)

    # Assert
    assert venue.methods(order_id) == ["submit", "cancel"]
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED
    assert working_exposure(h) == 0
    await assert_replays(h, sink, store)


async def test_a_cancel_that_fails_transiently_is_retried_and_the_order_stays_pending_meanwhile(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("rest", cancels=("transient",)), RecordingSleep()
    sleep.hold = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)
    executor.execute(order_id)
    await settle(executor)
    h.cancel(order_id)

    # Act
    executor.cancel(order_id)
    await until(lambda: len(sleep.delays) == 1)

    # Assert: PENDING_CANCEL while it waits (not UNKNOWN: the order is known to be at the venue)
    assert h.core.state.orders[order_id].status is OrderStatus.PENDING_CANCEL
    assert h.core.queries.in_doubt() == [order_id]
    sleep.hold.set()
    await run_to_completion(executor)
    assert venue.methods(order_id) == ["submit", "cancel", "cancel"]
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_CANCEL_REQUESTED", "EXECUTION_RETRIED", "ORDER_CANCELLED",
    ]  # fmt: skip
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED


async def test_a_cancel_the_venue_refuses_asks_its_status_instead(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the order filled at the venue unbeknown to the desk; the venue refuses the cancel
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest", cancels=("permanent",))
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    venue.fill_resting(order_id, 100, report=False)
    h.cancel(order_id)

    # Act
    executor.cancel(order_id)
    await run_to_completion(executor)

    # Assert: the status query's answer settled it
    assert venue.methods(order_id) == ["submit", "cancel", "status"]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_a_fill_reported_while_the_cancel_is_in_flight_is_counted_once(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: a resting order; its cancel is held at the venue
    order_id = await approved(h, sink)
    venue = ScriptedVenue("rest")
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    h.cancel(order_id)
    venue.gates["cancel"] = gate = asyncio.Event()
    executor.cancel(order_id)
    await until(lambda: venue.methods(order_id) == ["submit", "cancel"])

    # Act: the market fills 50 before the cancel is processed, and the venue reports it
    venue.fill_resting(order_id, 50)
    assert h.core.state.orders[order_id].status is OrderStatus.PENDING_CANCEL  # still pending
    gate.set()
    await run_to_completion(executor)

    # Assert: the cancel's answer repeats the fill; only the close is new
    assert await order_events(h, sink, store, order_id) == [
        "EXECUTION_STARTED", "ORDER_ACCEPTED", "ORDER_CANCEL_REQUESTED", "ORDER_FILLED", "ORDER_CANCELLED",
    ]  # fmt: skip
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 50)
    (cancelled,) = await payloads(h, sink, store, "ORDER_CANCELLED", order_id)
    assert cancelled.quantity == 50
    assert working_exposure(h) == 0
    await assert_replays(h, sink, store)


# ====================================================================== reconciliation


@pytest.mark.parametrize(
    ("at_venue", "status_after", "exposure_after"),
    [
        ("lost-rest", OrderStatus.WORKING, Decimal("15000.00")),
        ("lost-fill", OrderStatus.EXECUTED, Decimal(0)),
        ("transient", OrderStatus.FAILED, Decimal(0)),
    ],
    ids=["resting-there", "filled-there", "never-arrived"],
)
async def test_reconcile_resolves_an_unknown_order_from_the_venues_status(
    h: Harness,
    sink: StoreSink,
    store: MemoryEventStore,
    at_venue: str,
    status_after: OrderStatus,
    exposure_after: Decimal,
) -> None:
    # Arrange: UNKNOWN after its one attempt
    order_id = await approved(h, sink)
    venue = ScriptedVenue(at_venue)
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN

    # Act
    await executor.reconcile([order_id], timeout=5.0)

    # Assert
    assert venue.methods(order_id) == ["submit", "status"]
    assert len(venue.submitted) == 1  # reconciliation never sends
    assert h.core.state.orders[order_id].status is status_after
    assert working_exposure(h) == exposure_after
    assert h.core.queries.in_doubt() == []
    if status_after is OrderStatus.FAILED:
        failed = await last_payload(h, sink, store, order_id)
        assert isinstance(failed, events_pb2.ExecutionFailed)
        assert "never arrived" in failed.reason
        assert failed.permanent
    await run_to_completion(executor)
    await assert_replays(h, sink, store)


async def test_reconcile_after_a_restart_resolves_executing_and_working_orders(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the log as a stop left it - one order sent (EXECUTING), two working at the venue
    sent, filled, gone = [await approved(h, sink, symbol=s) for s in ("EXEC", "DONE", "CNCL")]
    steps = h.core.execution
    for order_id in (sent, filled, gone):
        _, committed = steps.begin_attempt(order_id, 1, "scripted", h.now_us)
        assert committed is not None
    for order_id in (filled, gone):
        steps.report(order_id, ExecutionReport(order_id, VenueOrderState.WORKING), "scripted", h.now_us)
    venue = ScriptedVenue()  # a new session
    venue.know(sent, VenueOrderState.FILLED, (100, "150.00"))
    venue.know(filled, VenueOrderState.WORKING, (60, "150.00"))
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())

    # Act
    await executor.reconcile([sent, filled, gone], timeout=5.0)

    # Assert: the venue's answers applied; one it has no record of was cancelled (its session ended)
    orders = h.core.state.orders
    assert (orders[sent].status, orders[sent].filled_quantity) == (OrderStatus.EXECUTED, 100)
    assert (orders[filled].status, orders[filled].filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 60)
    assert orders[gone].status is OrderStatus.CANCELLED
    (cancelled,) = await payloads(h, sink, store, "ORDER_CANCELLED", gone)
    assert "no record" in cancelled.reason
    assert cancelled.quantity == 100
    assert [m for m, _, _ in venue.calls] == ["status"] * 3
    assert working_exposure(h) == Decimal("6000.00")  # the 40 open of `filled`
    await run_to_completion(executor)
    await assert_replays(h, sink, store)


async def test_reconcile_of_an_executing_order_the_venue_never_got_fails_it(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    h.core.execution.begin_attempt(order_id, 1, "scripted", h.now_us)
    executor = make_executor(h, sink, ScriptedVenue(), RetryPolicy(), RecordingSleep())

    # Act
    await executor.reconcile([order_id], timeout=5.0)

    # Assert
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED
    assert working_exposure(h) == 0
    await run_to_completion(executor)


async def test_a_status_query_failing_in_reconciliation_makes_an_executing_order_unknown(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: an order sent before a stop; the venue cannot answer now
    order_id = await approved(h, sink)
    h.core.execution.begin_attempt(order_id, 1, "scripted", h.now_us)
    venue = ScriptedVenue(statuses=("transient", "transient"))
    executor = make_executor(h, sink, venue, RetryPolicy(), RecordingSleep())

    # Act
    await executor.reconcile([order_id], timeout=5.0)

    # Assert: in doubt, still reserved, the breaker not counting a status query
    unknown = await last_payload(h, sink, store, order_id)
    assert isinstance(unknown, events_pb2.OrderStatusUnknown)
    assert (unknown.attempts, unknown.attempt_failed) == (1, False)
    assert unknown.reason == "status query failed: scripted: connection reset"
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN
    assert working_exposure(h) == Decimal("15000.00")
    assert h.core.state.breaker.consecutive_failures == 0
    assert h.core.queries.in_doubt() == [order_id]

    # and asking again while it still cannot answer records nothing more
    before = h.core.queries.last_applied
    await executor.reconcile([order_id], timeout=5.0)
    assert h.core.queries.last_applied == before
    await run_to_completion(executor)
    await assert_replays(h, sink, store)


async def test_reconcile_waits_at_most_its_timeout(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange: an order sent before a stop; the venue never answers the status query
    order_id = await approved(h, sink)
    h.core.execution.begin_attempt(order_id, 1, "scripted", h.now_us)
    venue = ScriptedVenue(statuses=("hang",))
    executor = make_executor(h, sink, venue, RetryPolicy(attempt_timeout=60.0), RecordingSleep())

    # Act
    await executor.reconcile([order_id], timeout=0.01)

    # Assert: the query goes on after reconcile returned; drain abandons it, the order as it was
    assert executor.in_flight == 1
    await executor.drain(timeout=0.01)
    assert (executor.in_flight, venue.cancelled) == (0, 1)
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTING


async def test_start_runs_the_venue_and_reconciles_orders_in_doubt(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: an UNKNOWN order that rests at the venue
    order_id = await approved(h, sink)
    venue = ScriptedVenue("lost-rest")
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), RecordingSleep(), reconcile_seconds=0.001)
    executor.execute(order_id)
    await settle(executor)

    # Act
    executor.start()
    await until(lambda: h.core.state.orders[order_id].status is OrderStatus.WORKING)

    # Assert
    assert venue.ran
    assert venue.methods(order_id)[:2] == ["submit", "status"]
    await run_to_completion(executor)


# ====================================================================== found by these tests, fixed


async def _cancel_in_flight_then_filled(h: Harness, sink: StoreSink, venue: ScriptedVenue) -> tuple[str, Executor]:
    """A WORKING order whose cancel call is held at the venue, is filled whole (reported by the
    venue on its own) and then fails transiently."""
    order_id = await approved(h, sink)
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), RecordingSleep())
    executor.execute(order_id)
    await settle(executor)
    h.cancel(order_id)
    venue.gates["cancel"] = gate = asyncio.Event()
    executor.cancel(order_id)
    await until(lambda: venue.methods(order_id) == ["submit", "cancel"])
    venue.fill_resting(order_id, 100)
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    gate.set()
    await run_to_completion(executor)
    return order_id, executor


async def test_a_cancel_failing_after_an_unsolicited_final_fill_records_nothing_the_fold_refuses(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange / Act: the cancel call fails after the order filled
    venue = ScriptedVenue("rest", cancels=("transient",))
    order_id, _ = await _cancel_in_flight_then_filled(h, sink, venue)

    # Assert: the order is EXECUTED and the log replays
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert (await order_events(h, sink, store, order_id))[-1] == "ORDER_FILLED"
    await assert_replays(h, sink, store)


async def test_a_send_failing_after_an_unsolicited_final_fill_records_nothing_the_fold_refuses(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: the submit is held; the venue reports the order's fill on its own meanwhile
    order_id = await approved(h, sink)
    venue = ScriptedVenue("lost-fill")
    venue.gates["submit"] = gate = asyncio.Event()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), RecordingSleep())
    executor.execute(order_id)
    await venue.entered.wait()
    fill = Fill(100, Decimal("150.00"), f"x-{order_id[:8]}-1")
    venue.emit(ExecutionReport(order_id, VenueOrderState.FILLED, (fill,)))
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED

    # Act: then the submit's answer is lost
    gate.set()
    await run_to_completion(executor)

    # Assert
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert (await order_events(h, sink, store, order_id))[-1] == "ORDER_FILLED"
    await assert_replays(h, sink, store)
