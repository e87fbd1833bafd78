"""Failover time of two `itirp serve` nodes on one PostgreSQL event log.

Run: .venv/bin/python bench/bench_failover.py [--leases default,1] [--trials 3] [--kinds kill,term]
         [--database-url URL] [--json]

Each trial starts two real server processes (tests/e2e/conftest.ServerProcess) on a fresh
database (a throwaway PostgreSQL server from tests/pg_server.py, or a new database on the server
of --database-url, which must allow CREATE DATABASE), waits until one is LEADER and the other
STANDBY, then stops the leader:
- `kill`: SIGKILL; the standby must wait for the lease to lapse (the database's clock);
- `term`: SIGTERM, a clean stop: the leader releases its lease, so the takeover need not wait.
From the signal it measures, at the standby, until a SubmitOrder is answered OK (polling every
20 ms, each call with a 1 s deadline) and until GetSystemInfo says NODE_ROLE_LEADER; for `term`
also how long the old leader took to exit. The nodes are idle (no load) when the leader stops.

`--leases`: lease lengths in seconds, `default` meaning the server's own (ITIRP_HA_LEASE_SECONDS
unset: 5 s); the standby's poll interval is the server's default (ITIRP_HA_POLL_SECONDS, 0.5 s)
unless --poll is given. Bounded: trials ≤ 20, every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ helpers

import grpc
import psycopg

from itirp.v1 import common_pb2, order_pb2, order_pb2_grpc, system_pb2
from tests.e2e.conftest import ServerProcess
from tests.e2e.test_failover import Md, login, node_env, role_of, until_role
from tests.integration.test_two_nodes import provision_users
from tests.pg_server import start_server

MAX_TRIALS = 20
DEADLINE = 60.0  # s: a takeover slower than this is a failure, not a figure


@dataclass
class Trial:
    lease: str
    kind: str
    trial: int
    to_submit_ok: float
    to_leader: float
    old_leader_exit: float  # s from the signal until the old leader's process ended


def _fresh_database(server_url: str) -> str:
    name = f"itirp_failover_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _env(url: str, name: str, lease: str, poll: str | None) -> dict[str, str]:
    env = node_env(url, name)
    del env["ITIRP_HA_POLL_SECONDS"], env["ITIRP_HA_LEASE_SECONDS"]
    if lease != "default":
        env["ITIRP_HA_LEASE_SECONDS"] = lease
    if poll is not None:
        env["ITIRP_HA_POLL_SECONDS"] = poll
    return env


async def _until_submitted(address: str, md: Md, started: float) -> float:
    request = order_pb2.SubmitOrderRequest(
        symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id=uuid.uuid4().hex
    )
    async with grpc.aio.insecure_channel(address) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        while time.monotonic() - started < DEADLINE:
            try:
                await stub.SubmitOrder(request, metadata=md, timeout=1)
            except grpc.aio.AioRpcError as error:
                if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                await asyncio.sleep(0.02)
                continue
            return time.monotonic() - started
    raise TimeoutError(f"no SubmitOrder answered at {address} within {DEADLINE} s")


async def _until_leader(address: str, md: Md, started: float) -> float:
    while time.monotonic() - started < DEADLINE:
        if await role_of(address, md) == system_pb2.NODE_ROLE_LEADER:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{address} not LEADER within {DEADLINE} s")


async def _until_exited(node: ServerProcess, started: float) -> float:
    await asyncio.to_thread(node.proc.wait, DEADLINE)
    return time.monotonic() - started


async def _trial(server_url: str, work: Path, lease: str, kind: str, n: int, poll: str | None) -> Trial:
    url = _fresh_database(server_url)
    folder = work / f"{lease}-{kind}-{n}"
    nodes: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            provision_users(folder / name, work / "users-template.db")
            env = _env(url, f"node-{name}", lease, poll)
            nodes.append(ServerProcess(folder / name, folder / f"{name}.log", env=env))
            if name == "a":
                md = await login(nodes[0].address, "trader1", "trader123")
                await until_role(nodes[0].address, md, system_pb2.NODE_ROLE_LEADER)
        leader, standby = nodes
        await until_role(standby.address, md, system_pb2.NODE_ROLE_STANDBY)
        started = time.monotonic()
        leader.proc.send_signal(signal.SIGKILL if kind == "kill" else signal.SIGTERM)
        submitted, leading, exited = await asyncio.gather(
            _until_submitted(standby.address, md, started),
            _until_leader(standby.address, md, started),
            _until_exited(leader, started),
        )
        return Trial(lease, kind, n, round(submitted, 3), round(leading, 3), round(exited, 3))
    finally:
        for node in nodes:
            node.kill()


def _summary(trials: list[Trial]) -> list[dict[str, object]]:
    rows = []
    for key in dict.fromkeys((t.lease, t.kind) for t in trials):
        group = [t for t in trials if (t.lease, t.kind) == key]
        subs = [t.to_submit_ok for t in group]
        leads = [t.to_leader for t in group]
        rows.append({
            "lease": key[0], "kind": key[1], "trials": len(group),
            "submit_ok_min": min(subs), "submit_ok_median": statistics.median(subs), "submit_ok_max": max(subs),
            "leader_min": min(leads), "leader_median": statistics.median(leads), "leader_max": max(leads),
        })  # fmt: skip
    return rows


def _print(trials: list[Trial], summary: list[dict[str, object]]) -> None:
    head = f"{'-> SubmitOrder OK s':>20} {'-> LEADER s':>12} {'old exits s':>12}"
    print(f"{'lease s':>8} {'stop':>5} {'trial':>5} {head}")
    for t in trials:
        print(f"{t.lease:>8} {t.kind:>5} {t.trial:>5} {t.to_submit_ok:>20.3f} {t.to_leader:>12.3f} "
              f"{t.old_leader_exit:>12.3f}")  # fmt: skip
    print()
    head = f"{'SubmitOrder OK min/median/max s':>32} {'LEADER min/median/max s':>26}"
    print(f"{'lease s':>8} {'stop':>5} {'n':>3} {head}")
    for r in summary:
        sub = f"{r['submit_ok_min']:.3f}/{r['submit_ok_median']:.3f}/{r['submit_ok_max']:.3f}"
        lead = f"{r['leader_min']:.3f}/{r['leader_median']:.3f}/{r['leader_max']:.3f}"
        print(f"{r['lease']!s:>8} {r['kind']!s:>5} {r['trials']!s:>3} {sub:>32} {lead:>26}")


async def _run(args: argparse.Namespace, server_url: str, work: Path) -> list[Trial]:
    trials = []
    for lease in args.leases.split(","):
        for kind in args.kinds.split(","):
            for n in range(1, args.trials + 1):
                trial = await _trial(server_url, work, lease, kind, n, args.poll)
                trials.append(trial)
                if not args.json:
                    print(f"  lease {lease} {kind} #{n}: SubmitOrder OK after {trial.to_submit_ok:.3f} s", flush=True)
    return trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="failover time of two nodes on one PostgreSQL log")
    parser.add_argument("--leases", default="default,1", help="lease lengths, s; 'default' = the server's (5 s)")
    parser.add_argument("--kinds", default="kill,term", help="kill (SIGKILL) and/or term (SIGTERM, clean stop)")
    parser.add_argument("--trials", type=int, default=3, help=f"trials per lease and kind (≤ {MAX_TRIALS})")
    parser.add_argument("--poll", default=None, help="ITIRP_HA_POLL_SECONDS for both nodes (default: the server's)")
    parser.add_argument("--database-url", default=None, help="a server to create fresh databases on")
    parser.add_argument("--json", action="store_true", help="print trials and summary as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.trials <= MAX_TRIALS:
        parser.error(f"--trials must be 1..{MAX_TRIALS}")
    if not set(args.kinds.split(",")) <= {"kill", "term"}:
        parser.error("--kinds: kill, term")
    work = Path(tempfile.mkdtemp(prefix="itirp-bench-failover-"))
    pg = None if args.database_url else start_server()
    try:
        server_url = args.database_url or pg.url  # type: ignore[union-attr]
        trials = asyncio.run(_run(args, server_url, work))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary = _summary(trials)
    if args.json:
        print(json.dumps({"trials": [asdict(t) for t in trials], "summary": summary}, indent=1))
    else:
        _print(trials, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
