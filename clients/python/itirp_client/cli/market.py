"""`book` and `trades`: the internal venue's market data."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncGenerator
from typing import Any

from itirp_client.aio import AsyncClient
from itirp_client.book import OrderBook
from itirp_client.cli.base import EXIT_OK, AddCommand, Context, count, depth, positive_int, run_until_interrupted, say
from itirp_client.cli.live import follow
from itirp_client.cli.render import as_dict, book_text, emit_json, json_line, trade_line
from itirp_client.cli.tokens import async_session, session

__all__ = ["register"]


def register(add: AddCommand) -> None:
    p = add("book", "the order book of a symbol (internal venue), best prices first", cmd_book)
    p.add_argument("symbol")
    p.add_argument("--depth", type=depth, default=10, metavar="N", help="price levels per side (default 10)")
    p.add_argument("--watch", action="store_true", help="keep the book up to date live (Ctrl-C to stop)")
    p.add_argument("--count", type=positive_int, metavar="N", help="with --watch: stop after N states of the book")

    p = add("trades", "trades of a symbol as they happen (internal venue; Ctrl-C to stop)", cmd_trades)
    p.add_argument("symbol")
    p.add_argument(
        "--from-sequence",
        type=count,
        metavar="N",
        help="first the trades after event sequence N (1: every trade so far); else only new ones",
    )
    p.add_argument("--count", type=positive_int, metavar="N", help="stop after N trades")


def cmd_book(ctx: Context) -> int:
    a = ctx.args
    symbol = a.symbol.upper()
    if not a.watch:
        with session(ctx.server, ctx.transport) as client:
            snap = client.order_book(symbol, a.depth)
        if ctx.json:
            emit_json(as_dict(snap))
        else:
            print(book_text(OrderBook.from_snapshot(snap)))
        return EXIT_OK
    return run_until_interrupted(_watch_book(ctx, symbol, a.depth, a.count))


async def _watch_book(ctx: Context, symbol: str, depth: int, count: int | None) -> int:
    """Redraw the book on every change (a terminal), or print every state (one JSON object per
    line with --json; a blank line between ladders when stdout is not a terminal)."""
    redraw = sys.stdout.isatty() and not ctx.json
    seen = 0
    async with async_session(ctx.server, ctx.transport) as client:
        stream = client.order_book_stream(symbol, depth)
        async with contextlib.aclosing(stream):
            async for book in stream:
                if seen == 0:
                    say(f"watching the {symbol} book on {ctx.server} (Ctrl-C to stop)")
                if ctx.json:
                    json_line(book.to_snapshot())
                elif redraw:
                    print("\x1b[H\x1b[2J" + book_text(book), flush=True)
                else:
                    print(("\n" if seen else "") + book_text(book), flush=True)
                seen += 1
                if count and seen >= count:
                    break
    return EXIT_OK


def cmd_trades(ctx: Context) -> int:
    a = ctx.args
    symbol = a.symbol.upper()

    async def open_stream(client: AsyncClient) -> AsyncGenerator[Any, None]:
        return client.trades(symbol, from_sequence=a.from_sequence or 0, markers=True)

    note = f"following {symbol} trades on {ctx.server} live (Ctrl-C to stop)"
    return run_until_interrupted(follow(ctx, open_stream, "trade", trade_line, note, a.count))
