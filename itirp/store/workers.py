"""Threads that own blocking database connections and hand results back to the event loop.

Why this shape: the event loop never waits on a database. Each thread owns one connection (a
connection is not shared between threads), takes jobs from one queue, and reports each outcome
with one `call_soon_threadsafe`, never by polling. The SQLite and PostgreSQL stores and the
PostgreSQL lease all use it: a writer (one thread), readers (a few), a lease (one, so that
renewals never queue behind event writes).

A connection the database closed (a restart, a failover to a promoted standby, a backend
terminated) is dropped after the job that found it broken, and the next job connects again. A job
its caller marks as safe to run twice (`call(..., again=True)`: reads, the lease's look) runs once
more on the new connection; any other job's error goes back to its caller (a commit cut off midway
has an unknown outcome, which only the caller may judge). So a standby whose database came back
follows and takes over without a restart of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Worker"]


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)
_Done = Callable[[Any, BaseException | None], None]
_STOP = object()


class Worker(Generic[C]):
    """`threads` threads, each with its own connection, serving jobs from one queue.

    A job is `fn(conn, *args)`; its outcome goes back to the loop with one
    `call_soon_threadsafe`, never by polling.
    """

    def __init__(
        self, name: str, connect: Callable[[], C], threads: int, *, broken: Callable[[C], bool] | None = None
    ) -> None:
        self._connect = connect
        self._broken = broken
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop = asyncio.get_running_loop()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        conn: C | None = None
        loop = self._loop
        try:
            while (job := self._queue.get()) is not _STOP:
                fn, args, done, again = job
                for attempt in (1, 2):
                    try:
                        if conn is None:
                            conn = self._connect()
                        result, exc = fn(conn, *args), None
                        break
                    except BaseException as e:  # noqa: BLE001 - handed back to the loop: a waiting future raises it, a commit fails the store
                        result, exc = None, e
                        if conn is None or self._broken is None or not self._broken(conn):
                            break
                        conn = self._drop(conn)
                        if not again or attempt == 2:
                            break
                try:
                    loop.call_soon_threadsafe(done, result, exc)
                except RuntimeError:  # the loop is gone; nobody is waiting any more
                    return
        finally:
            if conn is not None:
                conn.close()

    @staticmethod
    def _drop(conn: C) -> None:
        with contextlib.suppress(Exception):  # it is broken already; the next job connects again
            conn.close()

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], done: _Done, *, again: bool = False) -> None:
        self._queue.put((fn, args, done, again))

    async def call(self, fn: Callable[..., Any], *args: Any, again: bool = False) -> Any:
        fut = self._loop.create_future()

        def done(result: Any, exc: BaseException | None) -> None:
            if fut.done():
                return
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)

        self.submit(fn, args, done, again=again)
        return await fut

    async def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        await asyncio.to_thread(self._join)

    def _join(self) -> None:
        for t in self._threads:
            t.join()
