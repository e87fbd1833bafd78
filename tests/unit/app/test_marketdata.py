"""The market data hub alone, driven by hand-made level changes and fake commits."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itirp.app.marketdata import (
    BookSnapshot,
    BookSubscription,
    BookUpdate,
    Heartbeat,
    MarketDataHub,
)
from itirp.domain.book import BUY, SELL, LevelChange
from itirp.errors import Unauthenticated, Unavailable


class Log:
    """Stands in for the event store: assigns sequences, commits up to a point, tells the hub."""

    def __init__(self, head: int = 0, **hub_options: int) -> None:
        self.head = head
        self.tail = head
        self.hub = MarketDataHub(lambda: self.head, **hub_options)

    def event(self, symbol: str, *changes: tuple[str, str, int]) -> int:
        """One event changing `symbol`'s book, recorded like the core does: before it is durable."""
        self.tail += 1
        self.hub.record(self.tail, self.tail * 1000, symbol, [LevelChange(s, Decimal(p), q) for s, p, q in changes])
        return self.tail

    def commit(self, upto: int | None = None) -> None:
        upto = self.tail if upto is None else upto
        assert self.head < upto <= self.tail
        self.head = upto  # as the store does: the head moves, then the listeners run
        self.hub.on_commit([SimpleNamespace(sequence=upto)])  # type: ignore[list-item]


