"""The order path at wire speed, in one run: a bare grpc.aio no-op server, the ITIRP server (its
authenticated no-op and SubmitOrder on the simulated and the internal venue, and the OrderEntry
stream), each driven by a client in its own process.

    .venv/bin/python bench/bench_wire.py [--seconds 3] [--concurrency 1,64] [--json FILE]

Servers (each its own process, uvloop, 127.0.0.1, port 0):
* bare: one unary method, `/itirp.bench.Baseline/Noop`, that answers a prebuilt SubmitOrderResponse's
  bytes; no interceptor, no auth, no registered methods;
* ITIRP (`bench_submit.RUNNER`: durable SQLite log, access log and order log on, throttles off),
  once per venue, with `/itirp.bench.Baseline/Noop` behind the same interceptor (token check,
  role table, context, access log) as the authenticated no-op.

Cases, each at every concurrency C (C calls in flight on one channel; for the stream, C requests
in flight on one session), bounded by --seconds and --max-calls:
* bare no-op; authenticated no-op; SubmitOrder (simulated, internal); OrderEntry `new`
  requests (simulated, internal; each answered once durable).

Every unary case runs the same client code (`bench_submit.client`): it serializes a
SubmitOrderRequest, sends a bearer token (to the bare server one of the same length, unread) and
parses the SubmitOrderResponse, so that a ratio compares servers, not clients. The row "bare,
raw-bytes client" is the bare server driven by a client that sends and receives prebuilt bytes
with no metadata: how much of the machine the client's own work takes (both share 2 cores).

Reported per case: calls/s, p50 and p99 latency, the ratio to the bare no-op at the same C, and
the CPU per call of the client and of the server (from /proc: user + system time of the process
over the case, divided by the calls), and of the server's event-loop thread alone (its main
thread: grpc's Python side, the interceptor, the core's step, the commit listeners). As a table
and, with --json, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_submit

# the same answer as the ITIRP server's no-op: the same bytes on the wire
BARE = (
    """
import sys, uvloop, grpc
"""
    + bench_submit.REPLY_SOURCE
    + """
REPLY_BYTES = REPLY.SerializeToString()

async def noop(request, context):
    return REPLY_BYTES

