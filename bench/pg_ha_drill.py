"""PostgreSQL's own HA drill: the primary killed under load, its synchronous standby promoted, the
ITIRP standby node taking over on the same multi-host URL; nothing acknowledged is lost.

Run: .venv/bin/python bench/pg_ha_drill.py [--callers 8] [--max-orders 3000] [--seed N] [--json]

Everything on 127.0.0.1, in temp folders, on free ports (tests/pg_server.py, tests/pg_replica.py):
1. a primary (wal_level=replica, max_wal_senders=10, trust for replication from 127.0.0.1) and a
   `pg_basebackup -R` standby with application_name=standby1; then synchronous_standby_names =
   'standby1', synchronous_commit = on, checked in pg_stat_replication (sync_state 'sync');
2. two `itirp serve --store postgres` nodes (real subprocesses, tests/e2e/conftest.ServerProcess),
   a leader and a standby, on
   `postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/DB?target_session_attrs=read-write`;
3. terminals submit orders with client order ids; at a random moment the primary (postmaster and
   every child) gets SIGKILL, and at once the standby is promoted (`pg_ctl promote -w`);
4. what the leader node does is observed (role, health, its log): its commit fails, it steps down;
   the standby node, whose connections open again on the promoted server, takes the lease there
   when it lapses and leads, with no restart; the old leader, restarted, rejoins as a standby;
5. every client order id that was not answered is sent again (answered, or ALREADY_EXISTS naming
   the order the lost answer was for); every acknowledged order is looked up with its status; the
   chain is verified (VerifyAuditLog) and the sequence checked gapless (tests/e2e/test_failover).
Promotion: a promote request that arrives while the standby's startup process waits for WAL
(its WAL receiver just lost the primary) is acted on only after `wal_retrieve_retry_interval`
(PostgreSQL's default 5 s; the standby's log says "waiting for WAL to become available"), so
"kill -9 -> promoted" is either ~0.1 s or ~5 s; `--wal-retrieve-retry-interval 200ms` shortens it.
Bounded: at most --max-orders orders, every wait has a deadline. Exit 0 only if nothing
acknowledged was lost. `--json` prints the report as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ helpers

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from itirp.v1 import common_pb2, order_pb2, order_pb2_grpc, system_pb2
from tests.e2e.conftest import ServerProcess
from tests.e2e.test_failover import (
    Answers,
    Md,
    Terminal,
    check_log,
    elections,
    login,
    node_env,
    role_of,
    until_role,
)
from tests.integration.test_two_nodes import provision_users
from tests.pg_replica import kill_9, make_synchronous, promote, replication_settings, start_standby
from tests.pg_server import PgServer, start_server

ROLE_NAMES = {v: k for k, v in system_pb2.NodeRole.items()} | {-1: "UNREACHABLE"}


@dataclass
class Report:
    replication: dict[str, str] = field(default_factory=dict)
    primary_settings: dict[str, str] = field(default_factory=dict)
    standby_settings: dict[str, str] = field(default_factory=dict)
    database_url: str = ""
    acknowledged_before_kill: int = 0
    unanswered_at_kill: int = 0
    unanswered_codes: dict[str, int] = field(default_factory=dict)
    promote_seconds: float = 0.0
    node_after_kill: dict[str, Any] = field(default_factory=dict)
    restarted_role: str = ""
    kill_to_leader_seconds: float = 0.0
    kill_to_first_ack_seconds: float = 0.0
    resent_answered: int = 0
    resent_already_existed: int = 0
    acknowledged: int = 0
    found: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    head_sequence: int = 0
    chain_verified: bool = False
    gapless: bool = False
    elections: list[tuple[str, int]] = field(default_factory=list)
    ok: bool = False
    failure: str = ""


def _order(client_order_id: str) -> order_pb2.SubmitOrderRequest:
    return order_pb2.SubmitOrderRequest(
        symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id=client_order_id
    )


@dataclass
class Load:
    """Callers submitting once per client order id; a caller whose submit fails records it and
    ends (the id is sent again after the restart)."""

    address: str
    md: Md
    max_orders: int
    answers: Answers = field(default_factory=Answers)
    unanswered: dict[str, str] = field(default_factory=dict)  # client order id -> status code
    sent: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def caller(self, n: int) -> None:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = order_pb2_grpc.OrderServiceStub(channel)
            while not self.stop.is_set() and self.sent < self.max_orders:
                self.sent += 1
                client_order_id = f"drill-{n}-{self.sent}"
                try:
                    reply = await stub.SubmitOrder(_order(client_order_id), metadata=self.md, timeout=5)
                except grpc.aio.AioRpcError as error:
                    self.unanswered[client_order_id] = error.code().name
                    return
                self.answers.accepted[reply.order_id] = reply


async def _health(address: str) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.aio.AioRpcError as error:
            return str(error.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def _observe(node: ServerProcess, md: Md, seconds: float) -> dict[str, Any]:
    """What the node does once its database is gone: role and health until it steps down (or the
    time is up), whether it is still running, and what it logged at warning or worse."""
    deadline = time.monotonic() + seconds
    start = time.monotonic()
    role = await role_of(node.address, md)
    while role != system_pb2.NODE_ROLE_STEPPED_DOWN and time.monotonic() < deadline and node.proc.poll() is None:
        await asyncio.sleep(0.1)
        role = await role_of(node.address, md)
    said = [
        f"{line.get('level')}: {line.get('msg')} {line.get('why', '') or line.get('error', '')}".strip()
        for line in node.log_lines()
        if str(line.get("level", "")).lower() in ("warning", "error", "critical")
    ]
    return {
        "role": ROLE_NAMES.get(role, str(role)),
        "seconds_until_that_role": round(time.monotonic() - start, 3),
        "health": await _health(node.address),
        "process_running": node.proc.poll() is None,
        "logged": said[-6:],
    }


async def _resend(address: str, md: Md, load: Load, report: Report) -> None:
    terminal = Terminal([address], md, load.answers)
    before = len(load.answers.accepted), len(load.answers.duplicates)
    for client_order_id in sorted(load.unanswered):
        await terminal.submit(client_order_id)
    report.resent_answered = len(load.answers.accepted) - before[0]
    report.resent_already_existed = len(load.answers.duplicates) - before[1]


async def _found(address: str, answers: Answers, report: Report) -> None:
    trader = await login(address, "trader1", "trader123")
    statuses: Counter[str] = Counter()
    async with grpc.aio.insecure_channel(address) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        for order_id in answers.accepted:
            try:
                got = (await orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=trader)).order
            except grpc.aio.AioRpcError:
                continue
            report.found += 1
            statuses[common_pb2.OrderStatus.Name(got.status)] += 1
    report.acknowledged = len(answers.accepted)
    report.statuses = dict(statuses)


async def _drill(primary: PgServer, standby: PgServer, work: Path, args: argparse.Namespace, report: Report) -> None:
    rng = random.Random(args.seed)
    db = primary.create_database().rsplit("/", 1)[1]
    report.replication = make_synchronous(primary, "standby1")
    report.primary_settings = replication_settings(primary)
    report.standby_settings = replication_settings(standby)
    url = f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{db}?target_session_attrs=read-write"
    report.database_url = url
    for name in ("a", "b"):
        provision_users(work / name, work / "users-template.db")
    node = ServerProcess(work / "a", work / "node-a-0.log", env=node_env(url, "node-a"))
    second = ServerProcess(work / "b", work / "node-b.log", env=node_env(url, "node-b"))
    try:
        md = await login(node.address, "trader1", "trader123")
        await until_role(node.address, md, system_pb2.NODE_ROLE_LEADER)
        await until_role(second.address, md, system_pb2.NODE_ROLE_STANDBY)
        load = Load(node.address, md, args.max_orders)
        callers = asyncio.gather(*(load.caller(n) for n in range(args.callers)))
        await asyncio.sleep(rng.uniform(0.5, 1.5))  # a random moment under load
        report.acknowledged_before_kill = len(load.answers.accepted)
        killed = time.monotonic()
        kill_9(primary)
        await asyncio.to_thread(promote, standby)
        report.promote_seconds = round(time.monotonic() - killed, 3)
        await asyncio.wait_for(callers, 30)
        report.unanswered_at_kill = len(load.unanswered)
        report.unanswered_codes = dict(Counter(load.unanswered.values()))
        report.node_after_kill = await _observe(node, md, 10.0)
        await until_role(second.address, md, system_pb2.NODE_ROLE_LEADER, 60.0)
        report.kill_to_leader_seconds = round(time.monotonic() - killed, 3)
        first = Terminal([second.address], md, load.answers)
        await first.submit("drill-after-takeover")
        report.kill_to_first_ack_seconds = round(time.monotonic() - killed, 3)
        node.stop(timeout=20)
        node = ServerProcess(work / "a", work / "node-a-1.log", env=node_env(url, "node-a"))
        report.restarted_role = ROLE_NAMES.get(await role_of(node.address, md), "?")
        await _resend(second.address, md, load, report)
        await _found(second.address, load.answers, report)
        pages = await check_log(second.address, load.answers)  # asserts: verified, gapless, all found
        report.chain_verified = report.gapless = True
        report.head_sequence = pages[-1].events[-1].sequence if pages[-1].events else 0
        report.elections = elections(pages)
        report.ok = report.found == report.acknowledged > 0
    finally:
        node.stop(timeout=20)
        second.stop(timeout=20)


def _print(report: Report) -> None:
    node = report.node_after_kill
    print("PostgreSQL HA drill: primary kill -9, synchronous standby promoted, the ITIRP standby node takes over")
    print(f"  replication before the kill   {report.replication} {report.primary_settings}")
    print(f"  standby settings              {report.standby_settings}")
    print(f"  ITIRP database URL            {report.database_url}")
    print(f"  acknowledged before the kill  {report.acknowledged_before_kill}")
    print(f"  unanswered when it died       {report.unanswered_at_kill} {report.unanswered_codes}")
    print(f"  kill -9 -> promoted           {report.promote_seconds:.3f} s (pg_ctl promote -w)")
    print(f"  the ITIRP node meanwhile      role {node.get('role')} after {node.get('seconds_until_that_role')} s, "
          f"health {node.get('health')}, running {node.get('process_running')}")  # fmt: skip
    for line in node.get("logged", []):
        print(f"      log: {line}")
    print(f"  kill -9 -> standby node LEADER {report.kill_to_leader_seconds:.3f} s (no restart)")
    print(f"  old leader, restarted         {report.restarted_role}")
    print(f"  kill -9 -> first order acked  {report.kill_to_first_ack_seconds:.3f} s")
    print(f"  resent to the new leader      {report.resent_answered} answered, "
          f"{report.resent_already_existed} ALREADY_EXISTS (committed, answer lost)")  # fmt: skip
    print(f"  acknowledged / found          {report.acknowledged} / {report.found}  statuses {report.statuses}")
    print(f"  chain verified, gapless       {report.chain_verified}, {report.gapless} (head {report.head_sequence})")
    print(f"  LEADER_ELECTED                {report.elections}")
    print(f"  RESULT                        {'OK: nothing acknowledged lost' if report.ok else 'FAILED'} "
          f"{report.failure}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--callers", type=int, default=8, help="concurrent terminals (default 8)")
    parser.add_argument("--max-orders", type=int, default=3000, help="at most this many orders before the kill")
    parser.add_argument("--seed", type=int, default=20261202, help="the kill moment's random seed")
    parser.add_argument("--wal-retrieve-retry-interval", default=None,
                        help="the standby's wal_retrieve_retry_interval (default PostgreSQL's, 5s)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="itirp-ha-drill-"))
    primary = start_server()
    standby: PgServer | None = None
    try:
        retry = args.wal_retrieve_retry_interval
        standby = start_standby(primary, "standby1", f"-c wal_retrieve_retry_interval={retry}" if retry else "")
        asyncio.run(asyncio.wait_for(_drill(primary, standby, work, args, report), 180))
    except (AssertionError, TimeoutError, OSError, RuntimeError) as exc:
        report.failure = f"{type(exc).__name__}: {exc}"[:2000]
        report.ok = False
    finally:
        primary.stop()
        if standby is not None:
            standby.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(asdict(report), indent=1)) if args.json else _print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
