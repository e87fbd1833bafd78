"""SubmitOrder throughput and latency beside a do-nothing RPC on the same server stack.

    .venv/bin/python bench/bench_submit.py [--seconds 5] [--concurrency 1,8,64] [--venue simulated|internal]

The server (durable SQLite event log, access log and order log on, uvloop) runs in its own
process with one extra method, `/itirp.bench.Baseline/Noop`: it takes a SubmitOrderRequest and
answers a typical SubmitOrderResponse, behind the same interceptor (token check, role table,
context, access log) — the do-nothing baseline of the same message sizes. A separate client
process keeps N calls in flight for --seconds (bounded by --max-calls) per run. Orders alternate
BUY/SELL at 1 share so that none is rejected (rejections are cheaper: no execution). On the
internal venue the same flow crosses in the book: every other order rests, the next one fills it
(two fills, both orders' positions and reservations moved).

Also the in-process cost of one pre-trade check (RiskEngine.check) and of one whole core submit
(validation, check, reservation, three events minted and applied; no store).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

#: The benchmark desk's one instrument (BENCH at 1.00, tick 0.01).
INSTRUMENTS = Path(__file__).resolve().parent / "instruments.csv"

#: A typical SubmitOrderResponse, answered by the no-op methods (source, run in the server processes).
REPLY_SOURCE = """from itirp.v1 import order_pb2, common_pb2
REPLY = order_pb2.SubmitOrderResponse(order_id="0" * 36, status=common_pb2.ORDER_STATUS_APPROVED,
    correlation_id="0" * 36, message="Order approved and submitted for execution",
    order=order_pb2.Order(order_id="0" * 36, user_id="0" * 36, username="trader1", symbol="BENCH",
        side=common_pb2.SIDE_BUY, quantity=1, price="1.00", status=common_pb2.ORDER_STATUS_APPROVED,
        correlation_id="0" * 36, message="Order approved and submitted for execution"))
REPLY.timestamp.GetCurrentTime(); REPLY.order.created_at.GetCurrentTime(); REPLY.order.updated_at.GetCurrentTime()
"""

RUNNER = (
    """
import asyncio, sys
from pathlib import Path
import grpc, uvloop
from itirp.auth.roles import RPC_MIN_ROLE, Role
from itirp.config import Config
from itirp.observability.logging import setup_logging
from itirp.server import serve
from itirp.v1 import order_pb2, common_pb2

RPC_MIN_ROLE["/itirp.bench.Baseline/Noop"] = Role.TRADER  # the bench method, behind the same table
"""
    + REPLY_SOURCE
    + """
async def noop(request, context):
    return REPLY

async def main():
    noop_handler = grpc.unary_unary_rpc_method_handler(noop,
        request_deserializer=order_pb2.SubmitOrderRequest.FromString,
        response_serializer=order_pb2.SubmitOrderResponse.SerializeToString)
    handler = grpc.method_handlers_generic_handler("itirp.bench.Baseline", {"Noop": noop_handler})
    config = Config.from_env(listen="127.0.0.1:0", data_dir=Path(sys.argv[1]), venue_latency_seconds=0.001,
        venue=sys.argv[2], reference_instruments_file=sys.argv[3], reference_demo_instruments=False, feed_kind="off",
        throttle_new_per_second=0, throttle_amend_per_second=0, throttle_cancel_per_second=0)
    server = await serve(config, extra_handlers=[handler])
    print(server.port, flush=True)
    await server.server.wait_for_termination()

