"""AccessWatch: a registered stream ends with the error that says why its access is gone; the task
is cancelled only while it waits inside the stream's own code."""

from __future__ import annotations

import asyncio

import pytest

from itirp.auth.access import AccessWatch, WatchedStream
from itirp.auth.roles import Role
from itirp.errors import ItirpError, PermissionDenied, Reason, Unauthenticated

NOW = 1_000.0


class Judge:
    """The check a test scripts: None lets the stream live, an error ends it."""

    def __init__(self) -> None:
        self.error: ItirpError | None = None

    def __call__(self, stream: WatchedStream) -> None:
        if self.error is not None:
            raise self.error


def _stream(expires_at: float = NOW + 600) -> WatchedStream:
    return WatchedStream(
        username="u", user_id="id", role=Role.TRADER, token_id="t", expires_at=int(expires_at), needs=Role.TRADER
    )


async def test_a_recheck_ends_a_waiting_stream_by_cancelling_its_task() -> None:
    judge = Judge()
    watch = AccessWatch(judge, clock=lambda: NOW)
    registered = asyncio.Event()
    seen: list[WatchedStream] = []

    async def handler() -> None:
        stream = watch.open(_stream())
        seen.append(stream)
        stream.inside = True
        registered.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(handler())
    await registered.wait()

    judge.error = Unauthenticated("disabled", reason=Reason.USER_DISABLED)
    watch.recheck()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[0].why is judge.error


async def test_a_stream_that_is_sending_is_only_marked_and_raises_when_it_asks_for_more() -> None:
    judge = Judge()
    watch = AccessWatch(judge, clock=lambda: NOW)
    stream = watch.open(_stream())  # the test's own task: not inside, so never cancelled
    judge.error = PermissionDenied("role", reason=Reason.ROLE_REQUIRED)

    watch.recheck()

    with pytest.raises(PermissionDenied):
        stream.raise_if_ended()
    watch.close(stream)
    assert len(watch) == 0


async def test_a_stream_ends_at_its_tokens_expiry() -> None:
    watch = AccessWatch(Judge(), clock=lambda: NOW)
    stream = watch.open(_stream(expires_at=NOW + 0.05))

    for _ in range(100):  # the timer fires within a few loop turns
        if stream.why is not None:
            break
        await asyncio.sleep(0.01)

    assert stream.why is not None
    assert stream.why.reason == Reason.TOKEN_EXPIRED
    watch.close(stream)


async def test_the_first_reason_wins() -> None:
    judge = Judge()
    watch = AccessWatch(judge, clock=lambda: NOW)
    stream = watch.open(_stream())
    judge.error = Unauthenticated("revoked", reason=Reason.TOKEN_REVOKED)
    watch.recheck()
    judge.error = Unauthenticated("disabled", reason=Reason.USER_DISABLED)
    watch.recheck()
    assert stream.why is not None
    assert stream.why.reason == Reason.TOKEN_REVOKED
    watch.close(stream)


async def test_a_stream_whose_client_stopped_reading_is_cancelled_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from itirp.auth import access

    monkeypatch.setattr(access, "STALLED_SEND_SECONDS", 0.01)
    judge = Judge()
    watch = AccessWatch(judge, clock=lambda: NOW)
    registered = asyncio.Event()

    async def sending_forever() -> None:  # grpc waiting for the client to take a message
        watch.open(_stream())
        registered.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(sending_forever())
    await registered.wait()
    judge.error = Unauthenticated("disabled", reason=Reason.USER_DISABLED)

    watch.recheck()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
