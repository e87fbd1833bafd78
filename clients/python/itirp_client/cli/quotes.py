"""`quote` and `quotes`: the reference prices (marks) risk and P&L use, on every venue."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from itirp_client.aio import AsyncClient
from itirp_client.cli.base import EXIT_OK, AddCommand, Context, count, positive_int, run_until_interrupted
from itirp_client.cli.live import follow
from itirp_client.cli.render import as_dict, clock, emit_json, key_values, money, when
from itirp_client.cli.tokens import session

__all__ = ["mark_line", "register"]


def register(add: AddCommand) -> None:
    p = add("quote", "the reference price of a symbol: the last mark from the feed, or its listing price", cmd_quote)
    p.add_argument("symbol")

    p = add("quotes", "reference prices as they are recorded (Ctrl-C to stop)", cmd_quotes)
    p.add_argument("symbols", nargs="*", metavar="SYMBOL", help="only these symbols (default: all)")
    p.add_argument(
        "--from-sequence",
        type=count,
        metavar="N",
        help="first the marks recorded after event sequence N (1: every mark so far); else only new ones",
    )
    p.add_argument("--count", type=positive_int, metavar="N", help="stop after N marks")


def mark_line(mark: Any) -> str:
    spread = f"  bid {money(mark.bid)} ask {money(mark.ask)}" if mark.bid or mark.ask else ""
    return f"{clock(mark.timestamp)}  {mark.sequence}  {mark.symbol} {money(mark.price)}{spread}  {mark.source}"


def cmd_quote(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        mark = client.get_quote(ctx.args.symbol.upper())
    if ctx.json:
        emit_json(as_dict(mark))
        return EXIT_OK
    print(
        key_values([
            ("symbol", mark.symbol),
            ("price", money(mark.price)),
            ("bid", money(mark.bid)),
            ("ask", money(mark.ask)),
            ("source", mark.source),
            ("priced at", when(mark.timestamp, millis=True)),
            ("sequence", mark.sequence or ""),
        ])
    )
    return EXIT_OK


def cmd_quotes(ctx: Context) -> int:
    a = ctx.args
    symbols = [s.upper() for s in a.symbols]

    async def open_stream(client: AsyncClient) -> AsyncGenerator[Any, None]:
        return client.stream_quotes(symbols, from_sequence=a.from_sequence or 0, markers=True)

    which = " ".join(symbols) or "all symbols"
    note = f"following the reference prices of {which} on {ctx.server} live (Ctrl-C to stop)"
    return run_until_interrupted(follow(ctx, open_stream, "mark", mark_line, note, a.count))
