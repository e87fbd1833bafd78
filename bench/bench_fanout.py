"""Audit subscription fan-out through gRPC: events/s delivered to 1 and to 10 subscribers, beside
the ceiling of a bare grpc.aio server streaming the same messages.

    .venv/bin/python bench/bench_fanout.py [--events 20000] [--subscribers 1,10]

The server runs in this process (SQLite store in a temp folder); events are appended to its store
in batches of 100 as fast as it commits them. The subscribers run in a separate process, each on
its own connection, subscribed and caught up before the burst starts; each reports when it has
received the last event. The ceiling: a bare grpc.aio server in this process (no interceptor, no
store, no fan-out) yields the same event messages, already built, to the same subscriber code.
Bounded by --events and a 120 s timeout per case.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import grpc

from itirp.config import Config
from itirp.server import serve
from itirp.server.servicers.convert import event_to_proto
from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc, common_pb2, events_pb2


async def _subscribers(address: str, n: int, after: int, last: int, ready: mp.Event, out: mp.Queue) -> None:
    async with grpc.aio.insecure_channel(address) as ch:
        token = (await auth_pb2_grpc.AuthServiceStub(ch).Login(
            auth_pb2.LoginRequest(username="compliance1", password="compliance123"))).access_token
    md = (("authorization", f"Bearer {token}"),)
    channels = [grpc.aio.insecure_channel(address, options=(("grpc.use_local_subchannel_pool", 1),)) for _ in range(n)]
    streams = [audit_pb2_grpc.AuditServiceStub(c).SubscribeEvents(
        audit_pb2.SubscribeEventsRequest(from_sequence=after), metadata=md) for c in channels]
    for s in streams:
        while (await s.read()).WhichOneof("kind") != "caught_up":
            pass
    ready.set()

    async def drain(stream) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
        first = None
        count = 0
        while True:
            item = await stream.read()
            if item.WhichOneof("kind") != "event":
                continue
            count += 1
            first = first or time.perf_counter()
            if item.event.sequence >= last:
                return first, time.perf_counter(), count

    try:
        results = await asyncio.gather(*(drain(s) for s in streams))
    except grpc.aio.AioRpcError as exc:
        out.put(f"subscriber failed: {exc.code().name}: {exc.details()}")
        return
    for c in channels:
        await c.close()
    out.put(results)


def _subscriber_process(*args) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_subscribers(*args))


class _BareAuth(auth_pb2_grpc.AuthServiceServicer):
    async def Login(self, request, context):  # type: ignore[no-untyped-def]
        return auth_pb2.LoginResponse(access_token="bare")


class _BareAudit(audit_pb2_grpc.AuditServiceServicer):
    """Caught up at once; then, on `go`, every prebuilt message as fast as grpc.aio sends them."""

    def __init__(self, messages: list[audit_pb2.SubscribeEventsResponse], go: asyncio.Event) -> None:
        self.messages, self.go = messages, go

    async def SubscribeEvents(self, request, context):  # type: ignore[no-untyped-def]
        yield audit_pb2.SubscribeEventsResponse(caught_up=common_pb2.StreamCaughtUp())
        await self.go.wait()
        for message in self.messages:
            yield message


async def bare_case(messages: list[audit_pb2.SubscribeEventsResponse]) -> float:
    """Events/s one subscriber receives from the bare server (the ceiling)."""
    go = asyncio.Event()
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(_BareAuth(), server)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(_BareAudit(messages, go), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        ctx = mp.get_context("spawn")
        ready, out = ctx.Event(), ctx.Queue()
        last = messages[-1].event.sequence
        proc = ctx.Process(target=_subscriber_process, args=(f"127.0.0.1:{port}", 1, 0, last, ready, out))
        proc.start()
        await asyncio.to_thread(ready.wait)
        go.set()
        results = await asyncio.to_thread(out.get)
        proc.join(30)
        if isinstance(results, str):
            raise SystemExit(results)
        first, end, count = results[0]
        return float(count / (end - first))
    finally:
        await server.stop(0)


async def run_case(n: int, events: int) -> tuple[float, list[audit_pb2.SubscribeEventsResponse]]:
    """Events/s each subscriber received, and the burst's messages (for the bare server)."""
    with tempfile.TemporaryDirectory() as tmp:
        # a queue that holds the whole burst: this measures delivery, not the cut-off of laggards
        config = Config.from_flat(
            listen="127.0.0.1:0", data_dir=Path(tmp), access_log=False, subscriber_queue=events * 2
        )
        server = await serve(config)
        try:
            ctx = mp.get_context("spawn")
            ready, out = ctx.Event(), ctx.Queue()
            after = server.store.head_sequence + 1  # the subscribers' own login comes first
            proc = ctx.Process(target=_subscriber_process, args=(server.address, n, after, after + events, ready, out))
            proc.start()
            await asyncio.to_thread(ready.wait)  # a process's event: wait for it off the loop
            journal = server.journal
            started = time.perf_counter()
            pending = []
            for i in range(0, events, 100):
                batch = [
                    journal.new(events_pb2.UserDisabled(username=f"bench-{j}"), correlation_id="bench")
                    for j in range(i, i + 100)
                ]
                pending.append(server.store.append(batch))
                if len(pending) >= 8:
                    await pending.pop(0)
            await asyncio.gather(*pending)
            appended = time.perf_counter() - started
            results = await asyncio.to_thread(out.get)  # a process's queue: wait for it off the loop
            proc.join(30)
            if isinstance(results, str):
                raise SystemExit(results)
            span = max(end for _, end, _ in results) - min(first for first, _, _ in results)
            delivered = sum(c for _, _, c in results)
            print(f"{n:>3} subscriber(s): {events / appended:>8.0f} events/s appended; "
                  f"{delivered / span:>8.0f} events/s delivered in all ({delivered / span / n:>7.0f} per subscriber)")
            burst = await server.store.read(after=after - 1, limit=events)
            return delivered / span / n, [audit_pb2.SubscribeEventsResponse(event=event_to_proto(e)) for e in burst]
        finally:
            await server.shutdown(grace=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--subscribers", default="1,10")
    args = parser.parse_args()
    per_subscriber: dict[int, float] = {}
    messages: list[audit_pb2.SubscribeEventsResponse] = []
    for n in (int(x) for x in args.subscribers.split(",")):
        per_subscriber[n], messages = asyncio.run(asyncio.wait_for(run_case(n, args.events), 120))
    ceiling = asyncio.run(asyncio.wait_for(bare_case(messages), 120))
    print(f"bare grpc.aio server stream, 1 subscriber, the same messages: {ceiling:>8.0f} events/s (the ceiling)")
    for n, rate in per_subscriber.items():
        print(f"{n:>3} subscriber(s): {rate / ceiling:.2f}x the ceiling per subscriber")


if __name__ == "__main__":
    main()
