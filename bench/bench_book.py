"""Order book benchmark: matching throughput in process, ours against bare sortedcontainers books.

Run: .venv/bin/python bench/bench_book.py [--ops N] [--runs R] [--seconds S] [--seed SEED]

One fixed, seeded mix of operations (200,000 by default), run on a book prefilled (untimed) with
2,000 resting orders so the levels have depth:

* 60% limit orders near the mid: buys 1-20 ticks below it, sells 1-20 ticks above, 1-100 lots;
* 25% cancels of a random resting order (the generator runs the mix through the bare book to
  know what rests, so every cancel hits a live order);
* 15% marketable orders: IOC limits 25 ticks through the mid, 1-230 lots, so each takes one to a
  few resting orders, leaves the last one partly filled, and fills only partly when the side is
  thin. The sizes keep the flow balanced: the book stays around 2,000 orders on ~25-35 levels.

Every engine runs exactly that mix, in the same process, one after the other, on fresh books:

* "ours": `itirp.domain.book.OrderBook` through its public API. Prices are fresh `Decimal`
  objects, as a parsed request carries, converted to ticks inside `submit` (the edge is part of
  the figure); every call returns its full result (fills, level changes, STP cancellations);
  orders come from 200 users, so self-trade prevention is checked on every fill and fires now
  and then.
* "bare": the baseline the issue quotes, a dict of deques plus a `SortedList` per side, integer
  prices, nothing returned but a number, no STP, no order types; cancels mark the entry dead.
  It is spared the decimal edge and every result object.
* "bare, deque.remove": the same with the cancel one writes first, searching the deque.

Each run is bounded by the op count and by --seconds. Throughput comes from a loop with no
timing inside; p50/p99 from a separate loop that reads `perf_counter_ns` around every operation
(slower: the clock reads are not free). Best and median over --runs, alternating the engines so
a noisy neighbour hurts them alike. The GC stays on, as in the server.
"""

from __future__ import annotations

import argparse
import collections
import gc
import random
import statistics
import time
from decimal import Decimal

from sortedcontainers import SortedList

from itirp.domain.book import OrderBook

MID = 10_000  # ticks of 0.01: a 100.00 mid
TICK = Decimal("0.01")
PASSIVE_OFFSETS = 20
MARKETABLE_THROUGH = 25
MARKETABLE_MAX = 230
USERS = 200

LIMIT, CANCEL, TAKE = 0, 1, 2
KIND_NAMES = {LIMIT: "limit", CANCEL: "cancel", TAKE: "marketable"}


class BareBook:
    """The baseline: a dict of deques and a SortedList of prices per side, [order_id, quantity] entries.

    A limit order matches while it crosses and rests the rest; a marketable (IOC) order matches
    and drops the rest; a cancel marks the entry dead (quantity 0), and dead entries are dropped
    when they reach the front of their deque, so the front entry is always live. Nothing else:
    no results, no events, no STP, no order types, integer prices.
    """

    def __init__(self) -> None:
        self.bids: dict[int, collections.deque] = {}
        self.asks: dict[int, collections.deque] = {}
        self.bid_prices = SortedList()  # best is the last
        self.ask_prices = SortedList()  # best is the first
        self.orders: dict[str, tuple[bool, int, list]] = {}

    def limit(self, order_id: str, is_buy: bool, price: int, quantity: int) -> int:
        quantity = self.take(is_buy, price, quantity)
        if quantity:
            entry = [order_id, quantity]
            book, prices = (self.bids, self.bid_prices) if is_buy else (self.asks, self.ask_prices)
            level = book.get(price)
            if level is None:
                level = book[price] = collections.deque()
                prices.add(price)
            level.append(entry)
            self.orders[order_id] = (is_buy, price, entry)
        return quantity

    def take(self, is_buy: bool, price: int, quantity: int) -> int:
        """Match against the other side up to `price`; what is left."""
        if is_buy:
            book, prices, index = self.asks, self.ask_prices, 0
        else:
            book, prices, index = self.bids, self.bid_prices, -1
        orders = self.orders
        while quantity and prices:
            best = prices[index]
            if (best > price) if is_buy else (best < price):
                break
            level = book[best]
            while quantity and level:
                entry = level[0]
                if not entry[1]:  # cancelled
                    level.popleft()
                elif entry[1] > quantity:
                    entry[1] -= quantity
                    quantity = 0
                else:
                    quantity -= entry[1]
                    level.popleft()
                    del orders[entry[0]]
            while level and not level[0][1]:
                level.popleft()
            if not level:
                del book[best]
                prices.remove(best)
        return quantity

    def cancel(self, order_id: str) -> bool:
        found = self.orders.pop(order_id, None)
        if found is None:
            return False
        is_buy, price, entry = found
        entry[1] = 0
        book, prices = (self.bids, self.bid_prices) if is_buy else (self.asks, self.ask_prices)
        level = book[price]
        while level and not level[0][1]:
            level.popleft()
        if not level:
            del book[price]
            prices.remove(price)
        return True


