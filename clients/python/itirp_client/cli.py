"""`itirp-cli` — the ITIRP trading backend from a terminal.

Log in once per server; the token is kept in a per-user file (mode 0600) and used by every other
command until it expires or you log out:

    itirp-cli --server 127.0.0.1:50051 login --username trader1
    itirp-cli submit AAPL BUY 100 150.50 --strategy momentum
    itirp-cli submit AAPL SELL 50 --type market --tif ioc     # internal venue: no price for a market order
    itirp-cli amend 5f0c...-... --quantity 80 --price 150.40   # a resting order (internal venue)
    itirp-cli book AAPL --depth 5 --watch                       # the live book, Ctrl-C to stop
    itirp-cli trades AAPL --from-sequence 1                     # every trade so far, then live ones
    itirp-cli orders --status EXECUTED --symbol AAPL
    itirp-cli watch                                  # live order status, Ctrl-C to stop
    itirp-cli cancel 5f0c...-...  --reason "changed my mind"
    itirp-cli positions
    itirp-cli risk
    itirp-cli limits show
    itirp-cli limits set --max-position-size 500000 --reason "tighter for the open"   # RISK_MANAGER
    itirp-cli kill-switch on --reason "fat-finger drill"                              # RISK_MANAGER
    itirp-cli audit tail --type ORDER_CREATED --type RISK_CHECK_FAILED               # COMPLIANCE
    itirp-cli audit trail 5f0c...                    # an order id or a correlation id
    itirp-cli audit verify
    itirp-cli metrics
    itirp-cli --json orders | jq '.orders[].status'  # one JSON document (streams: one per line)
    itirp-cli logout

The server is `--server HOST:PORT`, else `$ITIRP_SERVER`, else 127.0.0.1:50051. Tokens are kept in
`$ITIRP_CLI_CONFIG`, else `$XDG_CONFIG_HOME/itirp/tokens.json`, else `~/.config/itirp/tokens.json`,
one per server. Results go to stdout, messages to stderr.

Exit codes:
    0  done
    1  an unexpected error from the server
    2  usage error (bad arguments)
    3  refused: not logged in, not allowed for your role, invalid request, not found,
       duplicate client order id, wrong order state, too many requests
    4  the order was rejected by pre-trade risk
    5  the server cannot be reached (or could not carry the request out right now)
    6  the audit log's hash chain is broken
  130  interrupted (Ctrl-C) — except `watch`, `audit tail`, `trades` and `book --watch`, for which Ctrl-C
       is the normal end (0)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import getpass
import json
import os
import sys
import tempfile
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from itirp.v1 import common_pb2, events_pb2, system_pb2
from itirp_client.aio import AsyncClient
from itirp_client.book import Level, OrderBook
from itirp_client.errors import (
    DuplicateOrder,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    NotFound,
    OrderStateConflict,
    PermissionDenied,
    ServerUnavailable,
    TooManyRequests,
)
from itirp_client.sync import Client

__all__ = ["main"]

DEFAULT_SERVER = "127.0.0.1:50051"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_REJECTED = 4
EXIT_UNREACHABLE = 5
EXIT_CHAIN_BROKEN = 6
EXIT_INTERRUPTED = 130

EPILOG = """\
exit codes:
  0  done                        4  rejected by pre-trade risk
  1  unexpected server error     5  server unreachable / unavailable
  2  usage error                 6  audit chain broken
  3  refused (not logged in, not allowed, invalid, not found, duplicate, wrong state, too many requests)
130  interrupted (Ctrl-C ends `watch`, `audit tail`, `trades` and `book --watch` with 0)

The server is --server, else $ITIRP_SERVER, else 127.0.0.1:50051. Tokens live in $ITIRP_CLI_CONFIG,
else $XDG_CONFIG_HOME/itirp/tokens.json, else ~/.config/itirp/tokens.json (mode 0600).
"""

ORDER_STATUSES = [n.removeprefix("ORDER_STATUS_") for n in common_pb2.OrderStatus.keys() if not n.endswith("UNSPECIFIED")]
LIMIT_FIELDS = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure")
EVENT_TYPES = [n.removeprefix("EVENT_TYPE_") for n in events_pb2.EventType.keys() if not n.endswith("UNSPECIFIED")]


class CliError(Exception):
    """Ends the command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Context:
    """What every command gets: the server, the output mode, and its parsed arguments."""

    server: str
    json: bool
    args: argparse.Namespace


