"""`instruments list|show|halt|resume`: the instrument master (halt and resume: RISK_MANAGER)."""

from __future__ import annotations

from typing import Any

from itirp.v1 import common_pb2
from itirp_client.cli.base import EXIT_OK, AddCommand, Context
from itirp_client.cli.render import as_dict, emit_json, key_values, table, when
from itirp_client.cli.tokens import session

__all__ = ["register"]

_STATUSES = ("ACTIVE", "HALTED", "CLOSED")


def register(add: AddCommand) -> None:
    group = add("instruments", "the instrument master: what may be traded, on which grid")
    sub = group.add_subparsers(dest="instruments_command", required=True, metavar="list|show|halt|resume")
    p = add("list", "every listed instrument", cmd_list, sub)
    p.add_argument("--status", type=str.upper, choices=_STATUSES, help="only instruments in this status")
    p = add("show", "one instrument and its reference price", cmd_show, sub)
    p.add_argument("symbol", type=str.upper)
    p = add("halt", "suspend trading in an instrument: new orders refused (RISK_MANAGER and above)", cmd_halt, sub)
    p.add_argument("symbol", type=str.upper)
    p.add_argument("--reason", required=True, help="recorded in the audit log")
    p = add("resume", "re-open a halted or closed instrument (RISK_MANAGER and above)", cmd_resume, sub)
    p.add_argument("symbol", type=str.upper)
    p.add_argument("--reason", required=True, help="recorded in the audit log")


def status_name(status: int) -> str:
    return str(common_pb2.InstrumentStatus.Name(status)).removeprefix("INSTRUMENT_STATUS_")


def _quantities(i: Any) -> str:
    return f"{i.min_quantity:,} to {i.max_quantity:,} in lots of {i.lot_size:,}"


def cmd_list(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        instruments = client.list_instruments(ctx.args.status)
    if ctx.json:
        emit_json([as_dict(i) for i in instruments])
        return EXIT_OK
    rows = [
        (
            i.symbol,
            i.name,
            i.currency,
            i.tick_size,
            i.lot_size,
            f"{i.min_quantity}-{i.max_quantity}",
            i.price_band_percent or "-",
            status_name(i.status),
        )
        for i in instruments
    ]
    print(table(("SYMBOL", "NAME", "CCY", "TICK", "LOT", "QUANTITY", "BAND %", "STATUS"), rows, right=(3, 4, 5, 6)))
    return EXIT_OK


def cmd_show(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        reply = client.get_instrument(ctx.args.symbol)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    i, mark = reply.instrument, reply.mark
    pairs: list[tuple[str, Any]] = [
        ("symbol", i.symbol),
        ("name", i.name),
        ("currency", i.currency),
        ("status", status_name(i.status)),
        ("tick size", i.tick_size),
        ("quantity", _quantities(i)),
        ("price band", f"{i.price_band_percent}% of the reference price" if i.price_band_percent else "none"),
        ("listed at", i.reference_price or "-"),
    ]
    if reply.HasField("mark"):
        pairs.append(("reference price", f"{mark.price} ({mark.source or 'listing'})"))
    if i.updated_by:
        pairs.append(("updated", f"{when(i.updated_at)} by {i.updated_by}"))
    print(key_values(pairs))
    return EXIT_OK


def _set_status(ctx: Context, status: str) -> int:
    with session(ctx.server, ctx.transport) as client:
        reply = client.set_instrument_status(ctx.args.symbol, status, ctx.args.reason)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    now = status_name(reply.instrument.status)
    if reply.changed:
        print(f"{reply.instrument.symbol} is {now} ({ctx.args.reason})")
    else:
        print(f"{reply.instrument.symbol} was already {now}; nothing changed")
    return EXIT_OK


def cmd_halt(ctx: Context) -> int:
    return _set_status(ctx, "HALTED")


def cmd_resume(ctx: Context) -> int:
    return _set_status(ctx, "ACTIVE")
