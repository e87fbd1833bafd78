"""Printing a live stream: one line per item (or one JSON object per line) until Ctrl-C or a count."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from itirp_client.aio import AsyncClient
from itirp_client.cli.base import EXIT_OK, Context, say
from itirp_client.cli.render import json_line
from itirp_client.cli.tokens import async_session
from itirp_client.errors import ItirpError

__all__ = ["follow"]


class _Reporter:
    """Says on stderr when the live view has lost the server, and when it is back (and, with
    several addresses, at which one it tries and resumed)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _where(self, at: str) -> str:
        return f"{at} {self._client.address} " if len(self._client.addresses) > 1 else ""

    def lost(self, name: str, error: ItirpError, retry_in: float) -> None:
        why = error.reason or error.code
        say(f"reconnecting… ({name}: {why}); trying again {self._where('at')}in {retry_in:.1f} s")

    def resumed(self, name: str, position: int) -> None:
        say(f"resumed from sequence {position}" + (f" at {self._client.address}" if self._where("at") else ""))


async def follow(
    ctx: Context,
    open_stream: Callable[[AsyncClient], Awaitable[AsyncGenerator[Any, None]]],
    field: str,
    render: Callable[[Any], str],
    live_note: str,
    count: int | None,
) -> int:
    """Print a live stream (the `field` items of it), one line each, until Ctrl-C or `count` items."""
    seen = 0
    async with async_session(ctx.server, ctx.transport) as client:
        client.retry = dataclasses.replace(client.retry, forever=True, max_delay=5.0)  # a live view keeps trying
        client.stream_observer = _Reporter(client)
        stream = await open_stream(client)
        async with contextlib.aclosing(stream):
            async for item in stream:
                kind = item.WhichOneof("kind")
                if kind == "caught_up":
                    say(live_note)
                if kind != field:
                    continue
                payload = getattr(item, field)
                if ctx.json:
                    json_line(payload)
                else:
                    print(render(payload), flush=True)
                seen += 1
                if count and seen >= count:
                    break
    return EXIT_OK