async def main():
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "itirp.bench.Baseline", {"Noop": grpc.unary_unary_rpc_method_handler(noop)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()

uvloop.run(main())
"""
)


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen([sys.executable, "-c", BARE], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc, f"127.0.0.1:{int(proc.stdout.readline())}"


def cpu_seconds(pid: int, *, thread: int | None = None) -> float:
    """User + system CPU time of a process so far (or of one of its threads: its main thread,
    which runs the event loop, has the process's id)."""
    stat = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bare_client(address: str, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:
    """The raw-bytes client: prebuilt request bytes, no metadata, the answer left unparsed."""
    import grpc

    from itirp.v1 import order_pb2

    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary("/itirp.bench.Baseline/Noop")
        payload = order_pb2.SubmitOrderRequest(symbol="BENCH", side=1, quantity=1, price="1.00").SerializeToString()
        for _ in range(200):
            await call(payload)
        return await _drive(lambda: call(payload), concurrency, seconds, max_calls)


async def _drive(one, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    issued = 0
    deadline = time.perf_counter() + seconds
    cpu = time.process_time()

    async def worker() -> None:
        nonlocal issued
        while issued < max_calls and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(latencies, time.perf_counter() - started, time.process_time() - cpu)


def _summary(latencies: list[float], elapsed: float, cpu: float) -> dict[str, float]:
    q = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    n = len(latencies)
    return {
        "calls": n,
        "per_second": n / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "client_us": cpu / n * 1e6,
    }


async def entry_client(address: str, window: int, seconds: float, max_calls: int) -> dict[str, float]:
    """One order-entry session with `window` new-order requests in flight."""
    import grpc

    from itirp.v1 import auth_pb2, auth_pb2_grpc, common_pb2, order_pb2

    async with grpc.aio.insecure_channel(address) as channel:
        token = (
            await auth_pb2_grpc.AuthServiceStub(channel).Login(
                auth_pb2.LoginRequest(username="trader1", password="trader123")
            )
        ).access_token
        stream = channel.stream_stream(
            "/itirp.v1.OrderService/OrderEntry",
            request_serializer=order_pb2.OrderEntryRequest.SerializeToString,
            response_deserializer=order_pb2.OrderEntryResponse.FromString,
        )(metadata=(("authorization", f"Bearer {token}"),))
        await stream.write(order_pb2.OrderEntryRequest(open=order_pb2.OrderEntryOpen(name="bench")))
        opened = await stream.read()
        assert opened.HasField("opened"), opened
        orders = [
            order_pb2.SubmitOrderRequest(
                symbol="BENCH", side=side, quantity=1, price="1.00", strategy="bench", intended_duplicate=True
            )
            for side in (common_pb2.SIDE_BUY, common_pb2.SIDE_SELL)
        ]
        sent: dict[str, float] = {}
        latencies: list[float] = []
        slots = asyncio.Semaphore(window)
        deadline = time.perf_counter() + seconds
        cpu = time.process_time()
        started = time.perf_counter()
        issued = 0

        async def reader() -> None:
            while len(latencies) < issued or not done.is_set():
                reply = await stream.read()
                if reply is grpc.aio.EOF:
                    return
                if reply.HasField("ack") or reply.HasField("error"):
                    tag = reply.ack.tag if reply.HasField("ack") else reply.error.tag
                    latencies.append(time.perf_counter() - sent.pop(tag))
                    slots.release()
                    if done.is_set() and not sent:
                        return

        done = asyncio.Event()
        reading = asyncio.create_task(reader())
        while issued < max_calls and time.perf_counter() < deadline:
            await slots.acquire()
            tag = f"t{issued}"
            sent[tag] = time.perf_counter()
            new = order_pb2.OrderEntryNew(tag=tag, order=orders[issued % 2])
            issued += 1
            await stream.write(order_pb2.OrderEntryRequest(new=new))
        done.set()
        await reading
        elapsed = time.perf_counter() - started
        result = _summary(latencies, elapsed, time.process_time() - cpu)
        await stream.write(order_pb2.OrderEntryRequest(close=order_pb2.OrderEntryClose()))
        await stream.done_writing()
        return result


def _in_process(kind: str, args: tuple, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import uvloop

    if kind == "raw":
        out.put(uvloop.run(bare_client(*args)))
    elif kind == "entry":
        out.put(uvloop.run(entry_client(*args)))
    else:
        address, rpc, concurrency, seconds, max_calls = args
        out.put(uvloop.run(bench_submit.client(address, rpc, concurrency, seconds, max_calls)))


def run_case(kind: str, server_pid: int, args: tuple) -> dict[str, float]:  # type: ignore[type-arg]
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=_in_process, args=(kind, args, out))
    before, loop_before = cpu_seconds(server_pid), cpu_seconds(server_pid, thread=server_pid)
    proc.start()
    result: dict[str, float] = out.get(timeout=float(args[3] if kind != "raw" else args[2]) + 120)
    proc.join(30)
    result["server_us"] = (cpu_seconds(server_pid) - before) / result["calls"] * 1e6
    result["loop_us"] = (cpu_seconds(server_pid, thread=server_pid) - loop_before) / result["calls"] * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", default="1,64")
    parser.add_argument("--max-calls", type=int, default=200_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bare, bare_address = start_bare()
        servers = {}
        for venue in ("simulated", "internal"):
            folder = Path(tmp) / venue
            folder.mkdir()
            servers[venue] = bench_submit.start_server(folder, venue)
        try:
            for c in levels:
                base = run_case("unary", bare.pid, (bare_address, "bare", c, args.seconds, args.max_calls))
                rows.append({"case": "bare grpc.aio no-op", "c": c, **base})
                raw = run_case("raw", bare.pid, (bare_address, c, args.seconds, args.max_calls))
                raw["ratio"] = raw["per_second"] / base["per_second"]
                rows.append({"case": "bare, raw-bytes client", "c": c, **raw})
                sim_proc, sim_address = servers["simulated"]
                cases = [
                    ("authenticated no-op", "unary", sim_proc.pid, (sim_address, "noop")),
                    ("SubmitOrder, simulated", "unary", sim_proc.pid, (sim_address, "submit")),
                    ("SubmitOrder, internal", "unary", servers["internal"][0].pid, (servers["internal"][1], "submit")),
                    ("OrderEntry, simulated", "entry", sim_proc.pid, (sim_address,)),
                    ("OrderEntry, internal", "entry", servers["internal"][0].pid, (servers["internal"][1],)),
                ]
                for name, kind, pid, head in cases:
                    result = run_case(kind, pid, (*head, c, args.seconds, args.max_calls))
                    rows.append({"case": name, "c": c, **result, "ratio": result["per_second"] / base["per_second"]})
        finally:
            for proc in (bare, *(p for p, _ in servers.values())):
                proc.terminate()
                proc.wait(10)
    print(f"one run, {args.seconds:g} s per case; client and servers each in their own process")
    head = ("case", "C", "calls/s", "p50 ms", "p99 ms", "ratio", "client us", "server us", "loop us")
    print("{:<26} {:>3} {:>9} {:>7} {:>7} {:>6} {:>10} {:>10} {:>8}".format(*head))
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "1.00"
        print(
            f"{row['case']:<26} {row['c']:>3} {row['per_second']:>9,.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f}"
            f" {ratio:>6} {row['client_us']:>10.0f} {row['server_us']:>10.0f} {row['loop_us']:>8.0f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
