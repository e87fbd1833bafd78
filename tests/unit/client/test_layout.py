"""The client's shape: the blocking client spells out every call of the asyncio one, modules and
functions stay small, and each command group registers its own sub-commands."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import itirp_client
from itirp_client.aio import AsyncClient
from itirp_client.cli import app
from itirp_client.sync import Client

PACKAGE = Path(itirp_client.__file__).parent


def calls(cls: type) -> dict[str, list[inspect.Parameter]]:
    """The public methods of `cls` and its bases, with their parameters after `self`."""
    found: dict[str, list[inspect.Parameter]] = {}
    for klass in reversed(cls.__mro__[:-1]):
        for name, member in vars(klass).items():
            if not name.startswith("_") and inspect.isfunction(member):
                found[name] = list(inspect.signature(member).parameters.values())[1:]
    return found


def test_the_blocking_client_writes_out_every_call_with_the_same_parameters() -> None:
    asynchronous, blocking = calls(AsyncClient), calls(Client)
    assert set(asynchronous) == set(blocking)
    for name, parameters in asynchronous.items():
        assert parameters == blocking[name], name
    assert "__getattr__" not in vars(Client)


def test_streams_of_the_blocking_client_are_generators_of_the_same_items() -> None:
    for name in calls(AsyncClient):
        returns = str(inspect.signature(getattr(AsyncClient, name)).return_annotation)
        blocking = str(inspect.signature(getattr(Client, name)).return_annotation)
        if returns.startswith("AsyncGenerator["):
            assert blocking == returns.replace("AsyncGenerator[", "Generator[").replace(", None]", ", None, None]")
        else:
            assert blocking == returns, name


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_above_600_lines_nor_function_above_80(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= 600
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            assert node.end_lineno - node.lineno + 1 <= 80, f"{node.name} is too long"


def test_every_command_group_registers_its_commands_in_help_order() -> None:
    parser = app.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # argparse keeps sub-parsers here
    assert list(sub.choices) == [  # type: ignore[arg-type]
        "login",
        "logout",
        "whoami",
        "submit",
        "cancel",
        "cancel-all",
        "amend",
        "order",
        "orders",
        "watch",
        "book",
        "trades",
        "instruments",
        "quote",
        "quotes",
        "desks",
        "accounts",
        "entitlements",
        "entitle",
        "positions",
        "risk",
        "limits",
        "kill-switch",
        "audit",
        "info",
        "metrics",
    ]
    commands = (
        ["whoami"],
        ["limits", "show"],
        ["audit", "verify"],
        ["book", "AAPL", "--watch"],
        ["instruments", "list"],
        ["entitle", "trader1", "--account", "EQ-PROP", "--reason", "r"],
    )
    for argv in commands:
        assert callable(parser.parse_args(argv).run), argv