class Client:
    """What a client of StreamOrderBook does: replace on a snapshot, apply updates, check the chain."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, int] = {}
        self.asks: dict[Decimal, int] = {}
        self.sequence: int | None = None
        self.snapshots = 0

    def apply(self, item: BookSnapshot | BookUpdate) -> None:
        if isinstance(item, BookSnapshot):
            self.bids, self.asks = dict(item.bids), dict(item.asks)
            self.sequence = item.sequence
            self.snapshots += 1
            return
        assert self.sequence is not None, "an update before the first snapshot"
        assert item.previous_sequence == self.sequence, "gap in the update chain"
        assert item.sequence > item.previous_sequence
        assert item.levels, "an update that changes nothing"
        for side, price, quantity in item.levels:
            levels = self.bids if side == BUY else self.asks
            if quantity:
                levels[price] = quantity
            else:
                assert price in levels, "removal of a level the client does not have"
                del levels[price]
        self.sequence = item.sequence

    def book(self) -> tuple[tuple[tuple[Decimal, int], ...], tuple[tuple[Decimal, int], ...]]:
        return tuple(sorted(self.bids.items(), reverse=True)), tuple(sorted(self.asks.items()))


def levels(*pairs: tuple[str, int]) -> tuple[tuple[Decimal, int], ...]:
    return tuple((Decimal(p), q) for p, q in pairs)


# --- durability ---------------------------------------------------------------------------------


def test_nothing_is_shown_before_it_commits() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100.00", 5))
    assert log.hub.pending_changes == 1
    empty = log.hub.snapshot("AAPL", 10)
    assert (empty.bids, empty.asks, empty.sequence, empty.event_sequence, empty.timestamp_us) == ((), (), 0, 0, 0)

    log.commit()
    book = log.hub.snapshot("AAPL", 10)
    assert book.bids == levels(("100.00", 5))
    assert (book.sequence, book.event_sequence, book.timestamp_us, book.depth) == (1, 1, 1000, 10)
    assert log.hub.pending_changes == 0


def test_a_commit_shows_only_what_it_made_durable() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100", 5))
    second = log.event("AAPL", (SELL, "101", 7))
    log.event("AAPL", (BUY, "100", 9))
    log.commit(second)
    book = log.hub.snapshot("AAPL", 10)
    assert (book.bids, book.asks, book.sequence, book.event_sequence) == (levels(("100", 5)), levels(("101", 7)), 2, 2)
    log.commit()
    assert log.hub.snapshot("AAPL", 10).bids == levels(("100", 9))


def test_a_commit_of_other_events_shows_nothing_new() -> None:
    log = Log()
    log.tail = 3  # events 1-3 changed no book
    log.event("AAPL", (BUY, "100", 5))
    log.commit(3)
    assert log.hub.snapshot("AAPL", 10).sequence == 0
    log.commit()
    assert log.hub.snapshot("AAPL", 10).event_sequence == 4


def test_replayed_changes_are_shown_at_once() -> None:
    log = Log(head=10)  # the store already holds events 1-10: the core replays them
    log.tail = 0
    for _ in range(3):
        log.event("AAPL", (SELL, "101.5", 4))
    book = log.hub.snapshot("AAPL", 10)
    assert (book.asks, book.sequence, book.event_sequence, book.timestamp_us) == (levels(("101.5", 4)), 3, 3, 3000)
    assert log.hub.pending_changes == 0


def test_a_durable_change_never_overtakes_one_still_held() -> None:
    # The head may move past a held change before the hub's listener has run (another listener
    # first): a change recorded meanwhile waits its turn rather than being applied out of order.
    log = Log()
    log.event("AAPL", (BUY, "100", 5))
    log.head = 2
    log.event("AAPL", (BUY, "100", 8))
    assert log.hub.snapshot("AAPL", 10).sequence == 0
    log.hub.on_commit([SimpleNamespace(sequence=2)])  # type: ignore[list-item]
    book = log.hub.snapshot("AAPL", 10)
    assert (book.bids, book.sequence) == (levels(("100", 8)), 2)


# --- versions and snapshots ----------------------------------------------------------------------


def test_the_version_grows_by_one_per_change_batch_and_per_symbol() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100", 5), (BUY, "99", 5), (SELL, "101", 1))  # one event, three levels
    log.event("MSFT", (BUY, "300", 1))
    log.event("AAPL", (BUY, "100", 0))
    log.commit()
    assert log.hub.snapshot("AAPL", 10).sequence == 2
    assert log.hub.snapshot("MSFT", 10).sequence == 1
    assert log.hub.symbols() == ["AAPL", "MSFT"]


def test_snapshot_is_best_first_and_limited_to_the_depth() -> None:
    log = Log()
    for price in ("99.5", "101", "100", "98.25"):
        log.event("AAPL", (BUY, price, 1))
    for price in ("103", "102.75", "104"):
        log.event("AAPL", (SELL, price, 2))
    log.event("AAPL", (BUY, "101", 0))  # a level gone
    log.commit()
    book = log.hub.snapshot("AAPL", 2)
    assert book.bids == levels(("100", 1), ("99.5", 1))
    assert book.asks == levels(("102.75", 2), ("103", 2))
    assert book.depth == 2
    full = log.hub.snapshot("AAPL", 1000)
    assert full.bids == levels(("100", 1), ("99.5", 1), ("98.25", 1))
    assert len(full.asks) == 3


def test_an_unknown_symbol_is_an_empty_book() -> None:
    hub = MarketDataHub(lambda: 0)
    book = hub.snapshot("NEW", 5)
    assert (book.symbol, book.bids, book.asks, book.sequence, book.depth) == ("NEW", (), (), 0, 5)
    with pytest.raises(ValueError, match="depth"):
        hub.snapshot("NEW", 0)


def test_equal_prices_written_differently_are_one_level() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100.0500", 5))
    log.event("AAPL", (BUY, "100.05", 7))
    log.commit()
    assert log.hub.snapshot("AAPL", 10).bids == levels(("100.05", 7))


# --- depth-limited subscriptions ----------------------------------------------------------------


def test_a_subscriber_gets_a_snapshot_then_the_changes_in_its_view() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100", 5), (SELL, "101", 5))
    log.commit()
    sub = log.hub.subscribe("AAPL", 2)
    (first,) = sub.poll()
    assert isinstance(first, BookSnapshot)
    assert first.sequence == 1
    assert first.bids == levels(("100", 5))
    assert sub.poll() == []

    log.event("AAPL", (BUY, "99", 3))
    assert sub.poll() == []  # not durable yet
    log.commit()
    (update,) = sub.poll()
    assert update == BookUpdate("AAPL", 2, 1, (LevelChange(BUY, Decimal(99), 3),), 2, 2000)


def test_levels_pushed_out_of_view_go_to_zero_and_levels_entering_come_in() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100", 1), (BUY, "99", 2), (BUY, "98", 3))
    log.commit()
    sub = log.hub.subscribe("AAPL", 2)
    client = Client()
    for item in sub.poll():
        client.apply(item)
    assert client.book()[0] == levels(("100", 1), ("99", 2))

    log.event("AAPL", (BUY, "101", 4))  # better: 99 leaves the view
    log.commit()
    (update,) = sub.poll()
    assert set(update.levels) == {LevelChange(BUY, Decimal(101), 4), LevelChange(BUY, Decimal(99), 0)}
    client.apply(update)

    log.event("AAPL", (BUY, "101", 0))  # gone: 99 comes back into view
    log.commit()
    (update,) = sub.poll()
    assert set(update.levels) == {LevelChange(BUY, Decimal(101), 0), LevelChange(BUY, Decimal(99), 2)}
    client.apply(update)
    assert client.book()[0] == log.hub.snapshot("AAPL", 2).bids


def test_a_change_outside_a_full_view_sends_nothing_and_keeps_the_chain() -> None:
    log = Log()
    log.event("AAPL", (SELL, "101", 1), (SELL, "102", 1))
    log.commit()
    sub = log.hub.subscribe("AAPL", 2)
    client = Client()
    for item in sub.poll():
        client.apply(item)
    log.event("AAPL", (SELL, "103", 5))
    log.event("AAPL", (SELL, "104", 5))
    log.event("AAPL", (SELL, "103", 0))
    log.commit()
    assert sub.poll() == []
    log.event("AAPL", (SELL, "101", 3))
    log.commit()
    (update,) = sub.poll()
    assert (update.previous_sequence, update.sequence) == (1, 5)
    client.apply(update)


def test_several_events_in_one_commit_make_one_update_per_view() -> None:
    log = Log()
    sub = log.hub.subscribe("AAPL", 10)
    client = Client()
    for item in sub.poll():
        client.apply(item)
    for price in ("100", "99", "98"):
        log.event("AAPL", (BUY, price, 1))
    log.commit()
    (update,) = sub.poll()
    assert (update.previous_sequence, update.sequence, update.event_sequence) == (0, 3, 3)
    client.apply(update)
    assert client.book() == (levels(("100", 1), ("99", 1), ("98", 1)), ())


def test_subscribers_of_other_depths_and_symbols_are_independent() -> None:
    log = Log()
    deep, shallow, other = log.hub.subscribe("AAPL", 3), log.hub.subscribe("AAPL", 1), log.hub.subscribe("MSFT", 1)
    clients = {id(s): Client() for s in (deep, shallow, other)}
    for step in range(20):
        log.event("AAPL", (BUY, str(100 - step % 5), step % 3))
        log.commit()
        for sub in (deep, shallow, other):
            for item in sub.poll():
                clients[id(sub)].apply(item)
            assert clients[id(sub)].book() == _view(log.hub.snapshot(sub.symbol, sub.depth))
    assert clients[id(other)].sequence == 0
    assert log.hub.subscriber_count == 3
    for sub in (deep, shallow, other):
        sub.close()
        sub.close()
    assert log.hub.subscriber_count == 0


def test_a_slow_subscriber_is_conflated_to_a_fresh_snapshot() -> None:
    log = Log(max_queue=3)
    sub = log.hub.subscribe("AAPL", 5)
    client = Client()
    for item in sub.poll():
        client.apply(item)
    for step in range(10):  # one update each, never read
        log.event("AAPL", (BUY, str(100 + step), 1))
        log.commit()
        assert sub.queued <= 3
    items = sub.poll()
    assert len(items) == 1
    assert isinstance(items[0], BookSnapshot)
    assert items[0].sequence == 10
    client.apply(items[0])
    log.event("AAPL", (BUY, "109", 2))
    log.commit()
    (update,) = sub.poll()
    assert update.previous_sequence == 10
    client.apply(update)
    assert client.book() == _view(log.hub.snapshot("AAPL", 5))


def _view(snapshot: BookSnapshot) -> tuple[tuple[tuple[Decimal, int], ...], tuple[tuple[Decimal, int], ...]]:
    return snapshot.bids, snapshot.asks


_PRICES = st.sampled_from([Decimal(n) / 4 for n in range(400, 408)])  # 100.00 .. 101.75
_CHANGE = st.tuples(st.sampled_from([BUY, SELL]), _PRICES, st.sampled_from([0, 0, 1, 2, 5]))
_STEP = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["AAA", "AAA", "AAA", "BBB"]),
        "changes": st.lists(_CHANGE, min_size=1, max_size=3),
        # commit nothing, everything, or part of what is held
        "commit": st.one_of(st.none(), st.just(1.0), st.floats(0, 1)),
        "read": st.sampled_from(["none", "all", "all", "one"]),
        "pick": st.floats(0, 1),
        "subscribe": st.one_of(st.none(), st.none(), st.tuples(st.sampled_from(["AAA", "BBB"]), st.integers(1, 4))),
        "leave": st.booleans(),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(st.tuples(st.sampled_from(["AAA", "BBB"]), st.integers(1, 4)), min_size=1, max_size=4),
    steps=st.lists(_STEP, min_size=8, max_size=40),
    max_queue=st.sampled_from([2, 3, 1000, 1000]),
)
def test_a_subscriber_applying_its_updates_always_has_the_top_of_the_book(
    first: list[tuple[str, int]], steps: list[dict], max_queue: int
) -> None:
    log = Log()
    model: dict[str, dict[tuple[str, Decimal], int]] = {"AAA": {}, "BBB": {}}  # the durable levels
    held: list[tuple[int, str, list[tuple[str, Decimal, int]]]] = []
    subs = [(log.hub.subscribe(symbol, depth, max_queue=max_queue), Client()) for symbol, depth in first]

    def read(sub: BookSubscription, client: Client) -> None:
        for item in sub.poll():
            client.apply(item)
        snapshot = log.hub.snapshot(sub.symbol, sub.depth)
        assert client.book() == _view(snapshot)
        assert client.sequence is not None
        assert client.sequence <= snapshot.sequence

    for step in steps:
        if step["subscribe"] is not None:
            subs.append((log.hub.subscribe(*step["subscribe"], max_queue=max_queue), Client()))
        sequence = log.event(step["symbol"], *((s, str(p), q) for s, p, q in step["changes"]))
        held.append((sequence, step["symbol"], step["changes"]))
        if step["commit"] is not None:
            upto = log.head + 1 + int(step["commit"] * (log.tail - log.head - 1))
            log.commit(upto)
            for _, symbol, changes in (h for h in held if h[0] <= upto):
                for side, price, quantity in changes:
                    model[symbol][side, price] = quantity
            held = [h for h in held if h[0] > upto]
        if subs and step["read"] != "none":
            for sub, client in subs if step["read"] == "all" else [subs[int(step["pick"] * (len(subs) - 1))]]:
                read(sub, client)
        if subs and step["leave"] and step["subscribe"] is None and len(subs) > 2:
            sub, _ = subs.pop(int(step["pick"] * (len(subs) - 1)))
            sub.close()
    for symbol, book in model.items():
        bids = tuple(sorted(((p, q) for (s, p), q in book.items() if s == BUY and q), reverse=True))
        asks = tuple(sorted((p, q) for (s, p), q in book.items() if s == SELL and q))
        assert _view(log.hub.snapshot(symbol, 1000)) == (bids, asks)
    for sub, client in subs:
        read(sub, client)


# --- streams: waiting, heartbeats, the end ------------------------------------------------------


async def test_stream_delivers_updates_as_they_commit() -> None:
    log = Log()
    sub = log.hub.subscribe("AAPL", 10)
    stream = sub.stream(heartbeat_seconds=3600)
    first = await anext(stream)
    assert isinstance(first, BookSnapshot)
    assert first.sequence == 0
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    assert not waiting.done()
    log.event("AAPL", (BUY, "100", 5))
    log.commit()
    update = await waiting
    assert isinstance(update, BookUpdate)
    assert update.levels == (LevelChange(BUY, Decimal(100), 5),)
    await stream.aclose()
    sub.close()


async def test_stream_sends_a_heartbeat_with_the_committed_head_when_quiet() -> None:
    log = Log(head=41)
    with log.hub.subscribe("AAPL", 10) as sub:
        stream = sub.stream(heartbeat_seconds=0.01)
        assert isinstance(await anext(stream), BookSnapshot)
        assert await anext(stream) == Heartbeat(41)
        await stream.aclose()
    assert log.hub.subscriber_count == 0


async def test_stream_conflates_a_slow_reader_to_a_snapshot() -> None:
    log = Log(max_queue=2)
    with log.hub.subscribe("AAPL", 10) as sub:
        stream = sub.stream(heartbeat_seconds=3600)
        await anext(stream)
        for step in range(5):
            log.event("AAPL", (SELL, str(101 + step), 1))
            log.commit()
        item = await anext(stream)
        assert isinstance(item, BookSnapshot)
        assert item.sequence == 5
        assert len(item.asks) == 5
        await stream.aclose()


async def test_end_streams_ends_every_stream_unavailable_and_refuses_new_ones() -> None:
    log = Log()
    with log.hub.subscribe("AAPL", 10) as sub:
        stream = sub.stream(heartbeat_seconds=3600)
        await anext(stream)
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        log.hub.end_streams("the server is shutting down")
        with pytest.raises(Unavailable, match="the server is shutting down"):
            await waiting
        with pytest.raises(Unavailable):
            sub.poll()
    with pytest.raises(Unavailable, match="shutting down"):
        log.hub.subscribe("AAPL", 10)
    log.hub.close()


async def test_close_drops_what_never_committed() -> None:
    log = Log()
    log.event("AAPL", (BUY, "100", 1))
    log.hub.close()
    assert log.hub.pending_changes == 0
    with pytest.raises(Unavailable):
        log.hub.subscribe("AAPL", 1)


async def test_a_failing_check_ends_the_stream() -> None:
    log = Log()

    def revoked() -> None:
        raise Unauthenticated("token has been revoked")

    with log.hub.subscribe("AAPL", 10) as sub:
        stream = sub.stream(heartbeat_seconds=3600, check=revoked)
        await anext(stream)
        with pytest.raises(Unauthenticated):
            await anext(stream)
