"""The budget of one order at C=1, in process: how long the core's step takes (validation,
pre-trade controls at four levels, the events minted, staged in the store's hash chain and folded,
the match in the internal book) and how long until those events are durable (the commit thread's
SQLite write and fsync, and the wake-up of the waiting coroutine). No gRPC: set beside
bench_wire.py's C=1 figures, the rest of an RPC's latency is the wire, the interceptor and the
answer's conversion.

    .venv/bin/python bench/bench_budget.py [--orders 2000] [--venue internal|simulated]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_submit


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--venue", default="internal", choices=("internal", "simulated"))
    args = parser.parse_args()
    uvloop.run(run(args.orders, args.venue))


if __name__ == "__main__":
    main()
