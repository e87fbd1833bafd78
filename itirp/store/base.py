"""The event store contract every backend follows (memory and SQLite now, PostgreSQL later).

Kept deliberately small: append (group-committed, durable before acknowledged), read by
sequence, one filtered query, a chain walk, and commit listeners for live streams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from itirp.store.errors import StoreError
from itirp.store.records import NewEvent, StoredEvent, VerifyResult

__all__ = [
    "CommitListener",
    "EventQuery",
    "EventStore",
    "by_correlation",
    "by_order",
    "query_sql",
]

CommitListener = Callable[[list[StoredEvent]], None]
"""Called on the event loop thread with each durable batch, in sequence order. Must not block
and must not mutate the list (every listener gets the same one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """Which events a `query` returns and in which direction.

    Field filters: an empty value means "no filter"; every set one must match.
    Time: `start_us` inclusive, `end_us` exclusive, None is open.
    Paging: `after_sequence` set → ascending, sequence > it; `before_sequence` set → descending,
    sequence < it; neither → descending from the head (newest first). Not both.
    """

    event_types: frozenset[str] = frozenset()
    user_id: str = ""
    order_id: str = ""
    symbol: str = ""
    correlation_id: str = ""
    start_us: int | None = None
    end_us: int | None = None
    after_sequence: int | None = None
    before_sequence: int | None = None

    def __post_init__(self) -> None:
        if self.after_sequence is not None and self.before_sequence is not None:
            raise ValueError("EventQuery: after_sequence and before_sequence are exclusive")
        if not isinstance(self.event_types, frozenset):
            object.__setattr__(self, "event_types", frozenset(self.event_types))

    @property
    def ascending(self) -> bool:
        return self.after_sequence is not None

    def matches(self, ev: StoredEvent) -> bool:
        """Whether `ev` passes the field and time filters (paging bounds are not checked).

        Backends that cannot push a filter down, and live subscriptions, use this.
        """
        return (
            (not self.event_types or ev.event_type in self.event_types)
            and (not self.user_id or ev.user_id == self.user_id)
            and (not self.order_id or ev.order_id == self.order_id)
            and (not self.symbol or ev.symbol == self.symbol)
            and (not self.correlation_id or ev.correlation_id == self.correlation_id)
            and (self.start_us is None or ev.timestamp_us >= self.start_us)
            and (self.end_us is None or ev.timestamp_us < self.end_us)
        )


@runtime_checkable
class EventStore(Protocol):
    """A durable, gapless, hash-chained event log with group commit.

    `append` assigns sequences and hashes synchronously, in call order, and returns a future
    that resolves only once the events are committed to disk. Reads only return events that
    are committed *and* already announced to listeners (sequence <= `head_sequence`), which
    makes "read the backlog, then follow listeners" gapless without double delivery.
    """

    async def open(self) -> None:
        """Create the schema or recover; load the head (not a full chain walk)."""
        ...

    async def close(self) -> None:
        """Commit what is pending, then release everything."""
        ...

    @property
    def head_sequence(self) -> int:
        """Last committed sequence; 0 when empty."""
        ...

    @property
    def head_hash(self) -> str:
        """Hash of the last committed event; `GENESIS_HASH` when empty."""
        ...

    @property
    def failed(self) -> bool:
        """True once a commit failed; every later append fails with StoreError."""
        ...

    def refusal(self) -> StoreError | None:
        """The `StoreError` an append would fail with now (failed, read-only, not open), or None."""
        ...

    def append(self, events: Sequence[NewEvent]) -> Awaitable[list[StoredEvent]]:
        """Assign sequences now; resolve when durable (StoreError if the commit failed)."""
        ...

    async def read(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Ascending, sequence > `after`, at most `limit`."""
        ...

    async def query(self, *, filter: EventQuery, limit: int) -> list[StoredEvent]:
        """Filtered page; direction per `EventQuery`."""
        ...

    async def verify(self) -> VerifyResult:
        """Walk the whole stored chain."""
        ...

    def add_listener(self, listener: CommitListener) -> None: ...

    def remove_listener(self, listener: CommitListener) -> None: ...


def query_sql(
    select: str,
    flt: EventQuery,
    limit: int,
    head: int,
    *,
    mark: str,
    any_type: Callable[[list[str]], tuple[str, list[Any]]],
) -> tuple[str, list[Any]]:
    """The SQL of one `EventQuery` page over the events table, for the SQL backends: `mark` is the
    driver's placeholder (`?`, `%s`), `any_type` the clause and arguments of "event_type is one of"
    (an IN list, or `= ANY(array)`). Never past `head`: reads never run ahead of the listeners."""
    where = [f"sequence <= {mark}"]
    args: list[Any] = [head]
    if flt.event_types:
        clause, values = any_type(sorted(flt.event_types))
        where.append(clause)
        args.extend(values)
    for column, value in (
        ("user_id", flt.user_id),
        ("order_id", flt.order_id),
        ("symbol", flt.symbol),
        ("correlation_id", flt.correlation_id),
    ):
        if value:
            where.append(f"{column} = {mark}")
            args.append(value)
    for clause, bound in (("timestamp_us >=", flt.start_us), ("timestamp_us <", flt.end_us)):
        if bound is not None:
            where.append(f"{clause} {mark}")
            args.append(bound)
    if flt.after_sequence is not None:
        where.append(f"sequence > {mark}")
        args.append(flt.after_sequence)
        order = "ASC"
    else:
        if flt.before_sequence is not None:
            where.append(f"sequence < {mark}")
            args.append(flt.before_sequence)
        order = "DESC"
    args.append(limit)
    return f"{select} WHERE {' AND '.join(where)} ORDER BY sequence {order} LIMIT {mark}", args


async def _all_ascending(store: EventStore, flt: EventQuery, page_size: int) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    after = 0
    while True:
        page = await store.query(
            filter=EventQuery(
                order_id=flt.order_id, correlation_id=flt.correlation_id, after_sequence=after
            ),
            limit=page_size,
        )
        out.extend(page)
        if len(page) < page_size:
            return out
        after = page[-1].sequence


async def by_correlation(
    store: EventStore, correlation_id: str, *, page_size: int = 1000
) -> list[StoredEvent]:
    """Every event of one correlation id, ascending (empty list when there are none)."""
    if not correlation_id:
        raise ValueError("correlation_id is required")
    return await _all_ascending(store, EventQuery(correlation_id=correlation_id), page_size)


async def by_order(store: EventStore, order_id: str, *, page_size: int = 1000) -> list[StoredEvent]:
    """Every event of one order, ascending (empty list when there are none)."""
    if not order_id:
        raise ValueError("order_id is required")
    return await _all_ascending(store, EventQuery(order_id=order_id), page_size)