class RemovingBareBook(BareBook):
    """The same, but a cancel takes the entry out of its deque (`deque.remove`, O(level length))."""

    def cancel(self, order_id: str) -> bool:
        found = self.orders.pop(order_id, None)
        if found is None:
            return False
        is_buy, price, entry = found
        book, prices = (self.bids, self.bid_prices) if is_buy else (self.asks, self.ask_prices)
        level = book[price]
        level.remove(entry)
        if not level:
            del book[price]
            prices.remove(price)
        return True


def generate(count: int, seed: int, prefill: int) -> tuple[list[tuple], list[tuple]]:
    """(prefill, mix) as `(kind, order_id, user, is_buy, ticks, quantity)`; cancels carry the id only."""
    rng = random.Random(seed)
    sim = BareBook()
    live: list[str] = []  # ids that rested at some point; pruned lazily of filled ones
    warm: list[tuple] = []
    for n in range(prefill):
        is_buy = n % 2 == 0
        offset = rng.randint(1, PASSIVE_OFFSETS)
        ticks = MID - offset if is_buy else MID + offset
        order_id = f"p{n}"
        warm.append((LIMIT, order_id, f"u{rng.randrange(USERS)}", is_buy, ticks, rng.randint(1, 100)))
        sim.limit(order_id, is_buy, ticks, warm[-1][5])
        live.append(order_id)
    ops: list[tuple] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.25:
            order_id = None
            while live and order_id is None:
                pick = rng.randrange(len(live))
                live[pick], live[-1] = live[-1], live[pick]
                candidate = live.pop()
                if candidate in sim.orders:
                    order_id = candidate
            if order_id is not None:
                ops.append((CANCEL, order_id))
                sim.cancel(order_id)
                continue
            roll = 1.0  # nothing rests: a limit order instead
        order_id = f"o{n}"
        user = f"u{rng.randrange(USERS)}"
        is_buy = rng.random() < 0.5
        if roll < 0.40:  # the 15% marketable (0.25 <= roll < 0.40)
            ticks = MID + MARKETABLE_THROUGH if is_buy else MID - MARKETABLE_THROUGH
            quantity = rng.randint(1, MARKETABLE_MAX)
            ops.append((TAKE, order_id, user, is_buy, ticks, quantity))
            sim.take(is_buy, ticks, quantity)
        else:
            offset = rng.randint(1, PASSIVE_OFFSETS)
            ticks = MID - offset if is_buy else MID + offset
            quantity = rng.randint(1, 100)
            ops.append((LIMIT, order_id, user, is_buy, ticks, quantity))
            if sim.limit(order_id, is_buy, ticks, quantity):
                live.append(order_id)
    return warm, ops


