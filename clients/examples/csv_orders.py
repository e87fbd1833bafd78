#!/usr/bin/env python3
"""A tiny trading terminal: submit the orders of a CSV file, then show their status live as it
changes, until every order is final (EXECUTED, REJECTED, FAILED or CANCELLED) or time runs out.

    python clients/examples/csv_orders.py clients/examples/orders.csv \\
        --server 127.0.0.1:50051 --username trader1 --password trader123

The server, user and password may also come from ITIRP_SERVER, ITIRP_USERNAME and ITIRP_PASSWORD.
The CSV has a header row and the columns `symbol,side,quantity,price[,strategy]`; prices stay
decimal strings from the file to the wire, never floats.

It subscribes to the live order updates *before* the first order goes in, so no change is missed,
and it keeps the updates that arrive before a submission's own reply (an order can be executed
before its submitter hears that it was approved).

Exit codes: 0 every order reached a final status (a risk rejection is a final status too);
1 timed out; 3 login or a row refused by the server; 5 server unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itirp.v1 import common_pb2
from itirp_client import AsyncClient, ItirpError, NotAuthenticated, ServerUnavailable

FINAL = {
    common_pb2.ORDER_STATUS_EXECUTED,
    common_pb2.ORDER_STATUS_REJECTED,
    common_pb2.ORDER_STATUS_FAILED,
    common_pb2.ORDER_STATUS_CANCELLED,
    common_pb2.ORDER_STATUS_EXPIRED,  # a DAY order still open at midnight UTC (internal venue)
}


def status_name(status: int) -> str:
    return common_pb2.OrderStatus.Name(status).removeprefix("ORDER_STATUS_")


def now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class Row:
    line: int
    symbol: str
    side: str
    quantity: int
    price: str
    strategy: str

    def __str__(self) -> str:
        return f"{self.symbol:<6} {self.side:<4} {self.quantity:>7} @ {self.price:>8}"


def read_orders(path: Path) -> list[Row]:
    rows = []
    with path.open(newline="") as f:
        for line, record in enumerate(csv.DictReader(f), start=2):
            try:
                rows.append(Row(
                    line=line,
                    symbol=record["symbol"].strip().upper(),
                    side=record["side"].strip().upper(),
                    quantity=int(record["quantity"]),
                    price=record["price"].strip(),  # as written: a decimal string
                    strategy=(record.get("strategy") or "").strip(),
                ))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise SystemExit(f"{path}:{line}: not a valid order row ({exc}): {record}") from None
    return rows


@dataclass
class Board:
    """What each submitted order looks like now; prints every change."""

    orders: dict[str, Any] = field(default_factory=dict)  # order id -> latest Order
    rows: dict[str, Row] = field(default_factory=dict)
    early: dict[str, list[Any]] = field(default_factory=dict)  # updates seen before the submit reply
    submitting: bool = True
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def update(self, order: Any) -> None:
        if order.order_id not in self.orders:
            if self.submitting:  # maybe ours, its submit reply not back yet; otherwise not ours
                self.early.setdefault(order.order_id, []).append(order)
            return
        before = self.orders[order.order_id]
        if order.last_sequence <= before.last_sequence:
            return  # older than what we know already
        self.orders[order.order_id] = order
        if order.status != before.status:
            change = f"{status_name(before.status):>10} -> {status_name(order.status)}"
            text = f"{now()}  {self.rows[order.order_id]}  {change}"
            if order.filled_quantity:
                text += f"  filled {order.filled_quantity} @ {order.average_fill_price}"
            elif order.status in FINAL and order.message:
                text += f"  {order.message}"
            print(text, flush=True)
        self.check()

    def submitted(self, row: Row, reply: Any) -> None:
        order = reply.order
        self.orders[order.order_id], self.rows[order.order_id] = order, row
        text = f"{now()}  {row}  submitted: {status_name(order.status)}"
        if order.status == common_pb2.ORDER_STATUS_REJECTED:
            text += f"  ({reply.message})"
        print(text, flush=True)
        for early in sorted(self.early.pop(order.order_id, []), key=lambda o: o.last_sequence):
            self.update(early)

    def finished_submitting(self) -> None:
        self.submitting = False
        self.early.clear()
        self.check()

    def check(self) -> None:
        if not self.submitting and all(o.status in FINAL for o in self.orders.values()):
            self.done.set()

    def summary(self) -> None:
        print()
        print(f"{'ORDER ID':<36}  {'SYMBOL':<6} {'SIDE':<4} {'QTY':>7}   {'PRICE':>8}  {'STATUS':<10}  MESSAGE")
        for order_id, order in self.orders.items():
            row = self.rows[order_id]
            print(f"{order_id:<36}  {row}  {status_name(order.status):<10}  {order.message}")
        counts: dict[str, int] = {}
        for order in self.orders.values():
            counts[status_name(order.status)] = counts.get(status_name(order.status), 0) + 1
        print(f"\n{len(self.orders)} orders: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


async def watch(client: AsyncClient, board: Board, live: asyncio.Event) -> None:
    async for item in client.order_updates(markers=True):
        kind = item.WhichOneof("kind")
        if kind == "caught_up":
            live.set()
        elif kind == "update":
            board.update(item.update.order)


async def until(event: asyncio.Event, watcher: asyncio.Task[None], timeout: float) -> bool:  # noqa: ASYNC109 (a bounded wait that also watches the stream task: asyncio.timeout() cannot)
    """Wait for `event`, at most `timeout` seconds; a failed update stream raises its error."""
    waiter = asyncio.create_task(event.wait())
    try:
        done, _ = await asyncio.wait({waiter, watcher}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if watcher in done:
        watcher.result()
    return event.is_set()


async def run(args: argparse.Namespace) -> int:
    rows = read_orders(args.csv)
    refused = 0
    async with await AsyncClient.connect(args.server, args.username, args.password) as client:
        print(f"logged in to {args.server} as {client.username} ({client.role}); {len(rows)} orders from {args.csv}")
        board, live = Board(), asyncio.Event()
        watcher = asyncio.create_task(watch(client, board, live))
        try:
            if not await until(live, watcher, 10):  # subscribed before the first order goes in
                print("the order update stream did not start", file=sys.stderr)
                return 1
            for row in rows:
                try:
                    reply = await client.submit_order(
                        row.symbol, row.side, row.quantity, row.price, strategy=row.strategy, raise_on_reject=False
                    )
                except ItirpError as exc:
                    if isinstance(exc, (ServerUnavailable, NotAuthenticated)):
                        raise
                    refused += 1
                    print(f"{now()}  {row}  refused (line {row.line}): {exc.message}", flush=True)
                    continue
                board.submitted(row, reply)
            board.finished_submitting()
            await until(board.done, watcher, args.timeout)
        finally:
            watcher.cancel()
        board.summary()
    if not board.done.is_set():
        open_orders = [i for i, o in board.orders.items() if o.status not in FINAL]
        print(f"timed out after {args.timeout:g}s with {len(open_orders)} order(s) not final", file=sys.stderr)
        return 1
    return 3 if refused else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("csv", type=Path, nargs="?", default=Path(__file__).with_name("orders.csv"))
    parser.add_argument("--server", default=os.environ.get("ITIRP_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--username", default=os.environ.get("ITIRP_USERNAME", "trader1"))
    parser.add_argument("--password", default=os.environ.get("ITIRP_PASSWORD", "trader123"))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for every order to be final")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except NotAuthenticated as exc:
        print(f"login refused: {exc.message}", file=sys.stderr)
        return 3
    except ServerUnavailable as exc:
        print(f"cannot reach the ITIRP server at {args.server}: {exc.message}", file=sys.stderr)
        return 5
    except ItirpError as exc:
        print(f"error from the server: {exc.message}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