# ---------------------------------------------------------------------------------- token file


def tokens_path() -> Path:
    if explicit := os.environ.get("ITIRP_CLI_CONFIG"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "itirp" / "tokens.json"


def load_tokens(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the token file {path}: {exc}", EXIT_ERROR) from None
    return data if isinstance(data, dict) else {}


def save_tokens(path: Path, tokens: dict[str, dict[str, Any]]) -> None:
    """Write atomically: a fresh 0600 file in the same folder, then rename over the old one."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)  # os.open(..., O_EXCL, 0o600)
    except OSError as exc:
        raise CliError(f"cannot write the token file {path}: {exc}", EXIT_ERROR) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(tokens, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)


def remember(server: str, token: str, username: str, expires_at: float) -> Path:
    path = tokens_path()
    tokens = load_tokens(path)
    tokens[server] = {"token": token, "username": username, "expires_at": int(expires_at)}
    save_tokens(path, tokens)
    return path


def forget(server: str) -> None:
    path = tokens_path()
    tokens = load_tokens(path)
    if tokens.pop(server, None) is not None:
        save_tokens(path, tokens)


def saved_token(server: str) -> str:
    entry = load_tokens(tokens_path()).get(server) or {}
    token = entry.get("token") if isinstance(entry, dict) else None
    if not token:
        raise CliError(f"not logged in to {server}: run itirp-cli login", EXIT_REFUSED)
    return str(token)


def token_expiry(token: str) -> int:
    """The `exp` claim of a JWT (not verified: only to note when the saved token expires)."""
    try:
        payload = token.split(".")[1]
        return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return 0


@contextlib.contextmanager
def session(server: str) -> Iterator[Client]:
    """A client on the saved token; a token the client refreshed meanwhile is saved at the end."""
    token = saved_token(server)
    client = Client.from_token(server, token)
    try:
        yield client
    finally:
        new_token = client.token
        with contextlib.suppress(Exception):
            client.close()
        _save_if_refreshed(server, token, new_token, client.username)


@contextlib.asynccontextmanager
async def async_session(server: str) -> AsyncIterator[AsyncClient]:
    """The same for the live streams, which run on asyncio so that Ctrl-C cancels the call cleanly."""
    token = saved_token(server)
    client = await AsyncClient.from_token(server, token)
    try:
        yield client
    finally:
        new_token = client.token
        with contextlib.suppress(Exception):
            await client.close()
        _save_if_refreshed(server, token, new_token, client.username)


def _save_if_refreshed(server: str, old: str, new: str, username: str) -> None:
    if new and new != old:
        remember(server, new, username, token_expiry(new))


async def follow(
    ctx: Context,
    open_stream: Callable[[AsyncClient], Awaitable[AsyncIterator[Any]]],
    field: str,
    render: Callable[[Any], str],
    live_note: str,
    count: int | None,
) -> int:
    """Print a live stream (the `field` items of it), one line each, until Ctrl-C or `count` items."""
    seen = 0
    async with async_session(ctx.server) as client:
        stream = await open_stream(client)
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for item in stream:
                kind = item.WhichOneof("kind")
                if kind == "caught_up":
                    say(live_note)
                if kind != field:
                    continue
                payload = getattr(item, field)
                print(json.dumps(as_dict(payload), separators=(",", ":")) if ctx.json else render(payload), flush=True)
                seen += 1
                if count and seen >= count:
                    break
    return EXIT_OK


# ---------------------------------------------------------------------------------- output


def as_dict(msg: Message) -> dict[str, Any]:
    # every field, also those at their default (false, 0, ""), so scripts can rely on the keys
    return json_format.MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2))


def say(message: str) -> None:
    """A message for the human (stderr), never mixed with results."""
    print(message, file=sys.stderr, flush=True)


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
    return common_pb2.OrderStatus.Name(status).removeprefix("ORDER_STATUS_")


def side_name(side: int) -> str:
    return common_pb2.Side.Name(side).removeprefix("SIDE_")


def violation_name(kind: int) -> str:
    return common_pb2.ViolationType.Name(kind).removeprefix("VIOLATION_TYPE_")


def event_name(kind: int) -> str:
    return events_pb2.EventType.Name(kind).removeprefix("EVENT_TYPE_")


def millis(duration: Any) -> str:
    return f"{duration.seconds * 1000 + duration.nanos / 1e6:.2f} ms"


def filled(order: Any) -> str:
    if not order.filled_quantity:
        return "0"
    return f"{order.filled_quantity} @ {order.average_fill_price}" if order.average_fill_price else str(order.filled_quantity)


def order_type_name(kind: int) -> str:
    return common_pb2.OrderType.Name(kind or common_pb2.ORDER_TYPE_LIMIT).removeprefix("ORDER_TYPE_")


def tif_name(kind: int) -> str:
    return common_pb2.TimeInForce.Name(kind or common_pb2.TIME_IN_FORCE_GTC).removeprefix("TIME_IN_FORCE_")


def stp_name(kind: int) -> str:
    name = common_pb2.SelfTradePrevention.Name(kind or common_pb2.SELF_TRADE_PREVENTION_CANCEL_RESTING)
    return name.removeprefix("SELF_TRADE_PREVENTION_")


def limit_price(order: Any) -> str:
    """The limit price, or MKT for a market order (which has none)."""
    return order.price or ("MKT" if order.order_type == common_pb2.ORDER_TYPE_MARKET else "")


def fills_table(fills: Sequence[Any]) -> str:
    rows = [(f.sequence, when(f.timestamp, millis=True), f.quantity, f.price, "taker" if f.aggressor else "maker", f.trade_id)
            for f in fills]
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
    return (f"{clock(trade.timestamp)}  {trade.sequence}  {trade.symbol} {side_name(trade.aggressor_side)} "
            f"{trade.quantity} @ {trade.price}  {trade.trade_id}")


def violations_table(violations: Sequence[Any]) -> str:
    rows = [(violation_name(v.type), money(v.limit), money(v.projected), v.message) for v in violations]
    return table(("VIOLATION", "LIMIT", "PROJECTED", "WHY"), rows, right=(1, 2))


def order_details(order: Any) -> str:
    text = key_values([
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
    ])
    if order.violations:
        text += "\n\n" + violations_table(order.violations)
    if order.fills:
        text += "\n\n" + fills_table(order.fills)
    return text


def update_line(update: Any) -> str:
    o = update.order
    line = (
        f"{clock(update.timestamp if update.HasField('timestamp') else o.updated_at)}  {o.order_id}  {o.symbol} {side_name(o.side)} {o.quantity} @ {limit_price(o)}"
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
    return " ".join(f"{k}={_compact(v)}" for k, v in as_dict(p).items())


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


# ---------------------------------------------------------------------------------- commands


def cmd_login(ctx: Context) -> int:
    username = ctx.args.username or _prompt("username: ")
    if ctx.args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {username} at {ctx.server}: ")
    try:
        client = Client.connect(ctx.server, username, password)
    except NotAuthenticated as exc:
        raise CliError(f"login refused by {ctx.server}: {exc.message}", EXIT_REFUSED) from None
    with client:
        token, role, username = client.token, client.role, client.username or username
    expires_at = token_expiry(token)
    path = remember(ctx.server, token, username, expires_at)
    if ctx.json:
        emit_json({"server": ctx.server, "username": username, "role": role, "expires_at": expires_at, "token_file": str(path)})
    else:
        until = datetime.fromtimestamp(expires_at, UTC).strftime("%H:%M:%S UTC") if expires_at else "?"
        print(f"logged in to {ctx.server} as {username} ({role}); token saved in {path}, valid until {until}")
    return EXIT_OK


def _prompt(text: str) -> str:
    print(text, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        raise CliError("a username is needed: --username U", EXIT_USAGE)
    return line.strip()


def cmd_logout(ctx: Context) -> int:
    try:
        with session(ctx.server) as client:
            reply = client.logout()
    except NotAuthenticated as exc:
        forget(ctx.server)
        say(f"the saved token for {ctx.server} was no longer valid ({exc.message}); removed it")
        return EXIT_OK
    forget(ctx.server)
    if ctx.json:
        emit_json(as_dict(reply))
    else:
        print(f"logged out of {ctx.server}: token revoked and removed")
    return EXIT_OK


def cmd_whoami(ctx: Context) -> int:
    with session(ctx.server) as client:
        me = client.whoami()
    if ctx.json:
        emit_json(as_dict(me))
    else:
        print(key_values([
            ("server", ctx.server),
            ("username", me.username),
            ("role", common_pb2.Role.Name(me.role).removeprefix("ROLE_")),
            ("user id", me.user_id),
            ("token expires", when(me.expires_at)),
        ]))
    return EXIT_OK


def cmd_submit(ctx: Context) -> int:
    a = ctx.args
    if a.type == "MARKET" and a.price is not None:
        raise CliError("a market order takes no price", EXIT_USAGE)
    if a.type != "MARKET" and a.price is None:
        raise CliError("a limit order needs a price (or --type market)", EXIT_USAGE)
    with session(ctx.server) as client:
        reply = client.submit_order(
            a.symbol.upper(), a.side, a.quantity, a.price, order_type=a.type, time_in_force=a.tif,
            self_trade_prevention=a.stp, strategy=a.strategy, client_order_id=a.client_order_id, raise_on_reject=False,
        )
    rejected = reply.status == common_pb2.ORDER_STATUS_REJECTED
    if ctx.json:
        emit_json(as_dict(reply))
    else:
        o = reply.order
        pairs: list[tuple[str, Any]] = [("order id", reply.order_id), ("status", status_name(reply.status))]
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
    with session(ctx.server) as client:
        order = client.cancel_order(ctx.args.order_id, reason=ctx.args.reason)
    if ctx.json:
        emit_json(as_dict(order))
    else:
        print(f"order {order.order_id} ({order.symbol} {side_name(order.side)} {order.quantity} @ {limit_price(order)}) "
              f"is {status_name(order.status)}")
    return EXIT_OK


def cmd_amend(ctx: Context) -> int:
    a = ctx.args
    if a.quantity is None and a.price is None:
        raise CliError("nothing to change: give --quantity, --price or both", EXIT_USAGE)
    with session(ctx.server) as client:
        reply = client.amend_order(a.order_id, quantity=a.quantity or 0, price=a.price or "")
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    o = reply.order
    print(key_values([
        ("order id", o.order_id),
        ("order", f"{o.symbol} {side_name(o.side)} {o.quantity} @ {limit_price(o)}"),
        ("status", status_name(o.status)),
        ("filled", o.filled_quantity),
        ("remaining", o.remaining_quantity),
        ("average price", o.average_fill_price),
        ("queue", "kept its place" if reply.priority_kept else "back of the queue"),
        ("message", o.message),
    ]))
    return EXIT_OK


def cmd_order(ctx: Context) -> int:
    with session(ctx.server) as client:
        order = client.get_order(ctx.args.order_id)
    if ctx.json:
        emit_json(as_dict(order))
    else:
        print(order_details(order))
    return EXIT_OK


def cmd_orders(ctx: Context) -> int:
    a = ctx.args
    orders = []
    with session(ctx.server) as client:
        pages = client.iter_orders(statuses=a.status or (), symbol=(a.symbol or "").upper(), user_id=a.user_id or "",
                                   page_size=min(a.limit, 1000))
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
        (when(o.created_at), o.order_id, o.symbol, side_name(o.side), o.quantity, limit_price(o), status_name(o.status),
         o.filled_quantity, o.remaining_quantity, o.average_fill_price, o.message)
        for o in orders
    ]
    print(table(("TIME (UTC)", "ORDER ID", "SYMBOL", "SIDE", "QTY", "PRICE", "STATUS", "FILLED", "REMAINING", "AVG PRICE",
                 "MESSAGE"), rows, right=(4, 5, 7, 8, 9)))
    return EXIT_OK


def cmd_watch(ctx: Context) -> int:
    a = ctx.args

    async def open_stream(client: AsyncClient) -> AsyncIterator[Any]:
        return client.order_updates(order_id=a.order_id or "", markers=True)

    note = f"watching order updates on {ctx.server} (Ctrl-C to stop)"
    return asyncio.run(follow(ctx, open_stream, "update", update_line, note, a.count))


def cmd_book(ctx: Context) -> int:
    a = ctx.args
    symbol = a.symbol.upper()
    if not a.watch:
        with session(ctx.server) as client:
            snap = client.order_book(symbol, a.depth)
        if ctx.json:
            emit_json(as_dict(snap))
        else:
            print(book_text(OrderBook.from_snapshot(snap)))
        return EXIT_OK
    return asyncio.run(_watch_book(ctx, symbol, a.depth, a.count))


async def _watch_book(ctx: Context, symbol: str, depth: int, count: int | None) -> int:
    """Redraw the book on every change (a terminal), or print every state (one JSON object per
    line with --json; a blank line between ladders when stdout is not a terminal)."""
    redraw = sys.stdout.isatty() and not ctx.json
    seen = 0
    async with async_session(ctx.server) as client:
        stream = client.order_book_stream(symbol, depth)
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for book in stream:
                if seen == 0:
                    say(f"watching the {symbol} book on {ctx.server} (Ctrl-C to stop)")
                if ctx.json:
                    print(json.dumps(as_dict(book.to_snapshot()), separators=(",", ":")), flush=True)
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

    async def open_stream(client: AsyncClient) -> AsyncIterator[Any]:
        return client.trades(symbol, from_sequence=a.from_sequence or 0, markers=True)

    note = f"following {symbol} trades on {ctx.server} live (Ctrl-C to stop)"
    return asyncio.run(follow(ctx, open_stream, "trade", trade_line, note, a.count))


def cmd_positions(ctx: Context) -> int:
    with session(ctx.server) as client:
        reply = client.positions((ctx.args.symbol or "").upper())
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    rows: list[tuple[Any, ...]] = [
        (p.symbol, p.quantity, money(p.average_price), money(p.last_price), money(p.market_value), money(p.realized_pnl),
         money(p.unrealized_pnl))
        for p in reply.positions
    ]
    if not rows:
        say("no positions")
    total_value = sum((Decimal(p.market_value) for p in reply.positions if p.market_value), Decimal("0.00"))
    rows.append(("TOTAL", "", "", "", money(str(total_value)), money(reply.total_realized_pnl),
                 money(reply.total_unrealized_pnl)))
    print(table(("SYMBOL", "QTY", "AVG PRICE", "LAST", "MARKET VALUE", "REALIZED P&L", "UNREALIZED P&L"), rows,
                right=range(1, 7)))
    return EXIT_OK


def cmd_risk(ctx: Context) -> int:
    with session(ctx.server) as client:
        m = client.risk_metrics()
    if ctx.json:
        emit_json(as_dict(m))
        return EXIT_OK
    print(key_values([
        ("net exposure", money(m.net_exposure)),
        ("gross exposure", money(m.gross_exposure)),
        ("daily volume", f"{money(m.daily_volume)} ({m.trading_day})"),
        ("working exposure", money(m.working_exposure)),
        ("positions", m.total_positions),
        ("largest position", money(m.largest_position)),
        ("kill switch", "ON - new orders are rejected" if m.kill_switch_active else "off"),
        ("as of", when(m.timestamp)),
    ]))
    return EXIT_OK


def _limits_rows(limits: Any) -> list[tuple[str, str]]:
    return [(name.replace("_", " "), money(getattr(limits, name))) for name in LIMIT_FIELDS]


def cmd_limits_show(ctx: Context) -> int:
    with session(ctx.server) as client:
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
        raise CliError("nothing to change: give at least one of --max-position-size, --max-daily-volume, "
                       "--max-net-exposure, --max-gross-exposure", EXIT_USAGE)
    with session(ctx.server) as client:
        reply = client.update_risk_limits(reason=ctx.args.reason, **changes)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    rows = [
        (name.replace("_", " "), money(getattr(reply.previous_limits, name)), money(getattr(reply.limits, name)),
         "changed" if getattr(reply.previous_limits, name) != getattr(reply.limits, name) else "")
        for name in LIMIT_FIELDS
    ]
    print(table(("LIMIT", "BEFORE", "NOW", ""), rows, right=(1, 2)))
    return EXIT_OK


def cmd_kill_switch(ctx: Context) -> int:
    enabled = ctx.args.state == "on"
    with session(ctx.server) as client:
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


def cmd_audit_tail(ctx: Context) -> int:
    a = ctx.args
    types = a.type or ()

    async def open_stream(client: AsyncClient) -> AsyncIterator[Any]:
        start = a.from_sequence if a.from_sequence is not None else await _tail_start(client, a.last, types)
        return client.audit_events(from_sequence=start, event_types=types, markers=True)

    note = f"following the audit log on {ctx.server} live (Ctrl-C to stop)"
    return asyncio.run(follow(ctx, open_stream, "event", event_line, note, a.count))


async def _tail_start(client: AsyncClient, last: int, types: Sequence[str]) -> int:
    """Like tail(1): the sequence after which the last `last` (matching) events begin."""
    if last > 0:
        recent = (await client.list_events(page_size=min(last, 1000), event_types=types)).events  # newest first
        return recent[-1].sequence - 1 if recent else 0
    newest = (await client.list_events(page_size=1)).events
    return newest[0].sequence if newest else 0


def cmd_audit_trail(ctx: Context) -> int:
    ident = ctx.args.id
    with session(ctx.server) as client:
        try:
            events, kind = client.order_trail(ident), "order"
        except NotFound:
            try:
                events, kind = client.correlation_trail(ident), "correlation"
            except NotFound:
                raise CliError(f"no events for {ident!r} (neither an order id nor a correlation id)", EXIT_REFUSED) from None
    if ctx.json:
        emit_json({"kind": kind, "id": ident, "events": [as_dict(e) for e in events]})
        return EXIT_OK
    say(f"{len(events)} event(s) for {kind} id {ident}")
    print(table(EVENT_HEADERS, [event_row(e) for e in events], right=(0,)))
    return EXIT_OK


def cmd_audit_verify(ctx: Context) -> int:
    with session(ctx.server) as client:
        reply = client.verify_audit_log()
    if ctx.json:
        emit_json(as_dict(reply))
    elif reply.ok:
        print(f"ok: {reply.events_checked} events verified, head sequence {reply.head_sequence}, hash {reply.head_hash}")
    else:
        print(f"BROKEN: the hash chain does not verify from sequence {reply.first_bad_sequence}: {reply.message}")
    if not reply.ok:
        say(f"audit chain broken at sequence {reply.first_bad_sequence}")
        return EXIT_CHAIN_BROKEN
    return EXIT_OK


def cmd_metrics(ctx: Context) -> int:
    with session(ctx.server) as client:
        m = client.system_metrics()
    if ctx.json:
        emit_json(as_dict(m))
        return EXIT_OK
    breaker = system_pb2.CircuitBreakerState.Name(m.circuit_breaker.state).removeprefix("CIRCUIT_BREAKER_STATE_")
    breaker += f" ({m.circuit_breaker.consecutive_failures} consecutive failures)"
    if m.circuit_breaker.open_until.seconds:
        breaker += f", open until {when(m.circuit_breaker.open_until)}"
    lat = m.submit_latency
    r = m.risk_metrics
    pairs: list[tuple[str, Any]] = [("orders", m.total_orders)]
    pairs += [(f"  {status_name(c.status)}", c.count) for c in m.orders_by_status]
    pairs += [
        ("events", m.total_events),
        ("circuit breaker", breaker),
        ("submit latency", f"p50 {millis(lat.p50)}, p99 {millis(lat.p99)} over {lat.count} orders"),
        ("net exposure", money(r.net_exposure)),
        ("gross exposure", money(r.gross_exposure)),
        ("daily volume", money(r.daily_volume)),
        ("kill switch", "ON" if r.kill_switch_active else "off"),
        ("as of", when(m.timestamp)),
    ]
    print(key_values(pairs))
    return EXIT_OK


COMMANDS: dict[str, Callable[[Context], int]] = {
    "login": cmd_login,
    "logout": cmd_logout,
    "whoami": cmd_whoami,
    "submit": cmd_submit,
    "cancel": cmd_cancel,
    "amend": cmd_amend,
    "order": cmd_order,
    "orders": cmd_orders,
    "watch": cmd_watch,
    "book": cmd_book,
    "trades": cmd_trades,
    "positions": cmd_positions,
    "risk": cmd_risk,
    "limits show": cmd_limits_show,
    "limits set": cmd_limits_set,
    "kill-switch": cmd_kill_switch,
    "audit tail": cmd_audit_tail,
    "audit trail": cmd_audit_trail,
    "audit verify": cmd_audit_verify,
    "metrics": cmd_metrics,
}

STREAMING = {"watch", "audit tail", "trades"}


# ---------------------------------------------------------------------------------- arguments


def _decimal(text: str) -> str:
    """A decimal string, kept exactly as typed (never turned into a float)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _depth(text: str) -> int:
    value = _positive_int(text)
    if value > 1000:
        raise argparse.ArgumentTypeError(f"at most 1000 levels per side: {text!r}")
    return value


def _choice(choices: Sequence[str]) -> Callable[[str], str]:
    """Case-insensitive, dashes or underscores: 'cancel-both' -> 'CANCEL_BOTH'."""

    def parse(text: str) -> str:
        value = text.strip().upper().replace("-", "_")
        if value not in choices:
            shown = ", ".join(c.lower().replace("_", "-") for c in choices)
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {shown}")
        return value

    return parse


def _upper(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.upper()
        for prefix in ("ORDER_STATUS_", "EVENT_TYPE_"):
            value = value.removeprefix(prefix)
        if value not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return value

    return parse


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--server and --json, accepted before and after the subcommand (a sub-parser's default must
    not overwrite what was given before it, hence SUPPRESS there)."""
    default_server = os.environ.get("ITIRP_SERVER") or DEFAULT_SERVER
    parser.add_argument(
        "--server", metavar="HOST:PORT", default=default_server if top else argparse.SUPPRESS,
        help=f"the ITIRP server (env ITIRP_SERVER; now {default_server})",
    )
    parser.add_argument(
        "--json", action="store_true", default=False if top else argparse.SUPPRESS,
        help="print JSON (one document; streams: one object per line) instead of tables",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _globals(common, top=False)
    parser = argparse.ArgumentParser(
        prog="itirp-cli",
        description="The ITIRP trading backend from a terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _globals(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, parent: Any = sub) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help, description=help, parents=[common], epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)

    p = command("login", "log in and save the token for this server")
    p.add_argument("--username", "-u")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of prompting")
    command("logout", "revoke the saved token and remove it")
    command("whoami", "who the saved token belongs to")

    p = command("submit", "submit an order")
    p.add_argument("symbol")
    p.add_argument("side", type=str.upper, choices=("BUY", "SELL"))
    p.add_argument("quantity", type=_positive_int)
    p.add_argument("price", type=_decimal, nargs="?",
                   help="limit price, e.g. 150.50 (a decimal, sent exactly as typed); none for a market order")
    p.add_argument("--type", type=_choice(("LIMIT", "MARKET")), default=None, metavar="limit|market",
                   help="a market order takes no price and never rests (internal venue); default limit")
    p.add_argument("--tif", type=_choice(("GTC", "IOC", "FOK", "DAY")), default=None, metavar="gtc|ioc|fok|day",
                   help="time in force (default gtc): good till cancelled, immediate or cancel, fill or kill, "
                        "or until the end of the day (UTC)")
    p.add_argument("--stp", type=_choice(("CANCEL_RESTING", "CANCEL_INCOMING", "CANCEL_BOTH")), default=None,
                   metavar="cancel-resting|cancel-incoming|cancel-both",
                   help="self-trade prevention when the order would trade with your own resting order "
                        "(default cancel-resting)")
    p.add_argument("--strategy", default="")
    p.add_argument("--client-order-id", default=None, help="your id for the order (unique per user; one is generated otherwise)")

    p = command("cancel", "cancel an order that is not executing yet")
    p.add_argument("order_id")
    p.add_argument("--reason", default="")

    p = command("amend", "change a resting order's size and/or price (internal venue)")
    p.add_argument("order_id")
    p.add_argument("--quantity", type=_positive_int, metavar="N", help="the new total size, filled part included")
    p.add_argument("--price", type=_decimal, metavar="P", help="the new limit price")

    p = command("order", "one order in detail")
    p.add_argument("order_id")

    p = command("orders", "list orders, newest first")
    p.add_argument("--status", action="append", type=_upper(ORDER_STATUSES), metavar="STATUS",
                   help=f"repeatable: {', '.join(ORDER_STATUSES)}")
    p.add_argument("--symbol")
    p.add_argument("--user-id", help="only this user's orders (RISK_MANAGER and above)")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many (default 50)")

    p = command("watch", "live order status: the open orders, then every change (Ctrl-C to stop)")
    p.add_argument("--order-id", help="only this order")
    p.add_argument("--count", type=_positive_int, metavar="N", help="stop after N updates (the current state included)")

    p = command("book", "the order book of a symbol (internal venue), best prices first")
    p.add_argument("symbol")
    p.add_argument("--depth", type=_depth, default=10, metavar="N", help="price levels per side (default 10)")
    p.add_argument("--watch", action="store_true", help="keep the book up to date live (Ctrl-C to stop)")
    p.add_argument("--count", type=_positive_int, metavar="N", help="with --watch: stop after N states of the book")

    p = command("trades", "trades of a symbol as they happen (internal venue; Ctrl-C to stop)")
    p.add_argument("symbol")
    p.add_argument("--from-sequence", type=_count, metavar="N",
                   help="first the trades after event sequence N (1: every trade so far); else only new ones")
    p.add_argument("--count", type=_positive_int, metavar="N", help="stop after N trades")

    p = command("positions", "positions with P&L")
    p.add_argument("--symbol")
    command("risk", "current exposure and kill switch")

    limits = command("limits", "risk limits")
    limits_sub = limits.add_subparsers(dest="limits_command", required=True, metavar="show|set")
    command("show", "the current limits", limits_sub)
    p = command("set", "change limits (RISK_MANAGER and above); unset ones keep their value", limits_sub)
    for name in LIMIT_FIELDS:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=_decimal, metavar="AMOUNT")
    p.add_argument("--reason", default="", help="recorded in the audit log")

    p = command("kill-switch", "turn the kill switch on (reject every new order) or off (RISK_MANAGER and above)")
    p.add_argument("state", type=str.lower, choices=("on", "off"))
    p.add_argument("--reason", required=True, help="recorded in the audit log")

    audit = command("audit", "the audit log (COMPLIANCE and above)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="tail|trail|verify")
    p = command("tail", "the newest events, then follow live ones (Ctrl-C to stop)", audit_sub)
    p.add_argument("--from-sequence", type=_count, metavar="N", help="start after sequence N (0: from the very first event)")
    p.add_argument("--last", type=_count, default=10, metavar="N", help="without --from-sequence: start with the last N events (default 10)")
    p.add_argument("--type", action="append", type=_upper(EVENT_TYPES), metavar="EVENT_TYPE",
                   help="repeatable, e.g. ORDER_CREATED, RISK_CHECK_FAILED, KILL_SWITCH_ACTIVATED")
    p.add_argument("--count", type=_positive_int, metavar="N", help="stop after N events")
    p = command("trail", "every event of an order id or a correlation id", audit_sub)
    p.add_argument("id", help="an order id or a correlation id")
    command("verify", "walk the hash chain of the whole log", audit_sub)

    command("metrics", "system metrics: orders, events, circuit breaker, risk, submit latency")
    return parser


def command_name(args: argparse.Namespace) -> str:
    sub = getattr(args, f"{args.command.replace('-', '_')}_command", None)
    return f"{args.command} {sub}" if sub else args.command


# ---------------------------------------------------------------------------------- errors


REFUSALS: dict[type[ItirpError], str] = {
    PermissionDenied: "not allowed",
    InvalidRequest: "invalid request",
    NotFound: "not found",
    DuplicateOrder: "duplicate order",
    OrderStateConflict: "refused",
    TooManyRequests: "too many requests",
}

# gRPC's own words for a transport failure, as opposed to a server that answered UNAVAILABLE itself.
_TRANSPORT_HINTS = ("failed to connect", "connection refused", "socket closed", "connection reset", "dns resolution",
                    "name resolution", "no route to host")


def explain(error: ItirpError, server: str) -> CliError:
    """A typed client error as a trader's message and an exit code."""
    if isinstance(error, NotAuthenticated):
        return CliError(f"not logged in to {server}: {error.message}; run itirp-cli login", EXIT_REFUSED)
    if isinstance(error, ServerUnavailable):
        detail = error.message.lower()
        if error.code == "DEADLINE_EXCEEDED" or any(hint in detail for hint in _TRANSPORT_HINTS):
            return CliError(f"cannot reach the ITIRP server at {server}: is it running? ({error.message})", EXIT_UNREACHABLE)
        return CliError(f"the ITIRP server at {server} could not carry this out, nothing was done: {error.message}",
                        EXIT_UNREACHABLE)
    for kind, prefix in REFUSALS.items():
        if isinstance(error, kind):
            return CliError(f"{prefix}: {error.message}", EXIT_REFUSED)
    return CliError(f"the server answered with an error ({error.code or 'unknown'}): {error.message}", EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    name = command_name(args)
    ctx = Context(server=args.server, json=args.json, args=args)
    try:
        return COMMANDS[name](ctx)
    except CliError as exc:
        if exc.code == EXIT_USAGE:
            parser.error(exc.message)
        say(f"itirp-cli: {exc.message}")
        return exc.code
    except ItirpError as exc:
        error = explain(exc, ctx.server)
        say(f"itirp-cli: {error.message}")
        return error.code
    except KeyboardInterrupt:
        if name in STREAMING or (name == "book" and args.watch):
            return EXIT_OK
        say("itirp-cli: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `itirp-cli audit tail | head`
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