def ours_ops(mix: list[tuple]) -> list[tuple]:
    """The mix as our API takes it: side names and a fresh Decimal price per order."""
    out = []
    for op in mix:
        if op[0] == CANCEL:
            out.append(op)
        else:
            kind, order_id, user, is_buy, ticks, quantity = op
            out.append((kind, order_id, user, "BUY" if is_buy else "SELL", quantity, Decimal(ticks).scaleb(-2)))
    return out


def bare_ops(mix: list[tuple]) -> list[tuple]:
    """The mix as the bare books take it: `(kind, order_id, is_buy, ticks, quantity)`."""
    return [op if op[0] == CANCEL else (op[0], op[1], op[3], op[4], op[5]) for op in mix]


def drive_ours(book: OrderBook, ops: list[tuple], deadline: float, latencies: list[int] | None) -> int:
    """Run `ops` (in chunks, stopping at `deadline`); with `latencies`, time every operation."""
    submit, cancel = book.submit, book.cancel
    clock = time.perf_counter_ns
    done = 0
    for start in range(0, len(ops), 10_000):
        chunk = ops[start : start + 10_000]
        if latencies is None:
            for op in chunk:
                kind = op[0]
                if kind == LIMIT:
                    submit(op[1], op[2], op[3], op[4], op[5])
                elif kind == CANCEL:
                    cancel(op[1])
                else:
                    submit(op[1], op[2], op[3], op[4], op[5], time_in_force="IOC")
        else:
            record = latencies.append
            for op in chunk:
                kind = op[0]
                t0 = clock()
                if kind == LIMIT:
                    submit(op[1], op[2], op[3], op[4], op[5])
                elif kind == CANCEL:
                    cancel(op[1])
                else:
                    submit(op[1], op[2], op[3], op[4], op[5], time_in_force="IOC")
                record(clock() - t0)
        done += len(chunk)
        if time.perf_counter() > deadline:
            break
    return done


def drive_bare(book: BareBook, ops: list[tuple], deadline: float, latencies: list[int] | None) -> int:
    limit, take, cancel = book.limit, book.take, book.cancel
    clock = time.perf_counter_ns
    done = 0
    for start in range(0, len(ops), 10_000):
        chunk = ops[start : start + 10_000]
        if latencies is None:
            for op in chunk:
                kind = op[0]
                if kind == LIMIT:
                    limit(op[1], op[2], op[3], op[4])
                elif kind == CANCEL:
                    cancel(op[1])
                else:
                    take(op[2], op[3], op[4])
        else:
            record = latencies.append
            for op in chunk:
                kind = op[0]
                t0 = clock()
                if kind == LIMIT:
                    limit(op[1], op[2], op[3], op[4])
                elif kind == CANCEL:
                    cancel(op[1])
                else:
                    take(op[2], op[3], op[4])
                record(clock() - t0)
        done += len(chunk)
        if time.perf_counter() > deadline:
            break
    return done


ENGINES = {
    "ours (OrderBook)": (lambda: OrderBook("BENCH", tick_size=TICK), drive_ours, ours_ops),
    "bare sortedcontainers": (BareBook, drive_bare, bare_ops),
    "bare, deque.remove": (RemovingBareBook, drive_bare, bare_ops),
}


