"""`itirp-cli` with several server addresses (a two-node layout), as a subprocess against a real
`itirp serve`: an address with nothing listening is passed over, and `info` shows the node."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import PASSWORDS, Desk, closed_port


def test_several_servers_and_info(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    nothing = f"127.0.0.1:{closed_port()}"
    both = f"{nothing}, {server.address}"  # written one way: the saved token's key
    terminal = Desk(both, tmp_path / "tokens.json")
    login = terminal("login", "--username", "trader1", "--password-stdin", input=PASSWORDS["trader1"] + "\n")
    assert login.returncode == 0, login.stderr
    assert list(json.loads(terminal.config.read_text())) == [f"{nothing},{server.address}"]

    info = terminal.ok("info")
    labels = [line.split("  ")[0].strip() for line in info.splitlines()]
    for label in ("address", "node", "role", "term", "leader", "store"):
        assert label in labels, (label, info)
    assert server.address in info  # the node that answered

    doc = terminal.json("info")
    assert doc["address"] == server.address
    assert {"node_id", "role", "term", "leader_address", "store"} <= set(doc)

    assert "trader1" in terminal.ok("whoami")
    usage = terminal("--server", " , ", "whoami")
    assert usage.returncode == 2
    assert "not a server address" in usage.stderr