import os
if os.environ.get("BENCH_SWITCH"): sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
writer = setup_logging("INFO", "json")
uvloop.run(main())
"""
)


def start_server(tmp: Path, venue: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_") or k == "ITIRP_ACCESS_LOG"}
    with open(tmp / "server.log", "wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(tmp / "data"), venue, str(INSTRUMENTS)],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"127.0.0.1:{port}"


#: The bearer token sent to bench_wire's bare server, which reads no metadata: as long as the
#: server's own (HS256, trader1), so that every unary case sends the same bytes.
BARE_TOKEN = "x" * 307


async def client(address: str, rpc: str, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:
    """`rpc`: "submit" (SubmitOrder), "noop" (the ITIRP server's no-op) or "bare" (bench_wire's bare
    server, the same path and messages, no login)."""
    import grpc

    from itirp.v1 import auth_pb2, auth_pb2_grpc, common_pb2, order_pb2

    async with grpc.aio.insecure_channel(address) as channel:
        if rpc == "bare":  # bench_wire's bare server: no login there; a bearer token of a real one's length
            token = BARE_TOKEN
        else:
            token = (
                await auth_pb2_grpc.AuthServiceStub(channel).Login(
                    auth_pb2.LoginRequest(username="trader1", password="trader123")
                )
            ).access_token
        md = (("authorization", f"Bearer {token}"),)
        path = "/itirp.v1.OrderService/SubmitOrder" if rpc == "submit" else "/itirp.bench.Baseline/Noop"
        call = channel.unary_unary(
            path,
            request_serializer=order_pb2.SubmitOrderRequest.SerializeToString,
            response_deserializer=order_pb2.SubmitOrderResponse.FromString,
        )
        requests = [
            # the same order again and again, meant: the duplicate-order check runs and lets it pass
            order_pb2.SubmitOrderRequest(
                symbol="BENCH", side=side, quantity=1, price="1.00", strategy="bench", intended_duplicate=True
            )
            for side in (common_pb2.SIDE_BUY, common_pb2.SIDE_SELL)
        ]
        for i in range(200):
            await call(requests[i % 2], metadata=md)
        latencies: list[float] = []
        issued = 0
        deadline = time.perf_counter() + seconds
        statuses: dict[int, int] = {}

        async def worker() -> None:
            nonlocal issued
            while issued < max_calls and time.perf_counter() < deadline:
                request = requests[issued % 2]
                issued += 1
                t0 = time.perf_counter()
                reply = await call(request, metadata=md)
                latencies.append(time.perf_counter() - t0)
                statuses[reply.status] = statuses.get(reply.status, 0) + 1

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    q = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    rejected = statuses.get(common_pb2.ORDER_STATUS_REJECTED, 0) if rpc == "submit" else 0
    per_second = len(latencies) / elapsed
    return {
        "calls": len(latencies),
        "per_second": per_second,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "rejected": rejected,
        "client_us": cpu / len(latencies) * 1e6,
    }


def _client_process(args: tuple, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import uvloop

    out.put(uvloop.run(client(*args)))


def run_client(*args: object) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=_client_process, args=(args, out))
    proc.start()
    result = out.get(timeout=float(args[3]) + 120)  # type: ignore[arg-type]
    proc.join(30)
    return result


def in_process_config(data_dir: Path, venue: str):  # type: ignore[no-untyped-def]
    """The in-process benchmarks' server: the bench instrument, no feed, no access log, throttles off."""
    from itirp.config import Config

    return Config.from_flat(
        listen="127.0.0.1:0",
        data_dir=data_dir,
        scrypt_n=1024,
        access_log=False,
        venue=venue,
        reference_instruments_file=str(INSTRUMENTS),
        reference_demo_instruments=False,
        feed_kind="off",
        throttle_new_per_second=0,  # the benchmark measures the server, not the rate limit
        throttle_amend_per_second=0,
        throttle_cancel_per_second=0,
    )


