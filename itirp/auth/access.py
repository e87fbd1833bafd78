"""Open server streams and the access they were opened with: a stream ends when that access does.

Every server stream registers here (the interceptor does it, for every streaming RPC) with its
principal and the role the RPC needs. Whenever the authentication state changes (a logout, a user
disabled, a role or password changed: `AccessWatch.recheck`) every open stream's access is judged
again, and each stream also has a timer at its token's expiry. A stream whose access is gone is
ended with the error that says why (UNAUTHENTICATED, or PERMISSION_DENIED when the user's new role
does not reach it).

How a stream is ended without costing anything per message: while the handler is suspended inside
the stream's own code (waiting for events), its task is cancelled and the interceptor turns that
cancellation into the error; while grpc is sending a message, the error is only noted, and the
interceptor raises it before asking the stream for the next one (a client that has stopped
reading gets its call cancelled after `STALLED_SEND_SECONDS`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from itirp.auth.roles import Role
from itirp.errors import ItirpError, PermissionDenied, Reason, Unauthenticated

__all__ = ["STALLED_SEND_SECONDS", "AccessWatch", "WatchedStream"]

#: How long a stream whose access is gone may wait for its client to take a message grpc is
#: sending before the call is cancelled outright (a client that stopped reading).
STALLED_SEND_SECONDS = 5.0

#: Judges a stream's access now: returns, or raises the error that ends the stream.
Check = Callable[["WatchedStream"], None]


class WatchedStream:
    """One open stream: whose it is, what it needs, and (once its access is gone) why it ends."""

    __slots__ = (
        "closed",
        "expires_at",
        "inside",
        "needs",
        "role",
        "task",
        "timer",
        "token_id",
        "user_id",
        "username",
        "version",
        "why",
    )

    def __init__(
        self, *, username: str, user_id: str, role: Role, token_id: str, expires_at: int, needs: Role, version: int = 0
    ) -> None:
        self.username = username
        self.user_id = user_id
        self.role = role  # the role the stream was opened with (what it shows may depend on it)
        self.token_id = token_id
        self.expires_at = expires_at
        self.needs = needs
        self.version = version
        self.task: asyncio.Task[object] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.inside = False  # the task is suspended in the stream's own code (not sending)
        self.why: ItirpError | None = None
        self.closed = False  # unregistered: the stream has ended

    def end(self, why: ItirpError) -> None:
        """End the stream with `why` (the first reason wins)."""
        if self.why is not None:
            return
        self.why = why
        if self.task is None:
            return
        if self.inside:
            self.task.cancel()
        else:  # grpc is sending: the error is raised when it asks for more, unless the client
            # stops reading; then the call is cancelled after a grace period
            asyncio.get_running_loop().call_later(STALLED_SEND_SECONDS, self._cancel_if_stalled)

    def _cancel_if_stalled(self) -> None:
        if self.task is not None and not self.closed and not self.inside:
            self.task.cancel()

    def raise_if_ended(self) -> None:
        if self.why is not None:
            raise self.why


def expired() -> Unauthenticated:
    return Unauthenticated(
        "token expired; the stream ends: refresh the token (or log in again) and open it again",
        reason=Reason.TOKEN_EXPIRED,
    )


def role_changed(stream: WatchedStream, role: Role) -> ItirpError:
    """The error that ends a stream whose user's role changed to `role`."""
    if role < stream.needs:
        return PermissionDenied(
            f"your role changed to {role.name}; this stream needs {stream.needs.name} or above",
            reason=Reason.ROLE_REQUIRED,
            metadata={"required_role": stream.needs.proto_name, "role": role.proto_name},
        )
    return Unauthenticated(
        f"your role changed from {stream.role.name} to {role.name}; open the stream again (with a refreshed token)",
        reason=Reason.ROLE_CHANGED,
        metadata={"username": stream.username, "role": role.proto_name},
    )


class AccessWatch:
    """The registry of open streams (on the event loop only)."""

    def __init__(self, check: Check, *, clock: Callable[[], float]) -> None:
        self._check = check
        self._clock = clock
        self._streams: set[WatchedStream] = set()

    def __len__(self) -> int:
        return len(self._streams)

    def open(self, stream: WatchedStream) -> WatchedStream:
        """Register the stream of the current task; its access is judged at once and at expiry."""
        loop = asyncio.get_running_loop()
        stream.task = asyncio.current_task()
        stream.timer = loop.call_later(max(0.0, stream.expires_at - self._clock()), stream.end, expired())
        self._streams.add(stream)
        self._judge(stream)
        return stream

    def close(self, stream: WatchedStream) -> None:
        stream.closed = True
        self._streams.discard(stream)
        if stream.timer is not None:
            stream.timer.cancel()

    def recheck(self) -> None:
        """Judge every open stream again (after the authentication state changed)."""
        for stream in tuple(self._streams):
            self._judge(stream)

    def _judge(self, stream: WatchedStream) -> None:
        if self._clock() >= stream.expires_at:
            stream.end(expired())
            return
        try:
            self._check(stream)
        except (Unauthenticated, PermissionDenied) as why:
            stream.end(why)
