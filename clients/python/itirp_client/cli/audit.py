"""`audit tail|trail|verify`: the audit log (COMPLIANCE and above)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from itirp.v1 import events_pb2
from itirp_client.aio import AsyncClient
from itirp_client.cli.base import (
    EXIT_CHAIN_BROKEN,
    EXIT_OK,
    EXIT_REFUSED,
    AddCommand,
    CliError,
    Context,
    count,
    positive_int,
    run_until_interrupted,
    say,
    upper_choice,
)
from itirp_client.cli.live import follow
from itirp_client.cli.render import EVENT_HEADERS, as_dict, emit_json, event_line, event_row, table
from itirp_client.cli.tokens import session
from itirp_client.errors import NotFound

__all__ = ["register"]

EVENT_TYPES = [
    v.name.removeprefix("EVENT_TYPE_")
    for v in events_pb2.EventType.DESCRIPTOR.values
    if not v.name.endswith("UNSPECIFIED")
]


def register(add: AddCommand) -> None:
    audit = add("audit", "the audit log (COMPLIANCE and above)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="tail|trail|verify")
    p = add("tail", "the newest events, then follow live ones (Ctrl-C to stop)", cmd_audit_tail, audit_sub)
    p.add_argument(
        "--from-sequence", type=count, metavar="N", help="start after sequence N (0: from the very first event)"
    )
    p.add_argument(
        "--last",
        type=count,
        default=10,
        metavar="N",
        help="without --from-sequence: start with the last N events (default 10)",
    )
    p.add_argument(
        "--type",
        action="append",
        type=upper_choice(EVENT_TYPES),
        metavar="EVENT_TYPE",
        help="repeatable, e.g. ORDER_CREATED, RISK_CHECK_FAILED, KILL_SWITCH_ACTIVATED",
    )
    p.add_argument("--count", type=positive_int, metavar="N", help="stop after N events")
    p = add("trail", "every event of an order id or a correlation id", cmd_audit_trail, audit_sub)
    p.add_argument("id", help="an order id or a correlation id")
    add("verify", "walk the hash chain of the whole log", cmd_audit_verify, audit_sub)


def cmd_audit_tail(ctx: Context) -> int:
    a = ctx.args
    types = a.type or ()

    async def open_stream(client: AsyncClient) -> AsyncGenerator[Any, None]:
        start = a.from_sequence if a.from_sequence is not None else await _tail_start(client, a.last, types)
        return client.audit_events(from_sequence=start, event_types=types, markers=True)

    note = f"following the audit log on {ctx.server} live (Ctrl-C to stop)"
    return run_until_interrupted(follow(ctx, open_stream, "event", event_line, note, a.count))


async def _tail_start(client: AsyncClient, last: int, types: Sequence[str]) -> int:
    """Like tail(1): the sequence after which the last `last` (matching) events begin."""
    if last > 0:
        recent = (await client.list_events(page_size=min(last, 1000), event_types=types)).events  # newest first
        return recent[-1].sequence - 1 if recent else 0
    newest = (await client.list_events(page_size=1)).events
    return newest[0].sequence if newest else 0


def cmd_audit_trail(ctx: Context) -> int:
    ident = ctx.args.id
    with session(ctx.server, ctx.transport) as client:
        try:
            events, kind = client.order_trail(ident), "order"
        except NotFound:
            try:
                events, kind = client.correlation_trail(ident), "correlation"
            except NotFound:
                raise CliError(
                    f"no events for {ident!r} (neither an order id nor a correlation id)", EXIT_REFUSED
                ) from None
    if ctx.json:
        emit_json({"kind": kind, "id": ident, "events": [as_dict(e) for e in events]})
        return EXIT_OK
    say(f"{len(events)} event(s) for {kind} id {ident}")
    print(table(EVENT_HEADERS, [event_row(e) for e in events], right=(0,)))
    return EXIT_OK


def cmd_audit_verify(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        reply = client.verify_audit_log()
    if ctx.json:
        emit_json(as_dict(reply))
    elif reply.ok:
        print(
            f"ok: {reply.events_checked} events verified, head sequence {reply.head_sequence}, hash {reply.head_hash}"
        )
    else:
        print(f"BROKEN: the hash chain does not verify from sequence {reply.first_bad_sequence}: {reply.message}")
    if not reply.ok:
        say(f"audit chain broken at sequence {reply.first_bad_sequence}")
        return EXIT_CHAIN_BROKEN
    return EXIT_OK
