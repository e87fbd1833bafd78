"""The part of `AsyncClient` that reaches servers: one channel per address (made when first used),
the current address, stubs that always call on the current channel, and the one loop every unary
call goes through (`_call`): retries of what is safe to retry, following the leader of a two-node
layout (see `itirp_client.failover`), and a fresh login when a node the client moved to refuses
its token.

How long a call keeps trying:

- on one address (the only one), UNAVAILABLE is retried up to `RetryPolicy.attempts` times, as
  it always was;
- NOT_LEADER naming the leader: sent again at once to the leader (at most one such hop per address
  in a row; then after the server's `RetryInfo`);
- a failure another node may not have (NOT_LEADER naming no leader, a connection failure with
  several addresses, a node shutting down): the next address, after the backoff, until the waits
  add up to `RetryPolicy.failover_seconds` (15 s by default: a takeover takes about a lease, 5 s
  by default, plus the time to notice), and at most `attempts * 4` attempts.

What is sent again stays what was sent again before: every call goes through this loop with
`retry=True`; a submit carries a client order id, so a repeat that finds the first attempt landed
returns that order (`DuplicateOrder` -> the existing order), unless the only earlier refusals
were NOT_LEADER: then nothing of this call was recorded, and the duplicate is the caller's.
NOT_LEADER is always safe to resend, even by a call that is not retried otherwise: the node that
refused recorded nothing. The backoff grows with the waits, not with the hops to a leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpc

from itirp.v1 import (
    account_pb2_grpc,
    audit_pb2_grpc,
    auth_pb2_grpc,
    market_data_pb2_grpc,
    order_pb2_grpc,
    reference_data_pb2_grpc,
    risk_pb2_grpc,
    system_pb2_grpc,
)
from itirp_client.errors import ItirpError, NotAuthenticated, Reason, from_rpc_error
from itirp_client.failover import Endpoints, Move
from itirp_client.streams import RetryPolicy, Sleep
from itirp_client.transport import Pem, channel, channel_credentials

__all__ = ["Addresses", "Connection"]

log = logging.getLogger("itirp_client")
T = TypeVar("T")

#: One address, several comma-separated ones ("a:50051,b:50051"), or a list of them.
Addresses = str | Sequence[str]

_DEFAULT_RETRY = RetryPolicy()


#: With several addresses, a channel whose node was down tries again sooner than grpc's default
#: (1 s, growing to 120 s): calls fail at once while it waits, and a node taking over must be
#: found within seconds. Options the caller gives win.
QUICK_RECONNECTS = (
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


def _with_quick_reconnects(options: Sequence[tuple[str, Any]], addresses: int) -> tuple[tuple[str, Any], ...]:
    given = {name for name, _ in options}
    extra = () if addresses < 2 else tuple(o for o in QUICK_RECONNECTS if o[0] not in given)
    return (*options, *extra)


class _Method:
    """A method of a `_Follow` stub: called, it calls the stub of the client's current channel."""

    def __init__(self, service: _Follow, name: str) -> None:
        self._service, self._name = service, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._service.current(), self._name)(*args, **kwargs)


class _Follow:
    """Stands in for a generated stub: every call goes to the client's current channel, so that a
    retry (or a stream reopened) after a switch of address goes to the new one."""

    def __init__(self, owner: Connection, make: Callable[[grpc.aio.Channel], Any]) -> None:
        self._owner, self._make = owner, make

    def current(self) -> Any:
        return self._owner._stub(self._make)

    def __getattr__(self, name: str) -> _Method:
        return _Method(self, name)


@dataclass
class _Tries:
    attempt: int = 1
    waited: float = 0.0  # seconds slept on failover
    hops: int = 0  # immediate switches to a named leader in a row
    waits: int = 0  # attempts followed by a wait: the backoff grows with these, not with hops
    maybe_landed: bool = False  # an attempt failed in a way that leaves open whether it was recorded
    relogged: bool = False


