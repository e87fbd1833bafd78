"""RPC throughput and latency from a separate client process, against a real `itirp serve`.

    .venv/bin/python bench/bench_rpc.py [--seconds 5] [--concurrency 1,8,64] [--rpcs health,whoami]

Starts the server in a subprocess (fresh data folder, port 0), then for each RPC and concurrency
runs a client process that keeps N calls in flight on one grpc.aio channel for a bounded time and
count, and reports calls/s with p50/p99 latency. Bounded: every run stops after --seconds or
--max-calls, whichever first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc


def _start_server(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    env.update({"ITIRP_ACCESS_LOG": os.environ.get("ITIRP_ACCESS_LOG", "1"), "ITIRP_LOG_FORMAT": "json"})
    # the message throttles off: the benchmark measures the server, not the per-trader rate limit
    env.update({f"ITIRP_THROTTLE_{kind}_PER_SECOND": "0" for kind in ("NEW", "AMEND", "CANCEL")})
    with open(log_path, "wb") as log:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "itirp", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
            stdout=log,
            stderr=log,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if '"msg":"serving"' in line:
                return proc, f"127.0.0.1:{json.loads(line)['port']}"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(log_path.read_text())


async def _login(channel: grpc.aio.Channel) -> str:
    from itirp.v1 import auth_pb2, auth_pb2_grpc

    reply = await auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(username="trader1", password="trader123")
    )
    return reply.access_token


def make_call(name: str, channel: grpc.aio.Channel, token: str):  # type: ignore[no-untyped-def]
    """A zero-argument coroutine factory for the RPC under test."""
    md = (("authorization", f"Bearer {token}"),)
    if name == "health":
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(channel)
        req = health_pb2.HealthCheckRequest()
        return lambda: stub.Check(req)
    if name == "whoami":
        from itirp.v1 import auth_pb2, auth_pb2_grpc

        stub = auth_pb2_grpc.AuthServiceStub(channel)
        req = auth_pb2.WhoAmIRequest()
        return lambda: stub.WhoAmI(req, metadata=md)
    if name == "sysinfo":
        from itirp.v1 import system_pb2, system_pb2_grpc

        stub = system_pb2_grpc.SystemServiceStub(channel)
        req = system_pb2.GetSystemInfoRequest()
        return lambda: stub.GetSystemInfo(req, metadata=md)
    raise SystemExit(f"unknown rpc {name}")


async def _client(address: str, rpc: str, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: F401
    async with grpc.aio.insecure_channel(address) as channel:
        token = await _login(channel)
        call = make_call(rpc, channel, token)
        for _ in range(200):  # warm up
            await call()
        latencies: list[float] = []
        issued = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal issued
            while issued < max_calls and time.perf_counter() < deadline:
                issued += 1
                t0 = time.perf_counter()
                await call()
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "calls": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
    }


def _client_process(address: str, rpc: str, concurrency: int, seconds: float, max_calls: int, out: mp.Queue) -> None:
    try:
        import uvloop

        result = uvloop.run(_client(address, rpc, concurrency, seconds, max_calls))
    except ImportError:
        result = asyncio.run(_client(address, rpc, concurrency, seconds, max_calls))
    out.put(result)


def run_client(address: str, rpc: str, concurrency: int, seconds: float, max_calls: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_client_process, args=(address, rpc, concurrency, seconds, max_calls, out))
    proc.start()
    result = out.get(timeout=seconds + 120)
    proc.join(30)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-calls", type=int, default=200_000)
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--rpcs", default="health,whoami,sysinfo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, address = _start_server(Path(tmp) / "data", Path(tmp) / "server.log")
        try:
            print(f"server {address}; {args.seconds:.0f} s per run; client in a separate process")
            print(f"{'rpc':<10} {'conc':>5} {'calls/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
            for rpc in args.rpcs.split(","):
                for conc in (int(c) for c in args.concurrency.split(",")):
                    r = run_client(address, rpc, conc, args.seconds, args.max_calls)
                    figures = f"{r['per_second']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
                    print(f"{rpc:<10} {conc:>5} {figures}", flush=True)
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
