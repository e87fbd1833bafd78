"""The budget of one order at C=1, in process: how long the core's step takes (validation,
pre-trade controls at four levels, the events minted, staged in the store's hash chain and folded,
the match in the internal book) and how long until those events are durable (the commit thread's
SQLite write and fsync, and the wake-up of the waiting coroutine). No gRPC: set beside
bench_wire.py's C=1 figures, the rest of an RPC's latency is the wire, the interceptor and the
answer's conversion.

    .venv/bin/python bench/bench_budget.py [--orders 2000] [--venue internal|simulated] [--concurrency 64 | --rate 700]

With --concurrency N > 1: N submitters at once (no gRPC), and the CPU per order of each of the
server's threads (the event loop's, the store writer's, the log writer's...), from /proc: what one
order costs the process that runs the core, whatever carries it there. The event loop's share is
the ceiling of one sequencer process: it cannot take orders faster than one per that many
microseconds of a core. With --rate R instead: orders started at R per second, each on its own (as
they arrive over gRPC, not in bursts of N): the same figures when few orders share a commit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_submit
import bench_wire


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    return " ".join(
        f"p{int(q * 100)} {ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1e3:.3f} ms" for q in (0.5, 0.99)
    )


async def run(orders: int, venue: str) -> None:
    from itirp.auth.roles import Role
    from itirp.core.commands import Actor, SubmitOrder
    from itirp.domain.orders import Side
    from itirp.domain.viewer import Viewer
    from itirp.server import serve

    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        server = await serve(bench_submit.in_process_config(Path(tmp), venue))
        try:
            actor = Actor(viewer=Viewer("u1", Role.TRADER), username="trader1", correlation_id="c", causation_id="r")
            core, sink = server.trading.core, server.trading.sink
            steps: list[float] = []
            waits: list[float] = []
            for i in range(orders):
                side = Side.BUY if i % 2 else Side.SELL
                command = SubmitOrder(
                    actor=actor, symbol="BENCH", side=side, quantity=1, price="1.00", intended_duplicate=True
                )
                t0 = time.perf_counter()
                _, committed = core.orders.submit(command, int(time.time() * 1e6))
                t1 = time.perf_counter()
                await sink.durable(committed.last_sequence)
                steps.append(t1 - t0)
                waits.append(time.perf_counter() - t1)
            print(f"{orders} orders one at a time, {venue} venue, in process (no gRPC, no execution)")
            print(f"  the core's step (incl. staging in the hash chain): {_quantiles(steps)}")
            print(f"  until durable (commit thread, fsync, wake-up):      {_quantiles(waits)}")
        finally:
            await server.shutdown(grace=0.5)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each of this process's threads, by name (the loop's is "MainThread")."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    pid = os.getpid()
    out: dict[str, float] = {}
    for tid in map(int, os.listdir(f"/proc/{pid}/task")):
        try:
            used = bench_wire.cpu_seconds(pid, thread=tid)
        except OSError:
            continue  # a thread that ended meanwhile
        name = names.get(tid, "other (grpc, sqlite)")
        out[name] = out.get(name, 0.0) + used
    return out


async def run_concurrent(orders: int, venue: str, concurrency: int, rate: float = 0.0) -> None:
    from itirp.auth.roles import Role
    from itirp.core.commands import Actor, SubmitOrder
    from itirp.domain.orders import Side
    from itirp.domain.viewer import Viewer
    from itirp.server import serve

    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        server = await serve(bench_submit.in_process_config(Path(tmp), venue))
        try:
            trading = server.trading
            issued = 0

            async def one(number: int) -> None:
                actor = Actor(
                    viewer=Viewer("u1", Role.TRADER), username="trader1", correlation_id=f"c{number}", causation_id="r"
                )
                side = Side.BUY if number % 2 else Side.SELL
                command = SubmitOrder(
                    actor=actor, symbol="BENCH", side=side, quantity=1, price="1.00", intended_duplicate=True
                )
                await trading.submit(command)

            async def submitter() -> None:
                nonlocal issued
                while issued < orders:
                    issued += 1
                    await one(issued)

            async def paced() -> None:
                """Open loop: one order started every 1/rate s, each in a task of its own."""
                tasks = []
                for i in range(orders):
                    delay = started + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(one(i)))
                await asyncio.gather(*tasks)

            commits = server.store.commits
            before, started = _thread_cpu(), time.perf_counter()
            if rate:
                await paced()
            else:
                await asyncio.gather(*(submitter() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.5)  # executions still running (simulated venue) are counted too
            after = _thread_cpu()
            how = f"started at {rate:g}/s each on its own" if rate else f"{concurrency} at once"
            print(f"{orders} orders, {how}, {venue} venue, in process (no gRPC)")
            print(
                f"  {orders / elapsed:,.0f} orders/s, {(server.store.commits - commits) / orders:.2f} commits per"
                " order; CPU per order by thread:"
            )
            for name in sorted(after, key=lambda n: before.get(n, 0.0) - after[n]):
                used = (after[name] - before.get(name, 0.0)) / orders * 1e6
                if used >= 1:
                    print(f"    {name:<28} {used:6.0f} us")
        finally:
            await server.shutdown(grace=0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--venue", default="internal", choices=("internal", "simulated"))
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0, help="orders per second, each on its own (open loop)")
    args = parser.parse_args()
    if args.concurrency > 1 or args.rate > 0:
        uvloop.run(run_concurrent(args.orders, args.venue, args.concurrency, args.rate))
    else:
        uvloop.run(run(args.orders, args.venue))


if __name__ == "__main__":
    main()
