"""`itirp-cli` and the CSV example terminal, as subprocesses against a real `itirp serve`."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, run

CLI = BIN / "itirp-cli"
EXAMPLES = Path(__file__).resolve().parents[2] / "clients" / "examples"
PASSWORDS = {
    "trader1": "trader123",
    "trader2": "trader234",
    "risk1": "risk123",
    "compliance1": "compliance123",
    "admin": "admin123",
}


class Desk:
    """One user's terminal: its own token file, pointed at one server."""

    def __init__(self, address: str, config: Path) -> None:
        self.address = address
        self.config = config
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
        self.env = {**inherited, "ITIRP_SERVER": address, "ITIRP_CLI_CONFIG": str(config)}

    def __call__(self, *args: str, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return run(CLI, *args, env=self.env, input=input, timeout=timeout)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self.ok("--json", *args))

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(CLI), *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


def desk(server, tmp_path: Path, username: str) -> Desk:  # type: ignore[no-untyped-def]
    terminal = Desk(server.address, tmp_path / f"{username}-config" / "tokens.json")
    result = terminal("login", "--username", username, "--password-stdin", input=PASSWORDS[username] + "\n")
    assert result.returncode == 0, result.stderr
    assert f"as {username}" in result.stdout
    return terminal


def wait_until_live(proc: subprocess.Popen[str], timeout: float = 15) -> str:
    """The stream commands say on stderr when they have caught up and follow live changes."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stderr.readline()), daemon=True).start()  # type: ignore[union-attr]
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        proc.kill()
        raise AssertionError(f"stream did not start: {proc.communicate()}") from None


class WatchLines:
    """A running `itirp-cli watch`: its stderr ("err") and stdout ("out") lines as they come, read
    by two threads, and every line seen so far; `stop` interrupts it and closes its pipes."""

    def __init__(self, watch: subprocess.Popen[str]) -> None:
        self.watch = watch
        self.seen: list[tuple[str, str]] = []
        self._lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self._readers = [
            threading.Thread(target=lambda n=name, p=pipe: [self._lines.put((n, line)) for line in p], daemon=True)  # type: ignore[misc, union-attr]
            for name, pipe in (("err", watch.stderr), ("out", watch.stdout))
        ]
        for reader in self._readers:
            reader.start()

    def next_line(self, kind: str, timeout: float) -> str:
        while True:
            item = self._lines.get(timeout=timeout)
            self.seen.append(item)
            if item[0] == kind:
                return item[1]

    def stop(self) -> None:
        self.watch.send_signal(signal.SIGINT)
        self.watch.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        self.watch.stdout.close()  # type: ignore[union-attr]
        self.watch.stderr.close()  # type: ignore[union-attr]

    def updates(self) -> list[list[str]]:
        """The order updates shown (each line's words after the first)."""
        return [line.split()[1:] for kind, line in self.seen if kind == "out"]


def finish(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"did not finish: {proc.communicate()}") from None
    assert proc.returncode == 0, (proc.returncode, out, err)
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_trader_desk_from_the_shell(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader = desk(server, tmp_path, "trader1")

    # the token is kept per server, readable by its owner only
    assert stat.S_IMODE(trader.config.stat().st_mode) == 0o600
    saved = json.loads(trader.config.read_text())
    assert saved[server.address]["username"] == "trader1"
    assert saved[server.address]["token"]

    table = trader.ok("submit", "AAPL", "BUY", "100", "150.50", "--strategy", "momentum")
    assert "APPROVED" in table
    assert "order id" in table
    reply = trader.json("submit", "MSFT", "sell", "10", "410.25", "--client-order-id", "cli-test-1")
    assert reply["status"] == "ORDER_STATUS_APPROVED"
    assert reply["order"]["price"] == "410.25"
    msft = reply["order_id"]

    rejected = trader("submit", "TSLA", "BUY", "100000", "200")
    assert rejected.returncode == 4
    assert "REJECTED" in rejected.stdout
    assert "POSITION_LIMIT" in rejected.stdout
    assert "rejected by pre-trade risk: POSITION_LIMIT" in rejected.stderr
    assert trader("--json", "submit", "TSLA", "BUY", "100000", "200").returncode == 4

    duplicate = trader("submit", "MSFT", "SELL", "10", "410.25", "--client-order-id", "cli-test-1")
    assert duplicate.returncode == 3
    assert msft in duplicate.stderr
    invalid = trader("submit", "AAPL", "BUY", "1", "150.12345")
    assert invalid.returncode == 3
    assert "price" in invalid.stderr
    assert trader("submit", "AAPL", "HOLD", "1", "150").returncode == 2  # usage error

    orders = trader.json("orders")["orders"]
    assert [o["symbol"] for o in orders] == ["TSLA", "TSLA", "MSFT", "AAPL"]  # newest first
    listing = trader.ok("orders", "--status", "rejected")
    assert "TSLA" in listing
    assert "AAPL" not in listing
    assert "ORDER ID" in listing

    order = trader.json("order", msft)
    assert order["order_id"] == msft
    assert order["symbol"] == "MSFT"
    for _ in range(50):  # execution follows the reply
        if trader.json("order", msft)["status"] == "ORDER_STATUS_EXECUTED":
            break
    assert "EXECUTED" in trader.ok("order", msft)

    cancel = trader("cancel", msft, "--reason", "too late")
    assert cancel.returncode == 3
    assert "can no longer be cancelled" in cancel.stderr
    assert trader("order", "no-such-order").returncode == 3

    positions = trader.ok("positions")
    assert "MSFT" in positions
    assert "TOTAL" in positions
    assert trader.json("positions", "--symbol", "MSFT")["positions"][0]["quantity"] == "-10"
    assert "net exposure" in trader.ok("risk")
    assert trader.json("risk")["total_positions"] >= 1
    assert trader.json("limits", "show")["max_position_size"] == "1000000.00"
    metrics = trader.ok("metrics")
    assert "REJECTED" in metrics
    assert "p99" in metrics
    assert "CLOSED" in metrics

    refused = trader("limits", "set", "--max-position-size", "500000")
    assert refused.returncode == 3
    assert "requires the RISK_MANAGER role" in refused.stderr
    assert trader("kill-switch", "on", "--reason", "mine?").returncode == 3
    assert trader("audit", "verify").returncode == 3

    # global options after the subcommand too
    assert trader.ok("whoami", "--server", server.address).count("trader1") == 1

    assert "logged out" in trader.ok("logout")
    assert server.address not in json.loads(trader.config.read_text())
    after = trader("orders")
    assert after.returncode == 3
    assert f"not logged in to {server.address}: run itirp-cli login" in after.stderr


def test_risk_manager_limits_and_kill_switch_seen_live_by_compliance(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader, risk, compliance = (desk(server, tmp_path, u) for u in ("trader1", "risk1", "compliance1"))

    changed = risk.json("limits", "set", "--max-position-size", "500000", "--reason", "tighter for the open")
    assert changed["limits"]["max_position_size"] == "500000.00"
    assert changed["previous_limits"]["max_position_size"] == "1000000.00"
    assert "500,000.00" in trader.ok("limits", "show")

    tail = compliance.popen("--json", "audit", "tail", "--type", "KILL_SWITCH_ACTIVATED", "--last", "0", "--count", "1")
    assert "following the audit log" in wait_until_live(tail)

    assert risk("kill-switch", "on").returncode == 2  # a reason is required
    assert "kill switch is ON" in risk.ok("kill-switch", "on", "--reason", "fat-finger drill")
    assert "already ON" in risk.ok("kill-switch", "on", "--reason", "again")
    blocked = trader("submit", "AAPL", "BUY", "1", "150")
    assert blocked.returncode == 4
    assert "KILL_SWITCH_ACTIVE" in blocked.stdout

    event = json.loads(finish(tail))
    assert event["event_type"] == "EVENT_TYPE_KILL_SWITCH_ACTIVATED"
    activated = {"reason": "fat-finger drill", "username": "risk1", "cancel_working": False}
    assert event["kill_switch_activated"] == activated

    assert risk.json("kill-switch", "off", "--reason", "drill over")["changed"] is True
    assert trader("submit", "AAPL", "BUY", "1", "150").returncode == 0


def test_watch_follows_an_order_submitted_meanwhile(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader = desk(server, tmp_path, "trader1")

    as_json = trader.popen("watch", "--json", "--count", "6")
    as_table = trader.popen("watch", "--count", "6")
    assert "watching order updates" in wait_until_live(as_json)
    assert "watching order updates" in wait_until_live(as_table)

    order_id = trader.json("submit", "AAPL", "BUY", "100", "150.50")["order_id"]

    updates = [json.loads(line) for line in finish(as_json).splitlines()]
    assert {u["order"]["order_id"] for u in updates} == {order_id}
    statuses = [u["order"]["status"].removeprefix("ORDER_STATUS_") for u in updates]
    assert statuses == ["PENDING", "RISK_CHECK", "APPROVED", "EXECUTING", "WORKING", "EXECUTED"]
    lines = finish(as_table).splitlines()
    assert len(lines) == 6
    assert all(order_id in line for line in lines)
    assert "EXECUTED" in lines[-1]
    assert "filled 100 @ 150.50" in lines[-1]


def test_audit_tail_trail_and_verify_as_compliance(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader, compliance = desk(server, tmp_path, "trader1"), desk(server, tmp_path, "compliance1")
    reply = trader.json("submit", "AAPL", "BUY", "100", "150.50")
    order_id, correlation_id = reply["order_id"], reply["correlation_id"]

    first = compliance.ok("audit", "tail", "--from-sequence", "0", "--count", "4").splitlines()
    assert [line.split()[0] for line in first] == ["1", "2", "3", "4"]
    assert all("USER_CREATED" in line for line in first)
    created = json.loads(
        compliance.ok("--json", "audit", "tail", "--from-sequence", "0", "--type", "ORDER_CREATED", "--count", "1")
    )
    assert created["order_id"] == order_id
    assert created["order_created"]["symbol"] == "AAPL"

    by_order = compliance.json("audit", "trail", order_id)
    assert by_order["kind"] == "order"
    assert by_order["events"][0]["event_type"] == "EVENT_TYPE_ORDER_CREATED"
    trail = compliance.ok("audit", "trail", correlation_id)
    assert "ORDER_CREATED" in trail
    assert "RISK_CHECK_PASSED" in trail
    assert order_id in trail
    assert compliance.json("audit", "trail", correlation_id)["kind"] == "correlation"
    unknown = compliance("audit", "trail", "no-such-id")
    assert unknown.returncode == 3
    assert "no events for 'no-such-id'" in unknown.stderr

    verified = compliance("audit", "verify")
    assert verified.returncode == 0
    assert verified.stdout.startswith("ok: ")
    assert compliance.json("audit", "verify")["ok"] is True


def test_not_logged_in_and_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    address = f"127.0.0.1:{closed_port()}"
    nobody = Desk(address, tmp_path / "none.json")
    result = nobody("risk")
    assert result.returncode == 3
    assert result.stderr.strip() == f"itirp-cli: not logged in to {address}: run itirp-cli login"

    stale = Desk(address, tmp_path / "stale.json")
    stale.config.write_text(json.dumps({address: {"token": "x.y.z", "username": "trader1", "expires_at": 0}}))
    procs = [
        subprocess.Popen(
            [str(CLI), *args],
            env=d.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d, args in ((stale, ["positions"]), (nobody, ["login", "-u", "trader1", "--password-stdin"]))
    ]
    for proc in procs:
        _, err = proc.communicate("trader123\n", timeout=30)
        assert proc.returncode == 5, err
        assert f"cannot reach the ITIRP server at {address}" in err
        assert "Traceback" not in err


def test_refreshed_token_is_saved_at_exit(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 6 s tokens: shorter than the refresh margin, so the client refreshes half-way, ~3 s in
    server = start_server(env={"ITIRP_TOKEN_TTL_SECONDS": "6"})
    trader = desk(server, tmp_path, "trader1")
    before = json.loads(trader.config.read_text())[server.address]["token"]

    watch = trader.popen("watch", "--count", "1")
    wait_until_live(watch)
    threading.Event().wait(4)
    trader.ok("submit", "AAPL", "BUY", "1", "150")
    finish(watch)

    after = json.loads(trader.config.read_text())[server.address]
    assert after["token"] != before
    assert after["username"] == "trader1"
    assert stat.S_IMODE(trader.config.stat().st_mode) == 0o600
    assert "trader1" in trader.ok("whoami")  # the refreshed token works


def test_csv_example_terminal(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    result = run(
        sys.executable,
        EXAMPLES / "csv_orders.py",
        EXAMPLES / "orders.csv",
        "--server",
        server.address,
        "--username",
        "trader1",
        "--password",
        "trader123",
        "--timeout",
        "20",
        timeout=40,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    summary = result.stdout.split("\n\n")[-1]
    assert "10 orders: 9 EXECUTED, 1 REJECTED" in summary
    assert "submitted: REJECTED" in result.stdout
    assert "-> EXECUTED" in result.stdout


@pytest.mark.parametrize("argv", [["--help"], ["audit", "--help"]])
def test_help_documents_the_exit_codes(argv: list[str]) -> None:
    result = run(CLI, *argv)
    assert result.returncode == 0
    assert "exit codes:" in result.stdout
    assert "rejected by pre-trade risk" in result.stdout


def market_data_or_skip(terminal: Desk, symbol: str) -> None:
    probe = terminal("book", symbol)
    if probe.returncode == 1 and "UNIMPLEMENTED" in probe.stderr:
        pytest.skip("MarketDataService is not wired into the server yet (UNIMPLEMENTED)")
    assert probe.returncode == 0, probe.stderr


def test_internal_venue_order_types_amend_and_fills(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, "--venue", "internal")
    maker, taker = desk(server, tmp_path, "trader1"), desk(server, tmp_path, "risk1")

    resting = maker.json("submit", "AAPL", "SELL", "100", "150.50", "--tif", "day", "--stp", "cancel-both")
    assert resting["status"] == "ORDER_STATUS_WORKING"
    order = resting["order"]
    assert (order["time_in_force"], order["self_trade_prevention"]) == (
        "TIME_IN_FORCE_DAY",
        "SELF_TRADE_PREVENTION_CANCEL_BOTH",
    )
    assert order["remaining_quantity"] == "100"
    assert order["order_type"] == "ORDER_TYPE_LIMIT"
    ask = order["order_id"]

    amended = maker.ok("amend", ask, "--quantity", "80")
    assert "kept its place" in amended
    assert "WORKING" in amended
    repriced = maker.json("amend", ask, "--price", "150.40")
    assert repriced["priority_kept"] is False
    assert repriced["order"]["price"] == "150.40"

    took = taker.ok("submit", "AAPL", "BUY", "30", "--type", "market", "--tif", "ioc")
    assert "EXECUTED" in took
    assert "150.40" in took
    assert "remaining" in took
    assert "average price" in took
    partly = maker.ok("order", ask)
    assert "PARTIALLY_FILLED" in partly
    assert "DAY" in partly
    assert "CANCEL_BOTH" in partly
    assert "maker" in partly
    assert "TRADE ID" in partly
    listing = maker.ok("orders")
    header = listing.splitlines()[0]
    assert "FILLED" in header
    assert "REMAINING" in header
    assert "AVG PRICE" in header
    row = next(line for line in listing.splitlines() if ask in line)
    assert row.split()[7:11] == ["PARTIALLY_FILLED", "30", "50", "150.40"]  # status, filled, remaining, average
    assert [o["remaining_quantity"] for o in maker.json("orders")["orders"]] == ["50"]

    fok = taker.json("submit", "AAPL", "BUY", "1000", "150.40", "--tif", "FOK")
    assert fok["status"] == "ORDER_STATUS_CANCELLED"
    assert fok["order"]["filled_quantity"] == "0"

    # usage errors (2): a price for a market order, none for a limit one, unknown choices, nothing to amend
    assert taker("submit", "AAPL", "BUY", "1", "150", "--type", "market").returncode == 2
    assert taker("submit", "AAPL", "BUY", "1").returncode == 2
    assert taker("submit", "AAPL", "BUY", "1", "150", "--tif", "gtd").returncode == 2
    assert taker("submit", "AAPL", "BUY", "1", "150", "--stp", "cancel-nothing").returncode == 2
    assert maker("amend", ask).returncode == 2
    # refusals (3): an order that is not resting, a bad value
    executed = next(line.split()[-1] for line in took.splitlines() if line.startswith("order id"))
    refused = taker("amend", executed, "--quantity", "40")
    assert refused.returncode == 3
    assert "can be amended" in refused.stderr
    too_small = maker("amend", ask, "--quantity", "20")
    assert too_small.returncode == 3
    assert "quantity" in too_small.stderr
    assert maker("amend", "no-such-order", "--price", "1").returncode == 3


def test_book_and_trades_from_the_shell(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, "--venue", "internal")
    maker, taker = desk(server, tmp_path, "trader1"), desk(server, tmp_path, "risk1")
    market_data_or_skip(maker, "AAPL")

    assert "(empty book)" in maker.ok("book", "AAPL")
    maker.ok("submit", "AAPL", "BUY", "10", "99.50")
    maker.ok("submit", "AAPL", "BUY", "5", "99")
    maker.ok("submit", "AAPL", "SELL", "7", "100.25")
    ladder = maker.ok("book", "aapl").splitlines()
    assert ladder[0].startswith("AAPL  sequence 3")
    assert ladder[1].split() == ["BID", "QTY", "BID", "ASK", "ASK", "QTY"]
    assert ladder[2].split() == ["10", "99.50", "100.25", "7"]
    assert ladder[3].split() == ["5", "99.00"]
    assert ladder[-1] == "spread 0.75"
    top = maker.json("book", "AAPL", "--depth", "1")
    assert top["bids"] == [{"price": "99.50", "quantity": "10"}]
    assert top["depth"] == 1
    assert top["sequence"] == "3"
    assert maker("book", "AAPL", "--depth", "0").returncode == 2

    watch_json = taker.popen("--json", "book", "AAPL", "--watch", "--count", "3")
    watch_text = taker.popen("book", "AAPL", "--watch", "--count", "2", "--depth", "1")
    trades = taker.popen("trades", "AAPL", "--count", "2")
    assert "watching the AAPL book" in wait_until_live(watch_json)
    assert "watching the AAPL book" in wait_until_live(watch_text)
    assert "following AAPL trades" in wait_until_live(trades)

    took = taker.json("submit", "AAPL", "BUY", "3", "--type", "market")
    taker.ok("submit", "AAPL", "SELL", "4", "99.50", "--tif", "ioc")

    books = [json.loads(line) for line in finish(watch_json).splitlines()]
    assert [b["sequence"] for b in books] == ["3", "4", "5"]
    assert books[1]["asks"] == [{"price": "100.25", "quantity": "4"}]
    assert books[2]["bids"][0] == {"price": "99.50", "quantity": "6"}
    assert books[2] == maker.json("book", "AAPL") | {"timestamp": books[2]["timestamp"]}
    text = finish(watch_text)
    assert text.count("AAPL  sequence") == 2
    assert text.splitlines()[-2].split() == ["10", "99.50", "100.25", "4"]

    lines = finish(trades).splitlines()
    assert len(lines) == 2
    assert "AAPL BUY 3 @ 100.25" in lines[0]
    assert took["order"]["fills"][0]["trade_id"] in lines[0]
    assert "AAPL SELL 4 @ 99.50" in lines[1]

    # replay: every trade after a sequence, as JSON
    replayed = [
        json.loads(line)
        for line in taker.ok("--json", "trades", "AAPL", "--from-sequence", "1", "--count", "2").splitlines()
    ]
    assert [(t["quantity"], t["aggressor_side"]) for t in replayed] == [("3", "SIDE_BUY"), ("4", "SIDE_SELL")]
    after_first = taker.ok("trades", "AAPL", "--from-sequence", replayed[0]["sequence"], "--count", "1")
    assert "SELL 4 @ 99.50" in after_first


def test_market_data_on_the_simulated_venue_is_refused(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader = desk(server, tmp_path, "trader1")
    result = trader("book", "AAPL")
    if result.returncode == 1 and "UNIMPLEMENTED" in result.stderr:
        pytest.skip("MarketDataService is not wired into the server yet (UNIMPLEMENTED)")
    assert result.returncode == 3
    assert "--venue internal" in result.stderr


def test_a_cancel_straight_after_submit_on_the_default_venue_is_honoured(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Walk-past case 4, as a desk user met it: with the default (simulated) venue slow to answer,
    # every cancel straight after its submit was refused ("EXECUTING and can no longer be cancelled").
    # The demo desk as `make run` starts it (AAPL listed at 229.50, the simulated feed moving it);
    # bids at 210.00 are inside the 10% band and below the market, so they rest at the venue.
    demo = {
        "ITIRP_REFERENCE_DEMO_INSTRUMENTS": "1",
        "ITIRP_REFERENCE_INSTRUMENTS_FILE": "",
        "ITIRP_FEED_KIND": "simulated",
        "ITIRP_VENUE_LATENCY_SECONDS": "1",
    }
    server = start_server(None, env=demo)
    trader = desk(server, tmp_path, "trader1")
    order_ids, cancels = [], []
    for _ in range(3):
        order_ids.append(trader.json("submit", "AAPL", "BUY", "10", "210.00")["order_id"])
        cancels.append(trader("cancel", order_ids[-1], "--reason", "changed my mind"))

    assert [c.returncode for c in cancels] == [0, 0, 0], [c.stderr for c in cancels]
    assert all("PENDING_CANCEL" in c.stdout or "CANCELLED" in c.stdout for c in cancels)
    for order_id in order_ids:
        for _ in range(100):  # the venue answers the order, then the cancel, each after its latency
            status = trader.json("order", order_id)["status"]
            if status == "ORDER_STATUS_CANCELLED":
                break
            time.sleep(0.05)
        assert status == "ORDER_STATUS_CANCELLED"


def test_watch_says_when_it_lost_the_server_and_when_it_is_back(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Issue 12: `itirp-cli watch` showed nothing for 43 s after the server stopped, then exited.
    port = closed_port()
    data = tmp_path / "data"
    server = start_server(data, "--listen", f"127.0.0.1:{port}")
    trader = desk(server, tmp_path, "trader1")
    first = trader.json("submit", "AAPL", "BUY", "10", "150.00")["order_id"]
    watch = trader.popen("watch")
    assert "watching order updates" in wait_until_live(watch)
    lines = WatchLines(watch)
    try:
        # Act 1: the server dies
        server.kill()

        # Assert 1: the terminal says so within a couple of seconds, and keeps trying
        said = lines.next_line("err", timeout=10)
        assert said.startswith("reconnecting…"), said

        # Act 2: the server is back on the same address; a new order moves
        restarted = start_server(data, "--listen", f"127.0.0.1:{port}")
        while not said.startswith("resumed from sequence"):
            said = lines.next_line("err", timeout=30)
        second = desk(restarted, tmp_path, "trader1").json("submit", "AAPL", "BUY", "10", "150.00")["order_id"]
        while not (second in said and "EXECUTED" in said):
            said = lines.next_line("out", timeout=30)
    finally:
        lines.stop()

    # Assert 2: the new order shown; nothing shown twice across the reconnect
    updates = lines.updates()
    assert len(updates) == len({tuple(u) for u in updates})
    assert all(u[0] in (first, second) for u in updates)


def test_cancel_all_from_the_shell(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, "--venue", "internal")
    trader, risk = desk(server, tmp_path, "trader1"), desk(server, tmp_path, "risk1")
    mine = [trader.json("submit", "AAPL", "BUY", "10", price)["order_id"] for price in ("150.00", "149.00")]
    theirs = risk.json("submit", "MSFT", "BUY", "10", "300.00")["order_id"]

    said = trader.ok("cancel-all", "--reason", "going home")
    assert "2 order(s) cancelled, 0 pending at the venue" in said
    assert all(order_id in said for order_id in mine)
    assert trader.json("cancel-all").get("cancelled_order_ids", []) == []  # nothing left
    refused = trader("cancel-all", "--account", "NOPE")
    assert refused.returncode == 3
    assert risk.json("order", theirs)["status"] == "ORDER_STATUS_WORKING"
    assert theirs in risk.ok("cancel-all", "--scope", "INSTRUMENT:MSFT")
