"""How results look in a terminal: tables, key-value lists, names without their enum prefixes,
exact money, and one line per order update, trade or event (`--json`: the messages as JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from itirp.v1 import common_pb2, events_pb2
from itirp_client.book import Level, OrderBook

__all__ = [
    "EVENT_HEADERS",
    "LIMIT_FIELDS",
    "as_dict",
    "book_text",
    "clock",
    "emit_json",
    "event_line",
    "event_name",
    "event_row",
    "event_summary",
    "filled",
    "fills_table",
    "json_line",
    "key_values",
    "limit_price",
    "millis",
    "money",
    "order_details",
    "side_name",
    "status_name",
    "table",
    "trade_line",
    "update_line",
    "violation_name",
    "violations_table",
    "when",
]

LIMIT_FIELDS = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure")


def as_dict(msg: Message) -> dict[str, Any]:
    # every field, also those at their default (false, 0, ""), so scripts can rely on the keys
    return dict(
        json_format.MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    )


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2))


def json_line(msg: Message) -> None:
    """One message as one line of JSON (the streams' `--json` output)."""
    print(json.dumps(as_dict(msg), separators=(",", ":")), flush=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Iterable[int] = ()) -> str:
    """Plain aligned columns; the columns whose index is in `right` are right-aligned."""
    cells = [list(headers)] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = set(right)
    lines = []
    for row in cells:
        parts = [c.rjust(w) if i in align else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    pairs = [(k, "" if v is None else str(v)) for k, v in pairs]
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in pairs)


def when(ts: Any, *, millis: bool = False) -> str:
    if not ts.seconds and not ts.nanos:
        return ""
    moment = datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return text + f".{moment.microsecond // 1000:03d}" if millis else text


def clock(ts: Any) -> str:
    return when(ts, millis=True)[11:]


def money(value: str) -> str:
    """'15050.00' -> '15,050.00' (exact: decimal strings, never floats)."""
    try:
        return f"{Decimal(value):,}" if value else ""
    except InvalidOperation:
        return value


def status_name(status: int) -> str:
    return str(common_pb2.OrderStatus.Name(status)).removeprefix("ORDER_STATUS_")


def side_name(side: int) -> str:
    return str(common_pb2.Side.Name(side)).removeprefix("SIDE_")


def violation_name(kind: int) -> str:
    return str(common_pb2.ViolationType.Name(kind)).removeprefix("VIOLATION_TYPE_")


def event_name(kind: int) -> str:
    return str(events_pb2.EventType.Name(kind)).removeprefix("EVENT_TYPE_")


def millis(duration: Any) -> str:
    return f"{duration.seconds * 1000 + duration.nanos / 1e6:.2f} ms"


def filled(order: Any) -> str:
    if not order.filled_quantity:
        return "0"
    return (
        f"{order.filled_quantity} @ {order.average_fill_price}"
        if order.average_fill_price
        else str(order.filled_quantity)
    )


def order_type_name(kind: int) -> str:
    return str(common_pb2.OrderType.Name(kind or common_pb2.ORDER_TYPE_LIMIT)).removeprefix("ORDER_TYPE_")


def tif_name(kind: int) -> str:
    return str(common_pb2.TimeInForce.Name(kind or common_pb2.TIME_IN_FORCE_GTC)).removeprefix("TIME_IN_FORCE_")


def stp_name(kind: int) -> str:
    name: str = common_pb2.SelfTradePrevention.Name(kind or common_pb2.SELF_TRADE_PREVENTION_CANCEL_RESTING)
    return name.removeprefix("SELF_TRADE_PREVENTION_")


def limit_price(order: Any) -> str:
    """The limit price, or MKT for a market order (which has none)."""
    return order.price or ("MKT" if order.order_type == common_pb2.ORDER_TYPE_MARKET else "")


def fills_table(fills: Sequence[Any]) -> str:
    rows = [
        (
            f.sequence,
            when(f.timestamp, millis=True),
            f.quantity,
            f.price,
            "taker" if f.aggressor else "maker",
            f.trade_id,
        )
        for f in fills
    ]
    return table(("SEQ", "TIME (UTC)", "QTY", "PRICE", "ROLE", "TRADE ID"), rows, right=(0, 2, 3))


def book_text(book: OrderBook) -> str:
    """A price ladder: bids on the left, asks on the right, best first."""
    head = f"{book.symbol}  sequence {book.sequence}"
    if book.timestamp is not None:
        head += f"  as of {book.timestamp.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC"
    if book.empty:
        return head + "\n(empty book)"

    def cells(level: Level | None) -> tuple[str, str]:
        return (f"{level.quantity:,}", level.price) if level is not None else ("", "")

    rows = [(*cells(bid), *reversed(cells(ask))) for bid, ask in book.ladder()]
    text = table(("BID QTY", "BID", "ASK", "ASK QTY"), rows, right=(0, 1, 3))
    spread = book.spread
    return f"{head}\n{text}" + (f"\nspread {spread}" if spread is not None else "")


def trade_line(trade: Any) -> str:
    return (
        f"{clock(trade.timestamp)}  {trade.sequence}  {trade.symbol} {side_name(trade.aggressor_side)} "
        f"{trade.quantity} @ {trade.price}  {trade.trade_id}"
    )


def violations_table(violations: Sequence[Any]) -> str:
    rows = [(violation_name(v.type), money(v.limit), money(v.projected), v.message) for v in violations]
    return table(("VIOLATION", "LIMIT", "PROJECTED", "WHY"), rows, right=(1, 2))


def order_details(order: Any) -> str:
    text = key_values(
        [
            ("order id", order.order_id),
            ("client order id", order.client_order_id),
            ("user", order.username),
            ("symbol", order.symbol),
            ("side", side_name(order.side)),
            ("type", f"{order_type_name(order.order_type)} {tif_name(order.time_in_force)}"),
            ("self-trade prevention", stp_name(order.self_trade_prevention)),
            ("quantity", order.quantity),
            ("price", limit_price(order)),
            ("strategy", order.strategy),
            ("status", status_name(order.status)),
            ("filled", order.filled_quantity),
            ("remaining", order.remaining_quantity),
            ("average price", order.average_fill_price),
            ("execution attempts", order.execution_attempts),
            ("message", order.message),
            ("correlation id", order.correlation_id),
            ("created", when(order.created_at, millis=True)),
            ("updated", when(order.updated_at, millis=True)),
        ]
    )
    if order.violations:
        text += "\n\n" + violations_table(order.violations)
    if order.fills:
        text += "\n\n" + fills_table(order.fills)
    return text


def update_line(update: Any) -> str:
    o = update.order
    moment = clock(update.timestamp if update.HasField("timestamp") else o.updated_at)
    line = (
        f"{moment}  {o.order_id}  {o.symbol} {side_name(o.side)} {o.quantity} @ {limit_price(o)}"
        f"  {status_name(o.status)}"
    )
    if o.filled_quantity:
        line += f"  filled {filled(o)}"
        if o.remaining_quantity:
            line += f", {o.remaining_quantity} open"
    if o.message:
        line += f"  {o.message}"
    return line + ("  (current state)" if update.snapshot else "")


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + " ".join(f"{k}={_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    text = str(value)
    for prefix in ("ROLE_", "SIDE_", "VIOLATION_TYPE_"):
        text = text.removeprefix(prefix)
    return text


def event_summary(event: Any) -> str:
    """The gist of an event's payload, in a trader's words where it matters."""
    kind = event.WhichOneof("payload")
    if kind is None:
        return ""
    p = getattr(event, kind)
    if kind == "order_created":
        text = f"{p.username}: {side_name(p.side)} {p.quantity} {p.symbol} @ {p.price}"
        return text + (f" ({p.strategy})" if p.strategy else "")
    if kind == "risk_check_passed":
        return f"reserved {money(p.reserved_notional)}"
    if kind == "risk_check_failed":
        return ", ".join(violation_name(v.type) for v in p.violations)
    if kind == "execution_started":
        return f"attempt {p.attempt} at {p.venue}"
    if kind == "execution_completed":
        return f"filled {p.filled_quantity} @ {p.fill_price} at {p.venue} (attempt {p.attempt})"
    if kind == "execution_failed":
        return f"{p.reason} after {p.attempts} attempt(s)" + (" (permanent)" if p.permanent else "")
    if kind == "execution_retried":
        return f"attempt {p.attempt} in {p.delay_ms} ms: {p.reason}"
    if kind == "order_accepted":
        return f"at {p.venue}"
    if kind == "order_filled":
        return f"filled {p.quantity} @ {p.price} at {p.venue or 'internal'}, {p.remaining_quantity} open"
    if kind == "order_cancel_requested":
        return "cancel sent to the venue" + (f": {p.reason}" if p.reason else "")
    if kind == "order_status_unknown":
        return f"outcome at the venue unknown after {p.attempts} attempt(s): {p.reason}"
    if kind == "risk_limits_updated":
        changes = [
            f"{name} {money(getattr(p.old_limits, name))} -> {money(getattr(p.new_limits, name))}"
            for name in LIMIT_FIELDS
            if getattr(p.old_limits, name) != getattr(p.new_limits, name)
        ]
        return "; ".join(changes) + (f" ({p.reason})" if p.reason else "")
    if kind in ("kill_switch_activated", "kill_switch_deactivated"):
        return f"by {p.username}: {p.reason}"
    if kind == "user_logged_in":
        return f"{p.username} ({common_pb2.Role.Name(p.role).removeprefix('ROLE_')})"
    if kind in _USER_CHANGES:
        return _user_change(kind, p)
    if kind == "audit_checkpoint_signed":
        return f"signed sequence {p.sequence}, hash {p.head_hash[:16]}..., key {p.key_id}"
    return " ".join(f"{k}={_compact(v)}" for k, v in as_dict(p).items())


#: What `itirp users ...` did, in words: "disabled", "role TRADER -> RISK_MANAGER", ...
_USER_CHANGES = {
    "user_disabled": "disabled",
    "user_enabled": "enabled",
    "user_role_changed": "role",
    "password_changed": "password changed",
    "user_unlocked": "unlocked",
}


def _user_change(kind: str, p: Any) -> str:
    """"trader1 disabled by alice: left the desk"."""
    what = _USER_CHANGES[kind]
    if kind == "user_role_changed":
        old, new = (common_pb2.Role.Name(r).removeprefix("ROLE_") for r in (p.old_role, p.new_role))
        what = f"role {old} -> {new}"
    text = f"{p.username} {what}" + (f" by {p.actor}" if p.actor else "")
    return text + (f": {p.reason}" if p.reason else "")


def event_row(event: Any) -> tuple[Any, ...]:
    return (
        event.sequence,
        when(event.timestamp, millis=True),
        event_name(event.event_type),
        event.order_id,
        event.user_id[:8],
        event_summary(event),
    )


EVENT_HEADERS = ("SEQ", "TIME (UTC)", "TYPE", "ORDER ID", "USER", "SUMMARY")


def event_line(event: Any) -> str:
    seq, ts, kind, order_id, user, summary = event_row(event)
    return "  ".join(str(x) for x in (seq, ts, kind.ljust(22), order_id or "-", user or "-", summary)).rstrip()
