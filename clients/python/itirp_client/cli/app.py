"""The `itirp-cli` command line: the parser (each command group registers its own sub-commands)
and `main`, which runs one command and turns what went wrong into a message and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from itirp_client.cli import accounts, audit, auth, instruments, market, orders, quotes, risk, system
from itirp_client.cli.base import (
    DEFAULT_SERVER,
    EPILOG,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    Context,
    Handler,
    Transport,
    say,
    servers,
)
from itirp_client.cli.tokens import session_expired
from itirp_client.errors import (
    DuplicateOrder,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    NotFound,
    OrderStateConflict,
    PermissionDenied,
    Reason,
    ServerUnavailable,
    TooManyRequests,
)

__all__ = ["build_parser", "explain", "main"]

#: In the order `itirp-cli --help` lists them.
GROUPS = (auth, orders, market, instruments, quotes, accounts, risk, audit, system)


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--server and --json, accepted before and after the subcommand (a sub-parser's default must
    not overwrite what was given before it, hence SUPPRESS there)."""
    default_server = os.environ.get("ITIRP_SERVER") or DEFAULT_SERVER
    parser.add_argument(
        "--server",
        metavar="HOST:PORT[,HOST:PORT]",
        type=servers,
        default=default_server if top else argparse.SUPPRESS,
        help=f"the ITIRP server, or the nodes of a two-node layout (env ITIRP_SERVER; now {default_server})",
    )
    for flag, env, meaning in (
        ("--ca", "ITIRP_CA", "TLS: the CA certificate (PEM) the server's certificate must chain to"),
        ("--cert", "ITIRP_CERT", "mutual TLS: this client's certificate (PEM)"),
        ("--key", "ITIRP_KEY", "mutual TLS: this client's private key (PEM)"),
    ):
        parser.add_argument(
            flag,
            metavar="PATH",
            default=(os.environ.get(env) or None) if top else argparse.SUPPRESS,
            help=f"{meaning} (env {env})",
        )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
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

    def add(name: str, help: str, run: Handler | None = None, parent: Any = None) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = (parent or sub).add_parser(
            name,
            help=help,
            description=help,
            parents=[common],
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if run is not None:
            p.set_defaults(run=run)
        return p

    for group in GROUPS:
        group.register(add)
    return parser


# ---------------------------------------------------------------------------------- errors


REFUSALS: dict[type[ItirpError], str] = {
    PermissionDenied: "not allowed",
    InvalidRequest: "invalid request",
    NotFound: "not found",
    DuplicateOrder: "duplicate order",
    OrderStateConflict: "refused",
    TooManyRequests: "too many requests",
}

#: gRPC's words for a TLS handshake that failed here (an unknown CA, a name the certificate lacks);
#: a server that refuses the client's certificate (or its absence) just closes the socket.
_TLS_WORDS = ("handshake", "ssl", "tls", "certificate")


def _unreachable(error: ItirpError, server: str, transport: Transport | None) -> CliError:
    """The call never reached a server: not running, or the two sides disagree about TLS."""
    if any(word in error.message.lower() for word in _TLS_WORDS):
        return CliError(
            f"no TLS connection to {server}: check --ca (and --cert, --key where the server wants a client "
            f"certificate) ({error.message})",
            EXIT_UNREACHABLE,
        )
    if transport is None:
        hint = ""
    elif transport.options:
        hint = "; or a TLS mismatch: does it speak TLS, and want a client certificate (--cert, --key)?"
    else:
        hint = "; or does it speak TLS only (--ca)?"
    return CliError(
        f"cannot reach the ITIRP server at {server}: is it running?{hint} ({error.message})", EXIT_UNREACHABLE
    )


def explain(error: ItirpError, server: str, transport: Transport | None = None) -> CliError:
    """A typed client error as a trader's message and an exit code (`transport`: how the call
    tried to reach the server, for the hint when it did not)."""
    if isinstance(error, NotAuthenticated):
        if error.reason == Reason.TOKEN_EXPIRED:  # the client could not refresh it in time
            return session_expired(server, error)
        return CliError(f"not logged in to {server}: {error.message}; run itirp-cli login", EXIT_REFUSED)
    if isinstance(error, ServerUnavailable):
        # a server that answered says why (a reason); no reason: the call never reached one
        if error.code == "DEADLINE_EXCEEDED" or not error.reason:
            return _unreachable(error, server, transport)
        return CliError(
            f"the ITIRP server at {server} could not carry this out, nothing was done: {error.message}",
            EXIT_UNREACHABLE,
        )
    for kind, prefix in REFUSALS.items():
        if isinstance(error, kind):
            return CliError(f"{prefix}: {error.message}", EXIT_REFUSED)
    return CliError(f"the server answered with an error ({error.code or 'unknown'}): {error.message}", EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(server=args.server, json=args.json, args=args, transport=Transport(args.ca, args.cert, args.key))
    run: Handler = args.run
    try:
        ctx.transport.check()
        return run(ctx)
    except CliError as exc:
        if exc.code == EXIT_USAGE:
            parser.error(exc.message)
        say(f"itirp-cli: {exc.message}")
        return exc.code
    except ItirpError as exc:
        error = explain(exc, ctx.server, ctx.transport)
        say(f"itirp-cli: {error.message}")
        return error.code
    except KeyboardInterrupt:  # the live streams end with 0 on Ctrl-C by themselves (run_until_interrupted)
        say("itirp-cli: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `itirp-cli audit tail | head`
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
