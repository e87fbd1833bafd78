"""`itirp` — the server's command line: `serve`, `config`, `users add|list|passwd|disable|enable|set-role|unlock`,
`audit export|verify|public-key`, `instruments import|list`, `backup`, `restore`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from itirp import __version__
from itirp.config import Config, ConfigError, markdown_table, settings

if TYPE_CHECKING:
    from itirp.auth.users import UserStore

__all__ = ["main"]

log = logging.getLogger("itirp")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None, help="data folder (env ITIRP_DATA_DIR; default ./data)")


def _add_setting_flags(serve: argparse.ArgumentParser) -> None:
    """`itirp serve`'s flags, one per setting that declares one (dest: the setting's flat name)."""
    for s in settings():
        if s.flag is None:
            continue
        turns_off = s.flag.startswith("--no-")
        meaning = f"turn off: {s.meaning}" if turns_off else s.meaning
        help_text = f"{meaning} (env {s.env}; default {s.default_text()})".replace("`", "").replace("%", "%%")
        if s.type is bool:
            action = "store_false" if turns_off else "store_true"
            serve.add_argument(s.flag, dest=s.flat_names[0], action=action, default=None, help=help_text)
            continue
        kind = s.type if s.type in (int, float, Path) else str
        serve.add_argument(s.flag, dest=s.flat_names[0], type=kind, default=None, metavar=s.metavar, help=help_text)


def _add_change_flags(p: argparse.ArgumentParser) -> None:
    """A change the server records as an event: who (this account) and why (`--reason`)."""
    p.add_argument("--reason", default="", help="why, recorded in the event log with who ran the command")
    _add_data_dir(p)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="itirp", description="ITIRP trading backend")
    parser.add_argument("--version", action="version", version=f"itirp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gRPC server")
    _add_setting_flags(serve)
    config = sub.add_parser("config", help="show the configuration the environment gives, or document every setting")
    config.add_argument("--markdown", action="store_true", help="print the table of every setting (the README's)")

    users = sub.add_parser("users", help="manage users in the data folder")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="TRADER, RISK_MANAGER, COMPLIANCE or ADMIN")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _add_data_dir(add)
    lst = users_sub.add_parser("list", help="list users")
    lst.add_argument("--json", action="store_true")
    _add_data_dir(lst)
    pw = users_sub.add_parser(
        "passwd", help="set a user's password: tokens issued before it are refused (a lockout stays: see unlock)"
    )
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    _add_change_flags(pw)
    dis = users_sub.add_parser("disable", help="disable a user: no login, tokens refused, open streams ended")
    dis.add_argument("username")
    _add_change_flags(dis)
    ena = users_sub.add_parser("enable", help="enable a disabled user (tokens issued before the disable stay refused)")
    ena.add_argument("username")
    _add_change_flags(ena)
    role = users_sub.add_parser("set-role", help="change a user's role: applies to the next call, ends open streams")
    role.add_argument("username")
    role.add_argument("role", help="TRADER, RISK_MANAGER, COMPLIANCE or ADMIN")
    _add_change_flags(role)
    unlock = users_sub.add_parser("unlock", help="lift the failed-login lockout of a name, from every address")
    unlock.add_argument("username")
    _add_change_flags(unlock)
    audit = sub.add_parser("audit", help="export and verify the event log offline")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write events as JSON lines with their hashes")
    _add_data_dir(export)
    export.add_argument("--from", dest="from_sequence", type=int, default=1, help="first sequence (default 1)")
    export.add_argument("--to", dest="to_sequence", type=int, default=None, help="last sequence (default: head)")
    export.add_argument("--correlation-id", default=None, help="only the events of this correlation id")
    export.add_argument("-o", "--output", default=None, help="file to write (default stdout)")
    export.add_argument(
        "--database-url", default=None,
        help="read the PostgreSQL event log at this URL (default: ITIRP_DATABASE_URL when "
        "ITIRP_STORE=postgres, else DATA_DIR/events.db)",
    )  # fmt: skip
    verify = audit_sub.add_parser(
        "verify", help="recompute every hash of an exported file; check its range and its signed checkpoints"
    )
    verify.add_argument("file")
    verify.add_argument("--public-key", default=None, help="PEM file of the checkpoint key: check every signature")
    public_key = audit_sub.add_parser("public-key", help="print the checkpoint key's public half (PEM) for auditors")
    _add_data_dir(public_key)
    public_key.add_argument(
        "--key-file", default=None,
        help="the private key file (env ITIRP_STORE_CHECKPOINT_KEY_FILE; default DATA_DIR/checkpoint.key)",
    )  # fmt: skip
    from itirp import backup_cli, instruments_cli

    instruments_cli.add_parser(sub)
    backup_cli.add_parsers(sub)
    return parser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("itirp: passwords do not match")
    if len(password) < 8:
        raise SystemExit("itirp: password must be at least 8 characters")
    return password


def _users(args: argparse.Namespace) -> int:
    from itirp.auth.roles import Role
    from itirp.auth.users import UserExists, UserStore

    data_dir = args.data_dir or Path(os.environ.get("ITIRP_DATA_DIR") or "data")
    store = UserStore(data_dir / "users.db")
    try:
        if args.users_command == "add":
            try:
                role = Role.parse(args.role)
            except ValueError as exc:
                raise SystemExit(f"itirp: {exc}") from None
            try:
                user = store.add(args.username, _read_password(args.password_stdin), role)
            except (UserExists, ValueError) as exc:
                raise SystemExit(f"itirp: {exc}") from None
            print(f"created {user.username} ({user.role.name}), user id {user.user_id}")
        elif args.users_command == "list":
            users = store.list()
            if args.json:
                rows = [
                    {
                        "username": u.username,
                        "user_id": u.user_id,
                        "role": u.role.name,
                        "disabled": u.disabled,
                        "demo": u.demo,
                    }
                    for u in users
                ]
                print(json.dumps(rows, indent=2))
            else:
                print(f"{'USERNAME':<16} {'ROLE':<13} {'STATE':<9} USER ID")
                for u in users:
                    state = "disabled" if u.disabled else ("demo" if u.demo else "active")
                    print(f"{u.username:<16} {u.role.name:<13} {state:<9} {u.user_id}")
        else:
            _change_user(store, args)
    finally:
        store.close()
    return 0


def _actor() -> str:
    """Who ran the command: the operating-system account (recorded with the change)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


