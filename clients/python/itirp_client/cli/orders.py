"""`submit`, `cancel`, `amend`, `order`, `orders` and `watch`: orders and their live status."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from itirp.v1 import common_pb2
from itirp_client.aio import AsyncClient
from itirp_client.cli.base import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    AddCommand,
    CliError,
    Context,
    choice,
    decimal,
    positive_int,
    run_until_interrupted,
    say,
    upper_choice,
)
from itirp_client.cli.live import follow
from itirp_client.cli.render import (
    as_dict,
    emit_json,
    fills_table,
    key_values,
    limit_price,
    order_details,
    side_name,
    status_name,
    table,
    update_line,
    violation_name,
    violations_table,
    when,
)
from itirp_client.cli.tokens import session

__all__ = ["register"]

ORDER_STATUSES = [
    v.name.removeprefix("ORDER_STATUS_")
    for v in common_pb2.OrderStatus.DESCRIPTOR.values
    if not v.name.endswith("UNSPECIFIED")
]


def register(add: AddCommand) -> None:
    p = add("submit", "submit an order", cmd_submit)
    p.add_argument("symbol")
    p.add_argument("side", type=str.upper, choices=("BUY", "SELL"))
    p.add_argument("quantity", type=positive_int)
    p.add_argument(
        "price",
        type=decimal,
        nargs="?",
        help="limit price, e.g. 150.50 (a decimal, sent exactly as typed); none for a market order",
    )
    p.add_argument(
        "--type",
        type=choice(("LIMIT", "MARKET")),
        default=None,
        metavar="limit|market",
        help="a market order takes no price and never rests (internal venue); default limit",
    )
    p.add_argument(
        "--tif",
        type=choice(("GTC", "IOC", "FOK", "DAY")),
        default=None,
        metavar="gtc|ioc|fok|day",
        help="time in force (default gtc): good till cancelled, immediate or cancel, fill or kill, "
        "or until the end of the day (UTC)",
    )
    p.add_argument(
        "--stp",
        type=choice(("CANCEL_RESTING", "CANCEL_INCOMING", "CANCEL_BOTH")),
        default=None,
        metavar="cancel-resting|cancel-incoming|cancel-both",
        help="self-trade prevention when the order would trade with your own resting order (default cancel-resting)",
    )
    p.add_argument("--strategy", default="")
    p.add_argument(
        "--account", default="", type=str.upper, help="the account to book to (default: yours; see `entitlements`)"
    )
    p.add_argument(
        "--client-order-id", default=None, help="your id for the order (unique per user; one is generated otherwise)"
    )

    p = add("cancel", "cancel an order that is not executing yet", cmd_cancel)
    p.add_argument("order_id")
    p.add_argument("--reason", default="")

    p = add("cancel-all", "cancel all your working orders (a risk manager: everyone's in a scope)", cmd_cancel_all)
    p.add_argument("--account", help="only the orders booked to this account (yours, unless a risk manager)")
    p.add_argument("--scope", help="DESK:ID, ACCOUNT:ID, TRADER:NAME, INSTRUMENT:SYMBOL or FIRM (RISK_MANAGER)")
    p.add_argument("--symbol", default="", help="only this instrument's orders")
    p.add_argument("--reason", default="")

    p = add("amend", "change a resting order's size and/or price (internal venue)", cmd_amend)
    p.add_argument("order_id")
    p.add_argument("--quantity", type=positive_int, metavar="N", help="the new total size, filled part included")
    p.add_argument("--price", type=decimal, metavar="P", help="the new limit price")

    p = add("order", "one order in detail", cmd_order)
    p.add_argument("order_id")

    p = add("orders", "list orders, newest first", cmd_orders)
    p.add_argument(
        "--status",
        action="append",
        type=upper_choice(ORDER_STATUSES),
        metavar="STATUS",
        help=f"repeatable: {', '.join(ORDER_STATUSES)}",
    )
    p.add_argument("--symbol")
    p.add_argument("--user-id", help="only this user's orders (RISK_MANAGER and above)")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many (default 50)")

    p = add("watch", "live order status: the open orders, then every change (Ctrl-C to stop)", cmd_watch)
    p.add_argument("--order-id", help="only this order")
    p.add_argument("--count", type=positive_int, metavar="N", help="stop after N updates (the current state included)")


def cmd_submit(ctx: Context) -> int:
    a = ctx.args
    if a.type == "MARKET" and a.price is not None:
        raise CliError("a market order takes no price", EXIT_USAGE)
    if a.type != "MARKET" and a.price is None:
        raise CliError("a limit order needs a price (or --type market)", EXIT_USAGE)
    with session(ctx.server, ctx.transport) as client:
        reply = client.submit_order(
            a.symbol.upper(),
            a.side,
            a.quantity,
            a.price,
            order_type=a.type,
            time_in_force=a.tif,
            self_trade_prevention=a.stp,
            strategy=a.strategy,
            client_order_id=a.client_order_id,
            raise_on_reject=False,
            account=a.account,
        )
    rejected = reply.status == common_pb2.ORDER_STATUS_REJECTED
    if ctx.json:
        emit_json(as_dict(reply))
    else:
        o = reply.order
        pairs: list[tuple[str, Any]] = [("order id", reply.order_id), ("status", status_name(reply.status))]
        if o.account:
            pairs.append(("account", f"{o.account} (desk {o.desk})"))
        if o.filled_quantity or o.remaining_quantity:  # it met the internal venue's book
            pairs += [("filled", o.filled_quantity), ("remaining", o.remaining_quantity)]
            if o.average_fill_price:
                pairs.append(("average price", o.average_fill_price))
        pairs += [("message", reply.message), ("correlation id", reply.correlation_id)]
        print(key_values(pairs))
        if o.fills:
            print("\n" + fills_table(o.fills))
        if reply.violations:
            print("\n" + violations_table(reply.violations))
    if rejected:
        names = ", ".join(violation_name(v.type) for v in reply.violations)
        say(f"order rejected by pre-trade risk: {names or reply.message}")
        return EXIT_REJECTED
    return EXIT_OK


def cmd_cancel(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        order = client.cancel_order(ctx.args.order_id, reason=ctx.args.reason)
    if ctx.json:
        emit_json(as_dict(order))
    else:
        print(
            f"order {order.order_id} ({order.symbol} {side_name(order.side)} {order.quantity} @ {limit_price(order)}) "
            f"is {status_name(order.status)}"
        )
    return EXIT_OK


def cmd_cancel_all(ctx: Context) -> int:
    a = ctx.args
    scope = a.scope or (f"ACCOUNT:{a.account}" if a.account else "")
    with session(ctx.server, ctx.transport) as client:
        reply = client.cancel_all_orders(scope=scope, symbol=a.symbol, reason=a.reason)
    if ctx.json:
        emit_json(as_dict(reply))
    else:
        cancelled, pending = len(reply.cancelled_order_ids), len(reply.pending_order_ids)
        print(f"{cancelled} order(s) cancelled, {pending} pending at the venue")
        for order_id in reply.cancelled_order_ids:
            print(f"  cancelled {order_id}")
        for order_id in reply.pending_order_ids:
            print(f"  pending   {order_id}")
    return EXIT_OK


def cmd_amend(ctx: Context) -> int:
    a = ctx.args
    if a.quantity is None and a.price is None:
        raise CliError("nothing to change: give --quantity, --price or both", EXIT_USAGE)
    with session(ctx.server, ctx.transport) as client:
        reply = client.amend_order(a.order_id, quantity=a.quantity or 0, price=a.price or "")
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    o = reply.order
    print(
        key_values(
            [
                ("order id", o.order_id),
                ("order", f"{o.symbol} {side_name(o.side)} {o.quantity} @ {limit_price(o)}"),
                ("status", status_name(o.status)),
                ("filled", o.filled_quantity),
                ("remaining", o.remaining_quantity),
                ("average price", o.average_fill_price),
                ("queue", "kept its place" if reply.priority_kept else "back of the queue"),
                ("message", o.message),
            ]
        )
    )
    return EXIT_OK


def cmd_order(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        order = client.get_order(ctx.args.order_id)
    if ctx.json:
        emit_json(as_dict(order))
    else:
        print(order_details(order))
    return EXIT_OK


def cmd_orders(ctx: Context) -> int:
    a = ctx.args
    orders = []
    with session(ctx.server, ctx.transport) as client:
        pages = client.iter_orders(
            statuses=a.status or (),
            symbol=(a.symbol or "").upper(),
            user_id=a.user_id or "",
            page_size=min(a.limit, 1000),
        )
        with contextlib.closing(pages):  # stopping early: close the pager while the client still runs
            for order in pages:
                orders.append(order)
                if len(orders) >= a.limit:
                    break
    if ctx.json:
        emit_json({"orders": [as_dict(o) for o in orders]})
        return EXIT_OK
    if not orders:
        say("no orders")
        return EXIT_OK
    rows = [
        (
            when(o.created_at),
            o.order_id,
            o.symbol,
            side_name(o.side),
            o.quantity,
            limit_price(o),
            status_name(o.status),
            o.filled_quantity,
            o.remaining_quantity,
            o.average_fill_price,
            o.message,
        )
        for o in orders
    ]
    print(
        table(
            (
                "TIME (UTC)",
                "ORDER ID",
                "SYMBOL",
                "SIDE",
                "QTY",
                "PRICE",
                "STATUS",
                "FILLED",
                "REMAINING",
                "AVG PRICE",
                "MESSAGE",
            ),
            rows,
            right=(4, 5, 7, 8, 9),
        )
    )
    return EXIT_OK


def cmd_watch(ctx: Context) -> int:
    a = ctx.args

    async def open_stream(client: AsyncClient) -> AsyncGenerator[Any, None]:
        return client.order_updates(order_id=a.order_id or "", markers=True)

    note = f"watching order updates on {ctx.server} (Ctrl-C to stop)"
    return run_until_interrupted(follow(ctx, open_stream, "update", update_line, note, a.count))
