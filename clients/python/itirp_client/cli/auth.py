"""`login`, `logout`, `whoami`: the saved session."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from itirp.v1 import common_pb2
from itirp_client.cli.base import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, AddCommand, CliError, Context, say
from itirp_client.cli.render import as_dict, emit_json, key_values, when
from itirp_client.cli.tokens import forget, remember, session, token_expiry
from itirp_client.errors import NotAuthenticated
from itirp_client.sync import Client

__all__ = ["register"]


def register(add: AddCommand) -> None:
    p = add("login", "log in and save the token for this server", cmd_login)
    p.add_argument("--username", "-u")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of prompting")
    add("logout", "revoke the saved token and remove it", cmd_logout)
    add("whoami", "who the saved token belongs to", cmd_whoami)


def cmd_login(ctx: Context) -> int:
    username = ctx.args.username or _prompt("username: ")
    if ctx.args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {username} at {ctx.server}: ")
    try:
        client = Client.connect(ctx.server, username, password, **ctx.transport.options)
    except NotAuthenticated as exc:
        raise CliError(f"login refused by {ctx.server}: {exc.message}", EXIT_REFUSED) from None
    with client:
        token, role, username = client.token, client.role, client.username or username
    expires_at = token_expiry(token)
    path = remember(ctx.server, token, username, expires_at)
    if ctx.json:
        emit_json(
            {
                "server": ctx.server,
                "username": username,
                "role": role,
                "expires_at": expires_at,
                "token_file": str(path),
            }
        )
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
        with session(ctx.server, ctx.transport) as client:
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
    with session(ctx.server, ctx.transport) as client:
        me = client.whoami()
    if ctx.json:
        emit_json(as_dict(me))
    else:
        print(
            key_values(
                [
                    ("server", ctx.server),
                    ("username", me.username),
                    ("role", common_pb2.Role.Name(me.role).removeprefix("ROLE_")),
                    ("user id", me.user_id),
                    ("token expires", when(me.expires_at)),
                ]
            )
        )
    return EXIT_OK