#: What each change command prints: what it does to the running server (which applies it within
#: its users refresh interval, `auth.user_refresh_seconds`).
_DONE = {
    "passwd": "password changed for {0}: tokens issued before it are refused (a lockout stays; see unlock)",
    "disable": "disabled {0}: logins refused, its tokens refused and its open streams ended within seconds",
    "enable": "enabled {0}: it can log in again (tokens issued before the disable stay refused)",
    "set-role": "{0} is now {1}: calls use the new role within seconds and its open streams end",
    "unlock": "unlocked {0}: failed logins forgotten from every address within seconds",
}


def _change_user(store: UserStore, args: argparse.Namespace) -> None:
    from itirp.auth.roles import Role
    from itirp.auth.users import UserNotFound

    who = {"actor": _actor(), "reason": args.reason}
    command, username, detail = args.users_command, args.username, ""
    try:
        if command == "passwd":
            store.set_password(username, _read_password(args.password_stdin), **who)
        elif command in ("disable", "enable"):
            store.set_disabled(username, command == "disable", **who)
        elif command == "set-role":
            try:
                detail = Role.parse(args.role).name
            except ValueError as exc:
                raise SystemExit(f"itirp: {exc}") from None
            store.set_role(username, Role[detail], **who)
        elif command == "unlock":
            store.note_unlock(username, **who)
        else:
            raise AssertionError(command)
    except UserNotFound as exc:
        raise SystemExit(f"itirp: {exc}") from None
    print(_DONE[command].format(username, detail))


async def _serve(config: Config) -> int:
    from itirp.server.bootstrap import serve

    running = await serve(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("signal received")
    await running.shutdown()
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    try:
        config = Config.from_env(**{s.flat_names[0]: getattr(args, s.flat_names[0]) for s in settings() if s.flag})
    except ConfigError as exc:
        print(f"itirp: {exc}", file=sys.stderr)
        return 2
    from itirp.observability.logging import setup_logging
    from itirp.store import StoreError, TamperedLogError

    writer = setup_logging(config.log_level, config.log_format)
    try:
        if config.event_loop == "uvloop":
            import uvloop

            return uvloop.run(_serve(config))
        return asyncio.run(_serve(config))
    except TamperedLogError as exc:
        log.error("cannot start: %s", exc, extra={"first_bad_sequence": exc.first_bad_sequence})
        return 3
    except ConfigError as exc:  # found at start: a TLS file or the checkpoint key that cannot be read or used
        log.error("cannot start: %s", exc)
        return 2
    except (OSError, StoreError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    finally:
        writer.stop()


def _config(args: argparse.Namespace) -> int:
    """`itirp config`: the settings the environment gives (secrets masked), or the reference table."""
    if args.markdown:
        print(markdown_table(), end="")
        return 0
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"itirp: {exc}", file=sys.stderr)
        return 2
    for s in settings():
        print(f"{s.path} = {s.value_in(config)!s}  ({s.env})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _run_serve(args)
    if args.command == "config":
        return _config(args)
    if args.command == "users":
        return _users(args)
    if args.command == "audit":
        from itirp import audit_cli

        if args.audit_command == "verify":
            return audit_cli.main_verify(args)
        args.data_dir = args.data_dir or Path(os.environ.get("ITIRP_DATA_DIR") or "data")
        if args.audit_command == "export":
            if args.database_url is None and os.environ.get("ITIRP_STORE") == "postgres":
                args.database_url = os.environ.get("ITIRP_DATABASE_URL") or None
                if args.database_url is None:
                    print("itirp: ITIRP_STORE=postgres needs ITIRP_DATABASE_URL (or --database-url)", file=sys.stderr)
                    return 2
            return audit_cli.main_export(args)
        args.key_file = args.key_file or os.environ.get("ITIRP_STORE_CHECKPOINT_KEY_FILE") or None
        return audit_cli.main_public_key(args)
    if args.command == "instruments":
        from itirp import instruments_cli

        return instruments_cli.main(args)
    if args.command in ("backup", "restore"):
        from itirp import backup_cli

        return backup_cli.main(args)
    raise AssertionError(args.command)
