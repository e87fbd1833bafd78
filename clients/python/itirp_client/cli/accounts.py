"""`desks`, `accounts`, `entitlements` and `entitle`: the firm's hierarchy and who may book to
which account (`entitle`: ADMIN)."""

from __future__ import annotations

from itirp.v1 import account_pb2
from itirp_client.cli.base import EXIT_OK, AddCommand, Context
from itirp_client.cli.render import as_dict, emit_json, key_values, table
from itirp_client.cli.tokens import session

__all__ = ["register"]


def register(add: AddCommand) -> None:
    add("desks", "the desks you see (a trader: the desks of their accounts)", cmd_desks)
    p = add("accounts", "the accounts you see, with the traders entitled to each", cmd_accounts)
    p.add_argument("--desk", default="", type=str.upper, help="only this desk's accounts")
    p = add("entitlements", "who may book to which accounts (a trader: their own)", cmd_entitlements)
    p.add_argument("--user", default="", help="only this trader (RISK_MANAGER and above)")
    p = add("entitle", "set the accounts a trader may book to, replacing theirs (ADMIN)", cmd_entitle)
    p.add_argument("username")
    p.add_argument(
        "--account",
        dest="accounts",
        action="append",
        default=[],
        type=str.upper,
        metavar="ACCOUNT",
        help="an account they may book to (repeat for more; none: only the house account)",
    )
    p.add_argument("--default", default="", type=str.upper, help="where an order naming no account goes (the first)")
    p.add_argument("--reason", required=True, help="recorded in the audit log")


def kind_name(kind: int) -> str:
    return str(account_pb2.AccountKind.Name(kind)).removeprefix("ACCOUNT_KIND_")


def cmd_desks(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        desks = client.list_desks()
    if ctx.json:
        emit_json([as_dict(d) for d in desks])
        return EXIT_OK
    print(table(("DESK", "NAME"), [(d.desk_id, d.name) for d in desks]))
    return EXIT_OK


def cmd_accounts(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        accounts = client.list_accounts(ctx.args.desk)
    if ctx.json:
        emit_json([as_dict(a) for a in accounts])
        return EXIT_OK
    rows = [(a.account_id, a.desk_id, kind_name(a.kind), a.name, ", ".join(a.traders) or "-") for a in accounts]
    print(table(("ACCOUNT", "DESK", "KIND", "NAME", "TRADERS"), rows))
    return EXIT_OK


def cmd_entitlements(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        entitlements = client.list_entitlements(ctx.args.user)
    if ctx.json:
        emit_json([as_dict(e) for e in entitlements])
        return EXIT_OK
    rows = [(e.username, e.default_account, ", ".join(e.accounts)) for e in entitlements]
    print(table(("TRADER", "DEFAULT", "ACCOUNTS"), rows))
    return EXIT_OK


def cmd_entitle(ctx: Context) -> int:
    a = ctx.args
    with session(ctx.server, ctx.transport) as client:
        reply = client.entitle_trader(a.username, a.accounts, reason=a.reason, default_account=a.default)
    if ctx.json:
        emit_json(as_dict(reply))
        return EXIT_OK
    now, before = reply.entitlement, reply.previous
    print(
        key_values(
            [
                ("trader", now.username),
                ("accounts", ", ".join(now.accounts) or "none (the house account)"),
                ("default", now.default_account or "HOUSE"),
                ("before", ", ".join(before.accounts) or "none"),
            ]
        )
    )
    return EXIT_OK