def percentile(sorted_values: list[int], fraction: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def run_once(
    name: str, warm: list[tuple], mix: list[tuple], seconds: float, timed: bool
) -> tuple[int, float, list[int]]:
    """One run on a fresh book: (operations done, seconds, per-op latencies if `timed`)."""
    factory, drive, shape = ENGINES[name]
    book = factory()
    warm_ops, ops = shape(warm), shape(mix)  # fresh Decimals every run
    drive(book, warm_ops, float("inf"), None)
    latencies: list[int] | None = [] if timed else None
    gc.collect()
    start = time.perf_counter()
    done = drive(book, ops, start + seconds, latencies)
    return done, time.perf_counter() - start, latencies or []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--prefill", type=int, default=2_000, help="resting orders placed before timing")
    parser.add_argument("--runs", type=int, default=5, help="runs per engine, for each of the two loops")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per run")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    warm, mix = generate(args.ops, args.seed, args.prefill)
    kinds = collections.Counter(op[0] for op in mix)
    print(
        f"mix: {len(mix):,} ops after {len(warm):,} prefilled orders, seed {args.seed}: "
        + ", ".join(f"{kinds[k]:,} {KIND_NAMES[k]}" for k in (LIMIT, CANCEL, TAKE))
        + f"; {args.runs} runs per engine and loop, engines alternating"
    )

    rates: dict[str, list[float]] = {name: [] for name in ENGINES}
    p50s: dict[str, list[int]] = {name: [] for name in ENGINES}
    p99s: dict[str, list[int]] = {name: [] for name in ENGINES}
    by_kind: dict[str, dict[int, list[tuple[int, int]]]] = {name: collections.defaultdict(list) for name in ENGINES}
    partial = set()
    for _ in range(args.runs):
        for name in ENGINES:
            done, seconds, _ = run_once(name, warm, mix, args.seconds, timed=False)
            rates[name].append(done / seconds)
            done_timed, _, latencies = run_once(name, warm, mix, args.seconds, timed=True)
            if done < len(mix) or done_timed < len(mix):
                partial.add(name)
            ordered = sorted(latencies)
            p50s[name].append(percentile(ordered, 0.50))
            p99s[name].append(percentile(ordered, 0.99))
            split: dict[int, list[int]] = collections.defaultdict(list)
            for op, latency in zip(mix, latencies, strict=False):  # a run cut by --seconds times fewer
                split[op[0]].append(latency)
            for kind, values in split.items():
                values.sort()
                by_kind[name][kind].append((percentile(values, 0.50), percentile(values, 0.99)))

    print()
    print(f"{'engine':24} {'ops/s best':>11} {'ops/s median':>13} {'p50 ns':>7} {'p99 ns':>7}")
    for name in ENGINES:
        note = "  (time bound hit: partial runs)" if name in partial else ""
        print(
            f"{name:24} {max(rates[name]):11,.0f} {statistics.median(rates[name]):13,.0f}"
            f" {statistics.median(p50s[name]):7,.0f} {statistics.median(p99s[name]):7,.0f}{note}"
        )
    print("p50/p99: median over the runs of each run's percentile, from the loop timing every operation.")
    ours, bare = "ours (OrderBook)", "bare sortedcontainers"
    print(
        f"ours / bare throughput: {max(rates[ours]) / max(rates[bare]):.2f} (best runs),"
        f" {statistics.median(rates[ours]) / statistics.median(rates[bare]):.2f} (medians)"
    )

    print()
    print("per operation kind, p50 / p99 ns (medians over the runs):")
    print(f"{'engine':24} " + " ".join(f"{KIND_NAMES[k]:>17}" for k in (LIMIT, CANCEL, TAKE)))
    for name in ENGINES:
        cells = []
        for kind in (LIMIT, CANCEL, TAKE):
            pairs = by_kind[name][kind]
            p50 = statistics.median(p for p, _ in pairs)
            p99 = statistics.median(p for _, p in pairs)
            cells.append(f"{p50:,.0f} / {p99:,.0f}".rjust(17))
        print(f"{name:24} " + " ".join(cells))

    book = OrderBook("BENCH", tick_size=TICK)
    fills = stp = 0
    for op in ours_ops(warm) + ours_ops(mix):
        if op[0] == CANCEL:
            book.cancel(op[1])
            continue
        result = book.submit(op[1], op[2], op[3], op[4], op[5], time_in_force="IOC" if op[0] == TAKE else "GTC")
        fills += len(result.fills)
        stp += len(result.self_trade_cancels)
    bids, asks = book.depth(1_000)
    print(
        f"\nours, one pass reading every result: {fills:,} fills, {stp:,} self-trade cancels;"
        f" at the end {len(book):,} orders resting on {len(bids) + len(asks)} levels"
    )


if __name__ == "__main__":
    main()
