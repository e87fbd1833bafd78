"""`positions`, `risk`, `limits show|set` and `kill-switch`: exposure and its controls."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from itirp_client.cli.base import EXIT_OK, EXIT_USAGE, AddCommand, CliError, Context, decimal, say
from itirp_client.cli.render import LIMIT_FIELDS, as_dict, emit_json, key_values, money, table, when
from itirp_client.cli.tokens import session

__all__ = ["register"]


def register(add: AddCommand) -> None:
    p = add("positions", "positions with P&L", cmd_positions)
    p.add_argument("--symbol")
    add("risk", "current exposure and kill switch", cmd_risk)

    limits = add("limits", "risk limits")
    limits_sub = limits.add_subparsers(dest="limits_command", required=True, metavar="show|set")
    add("show", "the current limits", cmd_limits_show, limits_sub)
    p = add("set", "change limits (RISK_MANAGER and above); unset ones keep their value", cmd_limits_set, limits_sub)
    for name in LIMIT_FIELDS:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=decimal, metavar="AMOUNT")
    p.add_argument("--reason", default="", help="recorded in the audit log")

    p = add(
        "kill-switch",
        "turn the kill switch on (reject every new order) or off (RISK_MANAGER and above)",
        cmd_kill_switch,
    )
    p.add_argument("state", type=str.lower, choices=("on", "off"))
    p.add_argument("--reason", required=True, help="recorded in the audit log")


def cmd_positions(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        reply = client.positions((ctx.args.symbol or "").upper())
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    rows: list[tuple[Any, ...]] = [
        (
            p.symbol,
            p.quantity,
            money(p.average_price),
            money(p.last_price),
            money(p.market_value),
            money(p.realized_pnl),
            money(p.unrealized_pnl),
        )
        for p in reply.positions
    ]
    if not rows:
        say("no positions")
    total_value = sum((Decimal(p.market_value) for p in reply.positions if p.market_value), Decimal("0.00"))
    rows.append(
        (
            "TOTAL",
            "",
            "",
            "",
            money(str(total_value)),
            money(reply.total_realized_pnl),
            money(reply.total_unrealized_pnl),
        )
    )
    print(
        table(
            ("SYMBOL", "QTY", "AVG PRICE", "LAST", "MARKET VALUE", "REALIZED P&L", "UNREALIZED P&L"),
            rows,
            right=range(1, 7),
        )
    )
    return EXIT_OK


def cmd_risk(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        m = client.risk_metrics()
    if ctx.json:
        emit_json(as_dict(m))
        return EXIT_OK
    print(
        key_values(
            [
                ("net exposure", money(m.net_exposure)),
                ("gross exposure", money(m.gross_exposure)),
                ("daily volume", f"{money(m.daily_volume)} ({m.trading_day})"),
                ("working exposure", money(m.working_exposure)),
                ("positions", m.total_positions),
                ("largest position", money(m.largest_position)),
                ("kill switch", "ON - new orders are rejected" if m.kill_switch_active else "off"),
                ("as of", when(m.timestamp)),
            ]
        )
    )
    return EXIT_OK


def _limits_rows(limits: Any) -> list[tuple[str, str]]:
    return [(name.replace("_", " "), money(getattr(limits, name))) for name in LIMIT_FIELDS]


def cmd_limits_show(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        limits = client.risk_limits()
    if ctx.json:
        emit_json(as_dict(limits))
        return EXIT_OK
    pairs = [*_limits_rows(limits), ("kill switch", "ON" if limits.kill_switch_enabled else "off")]
    if limits.updated_at.seconds:
        pairs.append(("updated", when(limits.updated_at)))
    if limits.updated_by:
        pairs.append(("updated by", limits.updated_by))
    print(key_values(pairs))
    return EXIT_OK


def cmd_limits_set(ctx: Context) -> int:
    changes = {name: getattr(ctx.args, name) for name in LIMIT_FIELDS if getattr(ctx.args, name)}
    if not changes:
        raise CliError(
            "nothing to change: give at least one of --max-position-size, --max-daily-volume, "
            "--max-net-exposure, --max-gross-exposure",
            EXIT_USAGE,
        )
    with session(ctx.server, ctx.transport) as client:
        reply = client.update_risk_limits(reason=ctx.args.reason, **changes)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    rows = [
        (
            name.replace("_", " "),
            money(getattr(reply.previous_limits, name)),
            money(getattr(reply.limits, name)),
            "changed" if getattr(reply.previous_limits, name) != getattr(reply.limits, name) else "",
        )
        for name in LIMIT_FIELDS
    ]
    print(table(("LIMIT", "BEFORE", "NOW", ""), rows, right=(1, 2)))
    return EXIT_OK


def cmd_kill_switch(ctx: Context) -> int:
    enabled = ctx.args.state == "on"
    with session(ctx.server, ctx.transport) as client:
        reply = client.set_kill_switch(enabled, ctx.args.reason)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    state = "ON - every new order is rejected" if reply.kill_switch_active else "off - orders are accepted again"
    if reply.changed:
        print(f"kill switch is {state} (set by {reply.set_by}: {reply.reason})")
    else:
        print(f"kill switch was already {'ON' if reply.kill_switch_active else 'off'}; nothing changed")
    return EXIT_OK