class Connection:
    """Channels, the current address, and the call loop (see the module docstring)."""

    def __init__(
        self,
        address: Addresses,
        *,
        retry: RetryPolicy = _DEFAULT_RETRY,
        channel_options: Sequence[tuple[str, Any]] = (),
        sleep: Sleep = asyncio.sleep,
        ca: Pem | None = None,
        cert: Pem | None = None,
        key: Pem | None = None,
        tls: bool | None = None,
    ) -> None:
        self._endpoints = Endpoints(address)
        self.retry = retry
        self._sleep = sleep
        self._credentials_tls = channel_credentials(ca=ca, cert=cert, key=key, tls=tls)
        self.tls = self._credentials_tls is not None
        self._channel_options = _with_quick_reconnects(channel_options, len(self._endpoints.addresses))
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[tuple[str, Callable[[grpc.aio.Channel], Any]], Any] = {}
        self._token = ""
        self._credentials: tuple[str, str] | None = None
        self._moved = False  # the address changed since the token was issued
        self._auth = cast(auth_pb2_grpc.AuthServiceStub, _Follow(self, auth_pb2_grpc.AuthServiceStub))
        self._orders = cast(order_pb2_grpc.OrderServiceStub, _Follow(self, order_pb2_grpc.OrderServiceStub))
        self._risk = cast(risk_pb2_grpc.RiskServiceStub, _Follow(self, risk_pb2_grpc.RiskServiceStub))
        self._audit = cast(audit_pb2_grpc.AuditServiceStub, _Follow(self, audit_pb2_grpc.AuditServiceStub))
        self._system = cast(system_pb2_grpc.SystemServiceStub, _Follow(self, system_pb2_grpc.SystemServiceStub))
        self._market = cast(
            market_data_pb2_grpc.MarketDataServiceStub, _Follow(self, market_data_pb2_grpc.MarketDataServiceStub)
        )
        self._reference = cast(
            reference_data_pb2_grpc.ReferenceDataServiceStub,
            _Follow(self, reference_data_pb2_grpc.ReferenceDataServiceStub),
        )
        self._accounts = cast(account_pb2_grpc.AccountServiceStub, _Follow(self, account_pb2_grpc.AccountServiceStub))
        self._channel_for(self.address)  # the first address's channel now, as the client always did

    # ------------------------------------------------------------------ addresses and channels

    @property
    def address(self) -> str:
        """The address calls go to now (the leader, once a write has found it)."""
        return self._endpoints.current

    @property
    def addresses(self) -> list[str]:
        """Every address this client may use (those given, then any leader a node named)."""
        return list(self._endpoints.addresses)

    def _channel_for(self, address: str) -> grpc.aio.Channel:
        found = self._channels.get(address)
        if found is None:
            found = self._channels[address] = channel(address, self._credentials_tls, self._channel_options)
        return found

    def _stub(self, make: Callable[[grpc.aio.Channel], Any]) -> Any:
        key = (self.address, make)
        stub = self._stubs.get(key)
        if stub is None:
            stub = self._stubs[key] = make(self._channel_for(self.address))
        return stub

    def _follow(self, error: ItirpError, sent_to: str) -> Move | None:
        """Move to the leader named, or to the next address, after `error` from `sent_to`."""
        before = self.address
        move = self._endpoints.follow(error, sent_to)
        if self.address != before:
            self._moved = True
            log.info("%s: %s (%s); now using %s", before, error.code, error.reason or "-", self.address)
        return move

    def _follow_stream(self, error: ItirpError, opened_at: str) -> Move | None:
        """`_follow` for a stream whose call went to `opened_at`: the move when the stream's next
        call goes elsewhere (this failure, or another call's, moved the client), else None."""
        move = self._follow(error, opened_at)
        return move if move is not None and self.address != opened_at else None

    async def _close_channels(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        self._stubs.clear()
        for ch in channels:
            await ch.close()

    # ------------------------------------------------------------------ the call loop

    def _metadata(self, correlation_id: str | None = None) -> tuple[tuple[str, str], ...]:
        md: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {self._token}"),) if self._token else ()
        if correlation_id:
            md += (("x-correlation-id", correlation_id),)
        return md

    async def login(self, username: str, password: str) -> Any:
        raise NotImplementedError  # AsyncClient's

    async def _call(
        self,
        rpc: Callable[..., Awaitable[T]],
        request: Any,
        *,
        correlation_id: str | None = None,
        retry: bool = True,
        on_retry_error: Callable[[ItirpError, int], Awaitable[T | None]] | None = None,
    ) -> T:
        tries = _Tries()
        while True:
            sent_to = self.address
            try:
                return await rpc(request, metadata=self._metadata(correlation_id))
            except grpc.aio.AioRpcError as exc:
                error = from_rpc_error(exc)
            # a repeat's refusal may mean an earlier attempt went through: not after NOT_LEADER
            # alone (the node that refused recorded nothing)
            if tries.maybe_landed and on_retry_error is not None:
                recovered = await on_retry_error(error, tries.attempt)
                if recovered is not None:
                    return recovered
            if error.code == "UNAVAILABLE" and error.reason != Reason.NOT_LEADER:
                tries.maybe_landed = True  # e.g. the connection dropped before the reply
            if await self._relogin_after_move(error, tries):
                continue
            delay = self._next_try(error, sent_to, tries, retry)
            if delay is None:
                raise error from None
            if delay:
                await self._sleep(delay)
                tries.waits += 1
            tries.attempt += 1

    def _next_try(self, error: ItirpError, sent_to: str, tries: _Tries, retry: bool) -> float | None:
        """Seconds to wait before sending the call again (maybe elsewhere), or None: give up."""
        move = self._follow(error, sent_to)
        not_leader = error.reason == Reason.NOT_LEADER  # nothing was recorded: always safe to resend
        if tries.attempt >= self.retry.attempts * 4 or not (retry or not_leader):
            return None
        if move is Move.LEADER and tries.hops < len(self._endpoints.addresses):
            tries.hops += 1
            return 0.0
        tries.hops = 0
        # the server's RetryInfo, else backoff; a longer wait than the policy allows is the caller's call
        delay = self.retry.delay(tries.waits + 1) if error.retry_after is None else error.retry_after
        if delay > self.retry.max_delay:
            return None
        if move is not None and (not_leader or len(self._endpoints.addresses) > 1):
            if tries.waited + delay > self.retry.failover_seconds:
                return None
            tries.waited += delay
            return delay
        if error.code != "UNAVAILABLE" or tries.attempt >= self.retry.attempts:
            return None
        return delay

    async def _relogin_after_move(self, error: ItirpError, tries: _Tries) -> bool:
        """A node the client moved to refused the token (it may not share the first one's keys
        yet): log in again with the credentials of `connect()`, once per call."""
        if not (isinstance(error, NotAuthenticated) and error.reason == Reason.TOKEN_INVALID):
            return False
        if not self._moved or self._credentials is None or tries.relogged:
            return False
        tries.relogged = True
        log.info("%s refused the token after a switch; logging in again", self.address)
        await self.login(*self._credentials)
        return True
