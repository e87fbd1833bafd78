"""`itirp` — the server's command line: `serve`, `users add|list|passwd|disable`, `audit export|verify`."""

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

from itirp import __version__
from itirp.config import Config, ConfigError

__all__ = ["main"]

log = logging.getLogger("itirp")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None, help="data folder (env ITIRP_DATA_DIR; default ./data)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="itirp", description="ITIRP trading backend")
    parser.add_argument("--version", action="version", version=f"itirp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--listen", default=None, help="HOST:PORT (env ITIRP_LISTEN; default 127.0.0.1:50051)")
    _add_data_dir(serve)
    serve.add_argument(
        "--event-loop", choices=("uvloop", "asyncio"), default=None, help="event loop (env ITIRP_EVENT_LOOP; default uvloop)"
    )
    serve.add_argument(
        "--no-demo-users",
        dest="demo_users",
        action="store_false",
        default=None,
        help="do not seed or accept the demo desk users (env ITIRP_DEMO_USERS=0)",
    )
    serve.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (env ITIRP_LOG_LEVEL)")
    serve.add_argument("--log-format", choices=("json", "text"), default=None, help="env ITIRP_LOG_FORMAT")
    serve.add_argument("--shutdown-grace", dest="shutdown_grace_seconds", type=float, default=None)
    serve.add_argument("--drain-delay", dest="drain_delay_seconds", type=float, default=None)
    serve.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="start even on an event log that does not verify, appending nothing (for investigation)",
    )
    serve.add_argument(
        "--venue",
        choices=("simulated", "internal"),
        default=None,
        help="where approved orders go: the simulated venue or the desk's own order books (env ITIRP_VENUE; default simulated)",
    )
    serve.add_argument("--heartbeat", dest="heartbeat_seconds", type=float, default=None, help="idle stream heartbeat, s")
    serve.add_argument(
        "--metrics-listen",
        default=None,
        metavar="HOST:PORT",
        help="serve Prometheus metrics over HTTP at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 "
        '(env ITIRP_METRICS_LISTEN; default off; "" turns them off)',
    )

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
    pw = users_sub.add_parser("passwd", help="set a user's password")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    _add_data_dir(pw)
    dis = users_sub.add_parser("disable", help="disable a user: no login, existing tokens refused")
    dis.add_argument("username")
    _add_data_dir(dis)
    audit = sub.add_parser("audit", help="export and verify the event log offline")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write events as JSON lines with their hashes")
    _add_data_dir(export)
    export.add_argument("--from", dest="from_sequence", type=int, default=1, help="first sequence (default 1)")
    export.add_argument("--to", dest="to_sequence", type=int, default=None, help="last sequence (default: head)")
    export.add_argument("--correlation-id", default=None, help="only the events of this correlation id")
    export.add_argument("-o", "--output", default=None, help="file to write (default stdout)")
    verify = audit_sub.add_parser("verify", help="recompute every hash of an exported file")
    verify.add_argument("file")
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
    from itirp.auth.users import UserExists, UserNotFound, UserStore

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
                print(json.dumps([
                    {"username": u.username, "user_id": u.user_id, "role": u.role.name, "disabled": u.disabled, "demo": u.demo}
                    for u in users
                ], indent=2))
            else:
                print(f"{'USERNAME':<16} {'ROLE':<13} {'STATE':<9} USER ID")
                for u in users:
                    state = "disabled" if u.disabled else ("demo" if u.demo else "active")
                    print(f"{u.username:<16} {u.role.name:<13} {state:<9} {u.user_id}")
        elif args.users_command == "passwd":
            try:
                store.set_password(args.username, _read_password(args.password_stdin))
            except UserNotFound as exc:
                raise SystemExit(f"itirp: {exc}") from None
            print(f"password changed for {args.username}")
        elif args.users_command == "disable":
            try:
                store.set_disabled(args.username)
            except UserNotFound as exc:
                raise SystemExit(f"itirp: {exc}") from None
            print(f"disabled {args.username}: logins refused, its tokens refused within seconds")
    finally:
        store.close()
    return 0


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
        config = Config.from_env(
            listen=args.listen,
            data_dir=args.data_dir,
            event_loop=args.event_loop,
            demo_users=args.demo_users,
            log_level=args.log_level.upper() if args.log_level else None,
            log_format=args.log_format,
            shutdown_grace_seconds=args.shutdown_grace_seconds,
            drain_delay_seconds=args.drain_delay_seconds,
            read_only=args.read_only,
            heartbeat_seconds=args.heartbeat_seconds,
            metrics_listen=args.metrics_listen,
            venue=args.venue,
        )
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
    except (OSError, StoreError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    finally:
        writer.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _run_serve(args)
    if args.command == "users":
        return _users(args)
    if args.command == "audit":
        from itirp import audit_cli

        if args.audit_command == "export":
            args.data_dir = args.data_dir or Path(os.environ.get("ITIRP_DATA_DIR") or "data")
            return audit_cli.main_export(args)
        return audit_cli.main_verify(args)
    raise AssertionError(args.command)
