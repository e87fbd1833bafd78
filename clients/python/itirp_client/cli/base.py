"""What every command shares: exit codes, the error that ends a command, the context a command
gets, messages for the human, argument types, and the way a command registers itself."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from itirp_client.failover import parse_addresses

__all__ = [
    "DEFAULT_SERVER",
    "EPILOG",
    "EXIT_CHAIN_BROKEN",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_REJECTED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "AddCommand",
    "CliError",
    "Context",
    "Handler",
    "Transport",
    "choice",
    "count",
    "decimal",
    "depth",
    "positive_int",
    "run_until_interrupted",
    "say",
    "servers",
    "upper_choice",
]

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

The server is --server, else $ITIRP_SERVER, else 127.0.0.1:50051; several comma-separated addresses
(a two-node layout: a,b) are tried in turn, and writes follow the leader. Tokens live in $ITIRP_CLI_CONFIG,
else $XDG_CONFIG_HOME/itirp/tokens.json, else ~/.config/itirp/tokens.json (mode 0600).
TLS: --ca (the server's CA certificate, $ITIRP_CA), and for mutual TLS --cert and --key (this
client's certificate and key, $ITIRP_CERT, $ITIRP_KEY); without them the connection is plaintext.
"""


class CliError(Exception):
    """Ends the command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Transport:
    """How to reach the server: plaintext, or TLS with the server's CA (`--ca`) and, for mutual
    TLS, this client's certificate and key (`--cert`, `--key`); PEM file paths."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The client library's connect arguments (`ca=`, `cert=`, `key=`); none for plaintext."""
        return {name: value for name, value in (("ca", self.ca), ("cert", self.cert), ("key", self.key)) if value}

    def check(self) -> None:
        """A usage error (exit 2) for a certificate without its key, or a file that cannot be read."""
        if bool(self.cert) != bool(self.key):
            raise CliError("--cert and --key go together (a client certificate and its private key)", EXIT_USAGE)
        for flag, value in (("--ca", self.ca), ("--cert", self.cert), ("--key", self.key)):
            if value and not Path(value).expanduser().is_file():
                raise CliError(f"{flag} {value}: no such file", EXIT_USAGE)


@dataclass
class Context:
    """What every command gets: the server, how to reach it, the output mode, and its parsed arguments."""

    server: str
    json: bool
    args: argparse.Namespace
    transport: Transport = field(default_factory=Transport)


Handler = Callable[[Context], int]


class AddCommand(Protocol):
    """`add(name, help, run)`: a sub-command (of `parent`, a sub-parsers action, when given) that
    runs `run`; without `run`, a group whose own sub-commands do."""

    def __call__(
        self, name: str, help: str, run: Handler | None = None, parent: Any = None
    ) -> argparse.ArgumentParser: ...


def say(message: str) -> None:
    """A message for the human (stderr), never mixed with results."""
    print(message, file=sys.stderr, flush=True)


def run_until_interrupted(follow: Coroutine[Any, Any, int]) -> int:
    """Run a live stream until it ends or Ctrl-C, which is the normal end of a stream (exit 0)."""
    try:
        return asyncio.run(follow)
    except KeyboardInterrupt:
        return EXIT_OK


# ---------------------------------------------------------------------------------- argument types


def decimal(text: str) -> str:
    """A decimal string, kept exactly as typed (never turned into a float)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return text


def servers(text: str) -> str:
    """One HOST:PORT, or several comma-separated (the nodes of a two-node layout), written one
    way ("a:1, b:2" -> "a:1,b:2"): the saved token is kept under that text."""
    try:
        return ",".join(parse_addresses(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a server address: {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def depth(text: str) -> int:
    value = positive_int(text)
    if value > 1000:
        raise argparse.ArgumentTypeError(f"at most 1000 levels per side: {text!r}")
    return value


def choice(choices: Sequence[str]) -> Callable[[str], str]:
    """Case-insensitive, dashes or underscores: 'cancel-both' -> 'CANCEL_BOTH'."""

    def parse(text: str) -> str:
        value = text.strip().upper().replace("-", "_")
        if value not in choices:
            shown = ", ".join(c.lower().replace("_", "-") for c in choices)
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {shown}")
        return value

    return parse


def upper_choice(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.upper()
        for prefix in ("ORDER_STATUS_", "EVENT_TYPE_"):
            value = value.removeprefix(prefix)
        if value not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return value

    return parse
