"""`itirp-cli` with several server addresses (a two-node layout), as a subprocess against a real
`itirp serve`: an address with nothing listening is passed over, and `info` shows the node."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import PASSWORDS, Desk, WatchLines, closed_port, wait_until_live


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


def test_watch_follows_the_server_killed_and_served_again_at_the_other_address(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`kill -9` of the node the terminal is on, the same event log served at the other address
    listed (the leader moved): `watch` says where it went and goes on; nothing is shown twice."""
    first_port, second_port = closed_port(), closed_port()
    both = f"127.0.0.1:{first_port},127.0.0.1:{second_port}"
    data = tmp_path / "data"
    server = start_server(data, "--listen", f"127.0.0.1:{first_port}")
    trader = Desk(both, tmp_path / "tokens.json")
    login = trader("login", "--username", "trader1", "--password-stdin", input=PASSWORDS["trader1"] + "\n")
    assert login.returncode == 0, login.stderr
    first = trader.json("submit", "AAPL", "BUY", "10", "150.00")["order_id"]
    watch = trader.popen("watch")
    assert "watching order updates" in wait_until_live(watch)
    lines = WatchLines(watch)
    try:
        server.kill()
        said = lines.next_line("err", timeout=10)
        assert said.startswith("reconnecting…"), said

        start_server(data, "--listen", f"127.0.0.1:{second_port}")
        while not said.startswith("resumed from sequence"):
            said = lines.next_line("err", timeout=30)
        assert said.strip().endswith(f"at 127.0.0.1:{second_port}"), said
        second = trader.json("submit", "AAPL", "BUY", "10", "150.00")["order_id"]  # passes over the dead one
        while not (second in said and "EXECUTED" in said):
            said = lines.next_line("out", timeout=30)
    finally:
        lines.stop()

    updates = lines.updates()
    assert len(updates) == len({tuple(u) for u in updates})
    assert all(u[0] in (first, second) for u in updates)
