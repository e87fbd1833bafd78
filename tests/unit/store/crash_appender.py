"""Child process for the kill -9 test: append forever, print every acknowledged append.

Usage: python crash_appender.py PATH. Each line is "first last hash" of one acknowledged
append, flushed at once, so whatever the parent read was acknowledged before the kill.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from itirp.store import NewEvent, SqliteEventStore


async def main(path: str) -> None:
    store = SqliteEventStore(path)
    await store.open()
    out = sys.stdout

    async def appender(worker: int) -> None:
        n = 0
        while True:
            n += 1
            events = [
                NewEvent(
                    event_id=str(uuid.uuid4()),
                    event_type="ORDER_CREATED",
                    correlation_id=f"c-{worker}-{n}",
                    causation_id="",
                    order_id=f"o-{worker}-{n}",
                    user_id="crash",
                    symbol="AAPL",
                    timestamp_us=n,
                    schema_version=1,
                    payload=b"x" * 64,
                )
                for _ in range(3)
            ]
            stored = await store.append(events)
            out.write(f"{stored[0].sequence} {stored[-1].sequence} {stored[-1].hash}\n")
            out.flush()

    await asyncio.gather(*(appender(w) for w in range(8)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
