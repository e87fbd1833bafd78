"""The asyncio client: log in, attach and refresh the token, retry what is safe to retry, map
errors to types, and follow the server's streams across reconnects with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from itirp.v1 import (
    audit_pb2,
    auth_pb2,
    common_pb2,
    events_pb2,
    market_data_pb2,
    order_pb2,
    system_pb2,
)
from itirp_client import _enums
from itirp_client.aio_accounts import AccountCalls
from itirp_client.aio_reference import ReferenceDataCalls
from itirp_client.aio_risk import RiskCalls
from itirp_client.book import OrderBook
from itirp_client.connection import Addresses, Connection
from itirp_client.errors import (
    DuplicateOrder,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    OrderStateConflict,
    RiskRejected,
)
from itirp_client.order_entry import OrderEntryCalls
from itirp_client.streams import (
    Resumable,
    RetryPolicy,
    Sleep,
    StreamCall,
    StreamObserver,
    follow_book,
    follow_sequenced,
)
from itirp_client.transport import Pem

__all__ = ["AsyncClient", "RetryPolicy"]

log = logging.getLogger("itirp_client")
T = TypeVar("T")

_DEFAULT_RETRY = RetryPolicy()


class AsyncClient(ReferenceDataCalls, RiskCalls, AccountCalls, OrderEntryCalls, Connection):
    """A session with an ITIRP server. Use `await AsyncClient.connect(...)` or
    `AsyncClient.from_token(...)`; close it with `await client.close()` (or `async with`).

    `address`: one "host:port", several comma-separated ("a:50051,b:50051"), or a list: the nodes
    of a two-node layout, of which the client uses one at a time (`address`) and follows the
    leader (see `itirp_client.connection`).

    TLS: `ca=` (the server's CA certificate), and for mutual TLS `cert=` and `key=` (the client's
    certificate and key), each a PEM file's path or its bytes; `tls=True` alone trusts the
    system's CAs. Without them the connection is plaintext (see `itirp_client.transport`)."""

    def __init__(
        self,
        address: Addresses,
        *,
        retry: RetryPolicy = _DEFAULT_RETRY,
        refresh_margin: float = 60.0,
        channel_options: Sequence[tuple[str, Any]] = (),
        sleep: Sleep = asyncio.sleep,
        ca: Pem | None = None,
        cert: Pem | None = None,
        key: Pem | None = None,
        tls: bool | None = None,
    ) -> None:
        super().__init__(
            address, retry=retry, channel_options=channel_options, sleep=sleep, ca=ca, cert=cert, key=key, tls=tls
        )
        #: Told when a stream of this client loses the server and when it is back.
        self.stream_observer: StreamObserver | None = None
        self.refresh_margin = refresh_margin
        self._expires_at = 0.0
        self._refresher: asyncio.Task[None] | None = None
        self.username = ""
        self.role = ""

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def connect(cls, address: Addresses, username: str, password: str, **options: Any) -> AsyncClient:
        """Log in and keep the session alive (the token is refreshed before it expires)."""
        client = cls(address, **options)
        try:
            await client.login(username, password)
        except BaseException:
            await client.close()
            raise
        return client

    @classmethod
    async def from_token(cls, address: Addresses, token: str, **options: Any) -> AsyncClient:
        """Resume a session from a saved token (refreshed before it expires, while it is valid)."""
        client = cls(address, **options)
        client._token = token
        try:
            me = await client.whoami()
        except BaseException:
            await client.close()
            raise
        client._session(token, me.expires_at.seconds, me.username, common_pb2.Role.Name(me.role))
        return client

    @classmethod
    async def by_certificate(cls, address: Addresses, *, cert: Pem, key: Pem, **options: Any) -> AsyncClient:
        """A session by mutual TLS alone, on a server started with `--tls-client-cert-users`: the
        user the client certificate's CN names, with no login and no token to refresh."""
        client = cls(address, cert=cert, key=key, **options)
        try:
            me = await client.whoami()
        except BaseException:
            await client.close()
            raise
        client.username, client.role = me.username, common_pb2.Role.Name(me.role).removeprefix("ROLE_")
        return client

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refresher
        await self._close_channels()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ the session

    @property
    def token(self) -> str:
        return self._token

    @property
    def expires_at(self) -> float:
        return self._expires_at

    def _session(self, token: str, expires_at: float, username: str, role: str) -> None:
        self._token, self._expires_at = token, expires_at
        self._moved = False
        self.username, self.role = username, role.removeprefix("ROLE_")
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._keep_fresh(), name="itirp-client-refresh")

    async def _keep_fresh(self) -> None:
        while True:
            remaining = self._expires_at - time.time()
            # refresh `refresh_margin` before expiry, but never later than half-way through a
            # short-lived token's life (else a token shorter than the margin would be refreshed
            # back to back)
            wait = remaining - min(self.refresh_margin, remaining / 2)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except ItirpError as exc:
                log.warning("token refresh failed: %s", exc)
                if self._credentials and isinstance(exc, NotAuthenticated):
                    try:
                        await self.login(*self._credentials)
                        continue
                    except ItirpError as again:
                        log.warning("re-login failed: %s", again)
                await asyncio.sleep(min(5.0, max(0.5, self._expires_at - time.time())))

    # ------------------------------------------------------------------ auth

    async def login(self, username: str, password: str) -> auth_pb2.LoginResponse:
        reply: auth_pb2.LoginResponse = await self._call(
            self._auth.Login, auth_pb2.LoginRequest(username=username, password=password)
        )
        self._credentials = (username, password)
        self._session(reply.access_token, reply.expires_at.seconds, reply.username, common_pb2.Role.Name(reply.role))
        return reply

    async def whoami(self) -> auth_pb2.WhoAmIResponse:
        return await self._call(self._auth.WhoAmI, auth_pb2.WhoAmIRequest())

    async def refresh(self) -> auth_pb2.RefreshTokenResponse:
        reply: auth_pb2.RefreshTokenResponse = await self._call(self._auth.RefreshToken, auth_pb2.RefreshTokenRequest())
        self._session(reply.access_token, reply.expires_at.seconds, reply.username, common_pb2.Role.Name(reply.role))
        return reply

    async def logout(self) -> auth_pb2.LogoutResponse:
        reply: auth_pb2.LogoutResponse = await self._call(self._auth.Logout, auth_pb2.LogoutRequest())
        self._token, self._credentials = "", None
        if self._refresher is not None:
            self._refresher.cancel()
        return reply

    # ------------------------------------------------------------------ orders

    async def submit_order(
        self,
        symbol: str,
        side: str | int,
        quantity: int,
        price: str | Decimal | None = None,
        *,
        order_type: str | int | None = None,
        time_in_force: str | int | None = None,
        self_trade_prevention: str | int | None = None,
        strategy: str = "",
        client_order_id: str | None = None,
        correlation_id: str | None = None,
        raise_on_reject: bool = True,
        account: str = "",
    ) -> order_pb2.SubmitOrderResponse:
        """Submit an order; `RiskRejected` when pre-trade risk rejects it (unless told not to).

        `order_type` is LIMIT (the default) or MARKET (no price; internal venue only),
        `time_in_force` GTC (default), IOC, FOK or DAY, `self_trade_prevention` CANCEL_RESTING
        (default), CANCEL_INCOMING or CANCEL_BOTH: names in any case ("market", "ioc",
        "cancel-both") or the enum numbers. Unset ones take the server's default. `account`: the
        account to book to (empty: your default; see `list_entitlements`).

        A `client_order_id` is generated when none is given, so that retrying after a lost reply
        can never create a second order: if the retry finds the id taken, the order the first
        attempt created is returned."""
        if isinstance(price, float):
            raise TypeError("price must be a decimal string or Decimal, never a float")
        coid = client_order_id or f"cli-{uuid.uuid4()}"
        request = order_pb2.SubmitOrderRequest(
            symbol=symbol,
            side=_enums.side(side),
            quantity=quantity,
            price="" if price is None else str(price),
            strategy=strategy,
            client_order_id=coid,
            order_type=_enums.order_type(order_type),
            time_in_force=_enums.time_in_force(time_in_force),
            self_trade_prevention=_enums.self_trade_prevention(self_trade_prevention),
            account=account,
        )

        async def first_attempt_got_through(error: ItirpError, attempt: int) -> order_pb2.SubmitOrderResponse | None:
            if isinstance(error, DuplicateOrder) and error.order_id:
                order = await self.get_order(error.order_id)
                return order_pb2.SubmitOrderResponse(
                    order_id=order.order_id,
                    status=order.status,
                    correlation_id=order.correlation_id,
                    timestamp=order.created_at,
                    message=order.message,
                    violations=order.violations,
                    order=order,
                )
            return None

        reply: order_pb2.SubmitOrderResponse = await self._call(
            self._orders.SubmitOrder,
            request,
            correlation_id=correlation_id or str(uuid.uuid4()),
            on_retry_error=first_attempt_got_through,
        )
        if raise_on_reject and reply.status == common_pb2.ORDER_STATUS_REJECTED:
            raise RiskRejected(reply.message, order=reply.order, violations=list(reply.violations))
        return reply

    async def get_order(self, order_id: str) -> order_pb2.Order:
        reply: order_pb2.GetOrderResponse = await self._call(
            self._orders.GetOrder, order_pb2.GetOrderRequest(order_id=order_id)
        )
        return reply.order

    async def list_orders(
        self,
        *,
        statuses: Iterable[str | int] = (),
        symbol: str = "",
        user_id: str = "",
        page_size: int = 100,
        page_token: str = "",
    ) -> order_pb2.ListOrdersResponse:
        request = order_pb2.ListOrdersRequest(
            statuses=_enums.order_statuses(statuses),
            symbol=symbol,
            user_id=user_id,
            page_size=page_size,
            page_token=page_token,
        )
        return await self._call(self._orders.ListOrders, request)

    async def iter_orders(
        self, *, statuses: Iterable[str | int] = (), symbol: str = "", user_id: str = "", page_size: int = 100
    ) -> AsyncGenerator[order_pb2.Order, None]:
        """Every matching order, newest first, page by page."""
        token = ""
        while True:
            page = await self.list_orders(
                statuses=statuses, symbol=symbol, user_id=user_id, page_size=page_size, page_token=token
            )
            for order in page.orders:
                yield order
            token = page.next_page_token
            if not token:
                return

    async def cancel_order(self, order_id: str, reason: str = "") -> order_pb2.Order:
        request = order_pb2.CancelOrderRequest(order_id=order_id, reason=reason)
        reply: order_pb2.CancelOrderResponse = await self._call(self._orders.CancelOrder, request)
        return reply.order

    async def amend_order(
        self, order_id: str, quantity: int = 0, price: str | Decimal = ""
    ) -> order_pb2.AmendOrderResponse:
        """Change a resting order (internal venue): `quantity` is the new total size, filled part
        included (0 keeps it), `price` the new limit price ("" keeps it). The reply has the order and
        `priority_kept` (a smaller quantity at the same price keeps the order's place in the queue).
        `OrderStateConflict` when the order is not resting (or the change breaches a risk limit),
        `InvalidRequest` for a bad value.

        Safe to retry: the amendment sets values rather than adding to them, so when a retry
        finds the first attempt went through (the order already has the new quantity and price),
        the order is returned as it is now, with `priority_kept` False (not known)."""
        if isinstance(price, float):
            raise TypeError("price must be a decimal string or Decimal, never a float")
        request = order_pb2.AmendOrderRequest(order_id=order_id, quantity=quantity, price=str(price))

        async def first_attempt_got_through(error: ItirpError, attempt: int) -> order_pb2.AmendOrderResponse | None:
            # a repeat of an amendment that went through is "nothing to change", or "not resting"
            # when the new price traded the order away
            if not isinstance(error, InvalidRequest | OrderStateConflict):
                return None
            try:
                target = Decimal(str(price)) if str(price) else None
            except ArithmeticError:  # a bad price: the server's answer stands
                return None
            order = await self.get_order(order_id)
            same_quantity = not quantity or order.quantity == quantity
            same_price = target is None or (bool(order.price) and Decimal(order.price) == target)
            if same_quantity and same_price:
                return order_pb2.AmendOrderResponse(order=order, priority_kept=False)
            return None

        return await self._call(self._orders.AmendOrder, request, on_retry_error=first_attempt_got_through)

    def order_updates(
        self, *, order_id: str = "", from_sequence: int = 0, markers: bool = False
    ) -> AsyncGenerator[order_pb2.StreamOrderUpdatesResponse, None]:
        """Live order status: the open orders first (`update.snapshot`), then every change. Survives
        dropped connections and server restarts, resuming after the last sequence seen."""

        def open_stream(after: int) -> Any:
            request = order_pb2.StreamOrderUpdatesRequest(order_id=order_id, from_sequence=after)
            return self._orders.StreamOrderUpdates(request, metadata=self._metadata())

        def sequence(item: order_pb2.StreamOrderUpdatesResponse) -> int | None:
            return None if item.update.snapshot else item.update.sequence

        stream = self._resumable(open_stream, from_sequence, "the order update stream")
        return follow_sequenced(stream, sequence, markers)

    # ------------------------------------------------------------------ risk

    # ------------------------------------------------------------------ audit

    @staticmethod
    def _filter(event_types: Iterable[str | int], **fields: str) -> audit_pb2.EventFilter:
        return audit_pb2.EventFilter(event_types=_enums.event_types(event_types), **fields)

    async def list_events(
        self,
        *,
        page_size: int = 100,
        page_token: str = "",
        from_sequence: int = 0,
        event_types: Iterable[str | int] = (),
        user_id: str = "",
        order_id: str = "",
        symbol: str = "",
        correlation_id: str = "",
    ) -> audit_pb2.ListEventsResponse:
        request = audit_pb2.ListEventsRequest(
            page_size=page_size,
            page_token=page_token,
            from_sequence=from_sequence,
            filter=self._filter(
                event_types, user_id=user_id, order_id=order_id, symbol=symbol, correlation_id=correlation_id
            ),
        )
        return await self._call(self._audit.ListEvents, request)

    async def correlation_trail(self, correlation_id: str) -> list[events_pb2.Event]:
        reply = await self._call(
            self._audit.GetCorrelationTrail, audit_pb2.GetCorrelationTrailRequest(correlation_id=correlation_id)
        )
        return list(reply.events)

    async def order_trail(self, order_id: str) -> list[events_pb2.Event]:
        return list(
            (await self._call(self._audit.GetOrderTrail, audit_pb2.GetOrderTrailRequest(order_id=order_id))).events
        )

    async def verify_audit_log(self) -> audit_pb2.VerifyAuditLogResponse:
        return await self._call(self._audit.VerifyAuditLog, audit_pb2.VerifyAuditLogRequest())

    def audit_events(
        self,
        *,
        from_sequence: int = 0,
        event_types: Iterable[str | int] = (),
        user_id: str = "",
        order_id: str = "",
        symbol: str = "",
        correlation_id: str = "",
        heartbeat_seconds: int = 0,
        markers: bool = False,
    ) -> AsyncGenerator[audit_pb2.SubscribeEventsResponse, None]:
        """Every event after `from_sequence`, then live ones; resumes across reconnects, restarts
        and slow-consumer cut-offs with no gap and no duplicate. With `markers`, caught-up and
        heartbeat messages are yielded too."""
        flt = self._filter(
            event_types, user_id=user_id, order_id=order_id, symbol=symbol, correlation_id=correlation_id
        )

        def open_stream(after: int) -> Any:
            request = audit_pb2.SubscribeEventsRequest(
                from_sequence=after, filter=flt, heartbeat_interval_seconds=heartbeat_seconds
            )
            return self._audit.SubscribeEvents(request, metadata=self._metadata())

        stream = self._resumable(open_stream, from_sequence, "the audit event stream")
        return follow_sequenced(stream, lambda item: item.event.sequence, markers)

    # ------------------------------------------------------------------ market data

    async def order_book(self, symbol: str, depth: int = 10) -> market_data_pb2.OrderBookSnapshot:
        """The top `depth` price levels per side of one symbol's book (internal venue), best first.
        `OrderBook.from_snapshot(...)` turns it into the value `order_book_stream()` yields."""
        request = market_data_pb2.GetOrderBookRequest(symbol=symbol, depth=depth)
        reply: market_data_pb2.GetOrderBookResponse = await self._call(self._market.GetOrderBook, request)
        return reply.book

    def order_book_stream(self, symbol: str, depth: int = 10) -> AsyncGenerator[OrderBook, None]:
        """A local copy of one symbol's book, kept up to date: an `OrderBook` after the snapshot and
        after every update applied. A snapshot the server sends mid-stream replaces the book; on a
        gap (an update that does not follow the last sequence applied) or a dropped connection the
        stream resubscribes and goes on from the new snapshot (`OrderBook.snapshot` is True for
        those, `resubscriptions` counts them)."""
        request = market_data_pb2.StreamOrderBookRequest(symbol=symbol, depth=depth)

        def open_stream(after: int) -> Any:  # a new subscription starts from a snapshot
            return self._market.StreamOrderBook(request, metadata=self._metadata())

        return follow_book(self._resumable(open_stream, 0, f"the order book stream of {symbol}"), symbol)

    def trades(
        self, symbol: str, *, from_sequence: int = 0, markers: bool = False
    ) -> AsyncGenerator[market_data_pb2.StreamTradesResponse, None]:
        """Trades of one symbol as they commit (`item.trade`); with `from_sequence`, the trades
        after that event sequence first (0: only new trades; 1: every trade so far). Survives
        dropped connections and server restarts, resuming after the last trade's sequence, so
        nothing is missed or repeated. `markers=True` also yields caught-up markers and heartbeats."""

        def open_stream(after: int) -> Any:
            request = market_data_pb2.StreamTradesRequest(symbol=symbol, from_sequence=after)
            return self._market.StreamTrades(request, metadata=self._metadata())

        stream = self._resumable(open_stream, from_sequence, f"the trade stream of {symbol}")
        return follow_sequenced(stream, lambda item: item.trade.sequence, markers)

    # ------------------------------------------------------------------ system

    async def system_info(self) -> system_pb2.GetSystemInfoResponse:
        return await self._call(self._system.GetSystemInfo, system_pb2.GetSystemInfoRequest())

    async def system_metrics(self) -> system_pb2.GetSystemMetricsResponse:
        return await self._call(self._system.GetSystemMetrics, system_pb2.GetSystemMetricsRequest())

    # ------------------------------------------------------------------ streams

    async def _relogin(self) -> bool:
        """Renew the token for a stream the server ended (expired token, changed role): refresh it
        while it is valid (the refresher may have done so already), else log in again with the
        credentials of `connect()` (none after `from_token()` or a logout)."""
        if self._token:
            try:
                await self.refresh()
                return True
            except NotAuthenticated as exc:
                log.info("token refresh refused: %s", exc)
        if self._credentials is None:
            return False
        await self.login(*self._credentials)
        return True

    def _resumable(self, open_call: Callable[[int], StreamCall], position: int, name: str) -> Resumable:
        opened_at = [self.address]  # where the stream's current call went

        def open_here(after: int) -> StreamCall:
            opened_at[0] = self.address
            return open_call(after)

        return Resumable(
            open_here,
            position,
            retry=self.retry,
            sleep=self._sleep,
            relogin=self._relogin,
            name=name,
            observer=self.stream_observer,
            follow=lambda error: self._follow_stream(error, opened_at[0]),
        )
