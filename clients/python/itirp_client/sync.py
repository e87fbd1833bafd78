"""The synchronous client: the asyncio client driven on a private event-loop thread, so that both
share one implementation of retries, token refresh and stream resumption."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator
from typing import Any

from itirp_client.aio import AsyncClient

__all__ = ["Client"]

# methods that return an async iterator without being async generators themselves
_STREAMS = frozenset({"order_updates", "audit_events", "trades", "order_book_stream"})


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="itirp-client-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class Client:
    """Blocking twin of `AsyncClient`: the same methods, returning results instead of awaitables
    (streams are plain iterators). `Client.connect(address, username, password)`."""

    def __init__(self, runner: _LoopThread, client: AsyncClient) -> None:
        self._runner = runner
        self._client = client

    @classmethod
    def connect(cls, address: str, username: str, password: str, **options: Any) -> Client:
        runner = _LoopThread()
        try:
            client = runner.run(AsyncClient.connect(address, username, password, **options))
        except BaseException:
            runner.stop()
            raise
        return cls(runner, client)

    @classmethod
    def from_token(cls, address: str, token: str, **options: Any) -> Client:
        runner = _LoopThread()
        try:
            client = runner.run(AsyncClient.from_token(address, token, **options))
        except BaseException:
            runner.stop()
            raise
        return cls(runner, client)

    def close(self) -> None:
        try:
            self._runner.run(self._client.close(), timeout=10)
        finally:
            self._runner.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def token(self) -> str:
        return self._client.token

    @property
    def username(self) -> str:
        return self._client.username

    @property
    def role(self) -> str:
        return self._client.role

    @property
    def expires_at(self) -> float:
        return self._client.expires_at

    def _iterate(self, agen: Any) -> Iterator[Any]:
        pending: Any = None
        try:
            while True:
                pending = asyncio.run_coroutine_threadsafe(agen.__anext__(), self._runner.loop)
                try:
                    yield pending.result()
                except StopAsyncIteration:
                    return
        finally:
            # interrupted while waiting (Ctrl-C, or the caller closed us): stop the pending read
            # first, or closing the stream would find it still running
            if pending is not None and not pending.done():
                pending.cancel()
                try:
                    pending.result(timeout=10)
                except BaseException:
                    pass
            if not self._runner.loop.is_closed():
                self._runner.run(agen.aclose(), timeout=10)

    def __getattr__(self, name: str) -> Any:
        target = getattr(AsyncClient, name, None)
        if name.startswith("_") or target is None or not callable(target):
            raise AttributeError(name)
        method = getattr(self._client, name)
        if inspect.iscoroutinefunction(target):
            return lambda *args, **kwargs: self._runner.run(method(*args, **kwargs))
        if inspect.isasyncgenfunction(target) or name in _STREAMS:
            return lambda *args, **kwargs: self._iterate(method(*args, **kwargs))
        raise AttributeError(name)