def in_process_costs() -> None:
    from itirp.domain.risk import RiskEngine

    engine = RiskEngine()
    for i in range(100):
        engine.reserve(f"w{i}", symbol=f"S{i}", side="BUY", quantity=10, price=Decimal("10"))
        engine.fill(f"w{i}", quantity=10, price=Decimal("10"))
    n = 200_000
    price = Decimal("10.5")
    timings = timeit.repeat(lambda: engine.check(symbol="S5", side="BUY", quantity=10, price=price), number=n, repeat=5)
    check = min(timings) / n
    print(f"pre-trade check (RiskEngine.check, 100 symbols): {check * 1e6:.2f} us")

    from itirp.auth.roles import Role
    from itirp.core.commands import Actor, SubmitOrder, UpsertInstrument
    from itirp.core.journal import Journal
    from itirp.core.sequencer import Sequencer
    from itirp.domain.instrument_lists import parse_instruments_csv
    from itirp.domain.orders import Side
    from itirp.domain.viewer import Viewer
    from itirp.store import NewEvent, StoredEvent
    from itirp.store.records import GENESIS_HASH

    seq = [0]

    class Sink:
        """Sequence assignment only: no hashing, no disk."""

        def stage(self, new: Sequence[NewEvent]) -> list[StoredEvent]:
            out = []
            for ev in new:
                seq[0] += 1
                fields = {f: getattr(ev, f) for f in ev.__slots__}
                out.append(StoredEvent(sequence=seq[0], prev_hash=GENESIS_HASH, hash=GENESIS_HASH, **fields))
            return out

    now_us = 1_800_000_000_000_000
    core = Sequencer(Journal(clock_us=lambda: now_us), Sink())
    actor = Actor(viewer=Viewer("u", Role.TRADER), username="t", correlation_id="c", causation_id="r")
    for instrument in parse_instruments_csv(INSTRUMENTS.read_text()):
        core.reference.upsert(UpsertInstrument(actor=actor, instrument=instrument, reason="bench"), now_us)
    orders = [
        SubmitOrder(actor=actor, symbol="BENCH", side=side, quantity=1, price="1.00", intended_duplicate=True)
        for side in (Side.BUY, Side.SELL)
    ]
    m = 20_000
    t0 = time.perf_counter()
    for i in range(m):
        core.orders.submit(orders[i % 2], now_us)
    per = (time.perf_counter() - t0) / m
    print(f"core submit (validation, check, reserve, 3 events minted and applied, no store): {per * 1e6:.1f} us")


async def _in_process_orders(venue: str, n: int = 5000, concurrency: int = 64) -> None:
    """The whole durable order path (validation, risk, events, SQLite group commit, execution at
    the simulated venue or matching in the internal one) driven in this process through
    TradingService, without gRPC."""
    import logging

    from itirp.auth.roles import Role
    from itirp.core.commands import Actor, SubmitOrder
    from itirp.domain.orders import Side
    from itirp.domain.viewer import Viewer
    from itirp.server import serve

    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        server = await serve(in_process_config(Path(tmp), venue))
        actor = Actor(viewer=Viewer("u1", Role.TRADER), username="trader1", correlation_id="c", causation_id="r")
        trading, slots = server.trading, asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with slots:
                side = Side.BUY if i % 2 else Side.SELL
                order = SubmitOrder(
                    actor=actor, symbol="BENCH", side=side, quantity=1, price="1.00", intended_duplicate=True
                )
                await trading.submit(order)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        await trading.executor.drain(timeout=60)  # every execution (or match) finished
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"in process, no gRPC, {venue} venue: {n / wall:,.0f} durable orders/s (executed or matched), "
            f"{cpu / n * 1e6:.0f} us CPU per order, "
            f"{server.store.commits} commits"
        )
        await server.shutdown(grace=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-calls", type=int, default=100_000)
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--venue", choices=("simulated", "internal"), default="simulated")
    args = parser.parse_args()
    in_process_costs()
    import uvloop

    uvloop.run(_in_process_orders(args.venue))
    with tempfile.TemporaryDirectory() as tmp:
        proc, address = start_server(Path(tmp), args.venue)
        try:
            print(f"server {address} ({args.venue} venue); {args.seconds:g} s per run; client in a separate process")
            columns = f"{'noop/s':>8} {'p50 ms':>7} {'p99 ms':>7} | {'submit/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
            print(f"{'conc':>5} {columns} | ratio")
            for conc in (int(c) for c in args.concurrency.split(",")):
                base = run_client(address, "noop", conc, args.seconds, args.max_calls)
                sub = run_client(address, "submit", conc, args.seconds, args.max_calls)
                print(
                    f"{conc:>5} {base['per_second']:>8.0f} {base['p50_ms']:>7.2f} {base['p99_ms']:>7.2f} | "
                    f"{sub['per_second']:>8.0f} {sub['p50_ms']:>7.2f} {sub['p99_ms']:>7.2f} | "
                    f"{sub['per_second'] / base['per_second']:.2f}"
                    + (f"  ({sub['rejected']} rejected)" if sub["rejected"] else ""),
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
