"""The blocking client: the asyncio client driven on a private event-loop thread, so that both
share one implementation of retries, token refresh and stream resumption.

Every method of `AsyncClient` is written out here with its signature (a unit test keeps the two in
step), so that readers and type checkers see them all."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Coroutine, Generator, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from itirp.v1 import (
    account_pb2,
    audit_pb2,
    auth_pb2,
    common_pb2,
    events_pb2,
    market_data_pb2,
    order_pb2,
    reference_data_pb2,
    risk_pb2,
    system_pb2,
)
from itirp_client.aio import AsyncClient
from itirp_client.book import OrderBook
from itirp_client.connection import Addresses
from itirp_client.transport import Pem

__all__ = ["Client"]

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="itirp-client-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
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
    def connect(cls, address: Addresses, username: str, password: str, **options: Any) -> Client:
        runner = _LoopThread()
        try:
            client = runner.run(AsyncClient.connect(address, username, password, **options))
        except BaseException:
            runner.stop()
            raise
        return cls(runner, client)

    @classmethod
    def from_token(cls, address: Addresses, token: str, **options: Any) -> Client:
        runner = _LoopThread()
        try:
            client = runner.run(AsyncClient.from_token(address, token, **options))
        except BaseException:
            runner.stop()
            raise
        return cls(runner, client)

    @classmethod
    def by_certificate(cls, address: Addresses, *, cert: Pem, key: Pem, **options: Any) -> Client:
        runner = _LoopThread()
        try:
            client = runner.run(AsyncClient.by_certificate(address, cert=cert, key=key, **options))
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
    def address(self) -> str:
        """The address calls go to now (the leader, once a write has found it)."""
        return self._client.address

    @property
    def addresses(self) -> list[str]:
        return self._client.addresses

    @property
    def username(self) -> str:
        return self._client.username

    @property
    def role(self) -> str:
        return self._client.role

    @property
    def expires_at(self) -> float:
        return self._client.expires_at

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    def _iterate(self, agen: AsyncGenerator[T, None]) -> Generator[T, None, None]:
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
                with contextlib.suppress(BaseException):  # whatever it ended with: we are leaving anyway
                    pending.result(timeout=10)
            if not self._runner.loop.is_closed():
                self._runner.run(agen.aclose(), timeout=10)

    # ------------------------------------------------------------------ the calls (as in AsyncClient)

    def login(self, username: str, password: str) -> auth_pb2.LoginResponse:
        return self._run(self._client.login(username, password))

    def whoami(self) -> auth_pb2.WhoAmIResponse:
        return self._run(self._client.whoami())

    def refresh(self) -> auth_pb2.RefreshTokenResponse:
        return self._run(self._client.refresh())

    def logout(self) -> auth_pb2.LogoutResponse:
        return self._run(self._client.logout())

    def submit_order(
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
        return self._run(
            self._client.submit_order(
                symbol,
                side,
                quantity,
                price,
                order_type=order_type,
                time_in_force=time_in_force,
                self_trade_prevention=self_trade_prevention,
                strategy=strategy,
                client_order_id=client_order_id,
                correlation_id=correlation_id,
                raise_on_reject=raise_on_reject,
                account=account,
            )
        )

    def get_order(self, order_id: str) -> order_pb2.Order:
        return self._run(self._client.get_order(order_id))

    def list_orders(
        self,
        *,
        statuses: Iterable[str | int] = (),
        symbol: str = "",
        user_id: str = "",
        page_size: int = 100,
        page_token: str = "",
    ) -> order_pb2.ListOrdersResponse:
        return self._run(
            self._client.list_orders(
                statuses=statuses, symbol=symbol, user_id=user_id, page_size=page_size, page_token=page_token
            )
        )

    def iter_orders(
        self, *, statuses: Iterable[str | int] = (), symbol: str = "", user_id: str = "", page_size: int = 100
    ) -> Generator[order_pb2.Order, None, None]:
        return self._iterate(
            self._client.iter_orders(statuses=statuses, symbol=symbol, user_id=user_id, page_size=page_size)
        )

    def cancel_order(self, order_id: str, reason: str = "") -> order_pb2.Order:
        return self._run(self._client.cancel_order(order_id, reason))

    def amend_order(self, order_id: str, quantity: int = 0, price: str | Decimal = "") -> order_pb2.AmendOrderResponse:
        return self._run(self._client.amend_order(order_id, quantity, price))

    def cancel_all_orders(
        self, *, scope: str = "", symbol: str = "", reason: str = ""
    ) -> order_pb2.CancelAllOrdersResponse:
        """Cancel your working orders (a risk manager: everyone's in `scope`, e.g. "INSTRUMENT:AAPL")."""
        return self._run(self._client.cancel_all_orders(scope=scope, symbol=symbol, reason=reason))

    def set_cancel_all_after(self, seconds: int) -> order_pb2.SetCancelAllAfterResponse:
        """Arm (1-3600 s) or disarm (0) the dead-man's switch on your working orders."""
        return self._run(self._client.set_cancel_all_after(seconds))

    def order_updates(
        self, *, order_id: str = "", from_sequence: int = 0, markers: bool = False
    ) -> Generator[order_pb2.StreamOrderUpdatesResponse, None, None]:
        return self._iterate(
            self._client.order_updates(order_id=order_id, from_sequence=from_sequence, markers=markers)
        )

    def risk_metrics(self, scope: str = "") -> risk_pb2.RiskMetrics:
        return self._run(self._client.risk_metrics(scope))

    def risk_limits(self, scope: str = "", symbol: str = "") -> risk_pb2.RiskLimits:
        return self._run(self._client.risk_limits(scope, symbol))

    def update_risk_limits(
        self, *, reason: str = "", scope: str = "", symbol: str = "", clear: Iterable[str] = (), **limits: str | Decimal
    ) -> risk_pb2.UpdateRiskLimitsResponse:
        return self._run(
            self._client.update_risk_limits(reason=reason, scope=scope, symbol=symbol, clear=clear, **limits)
        )

    def set_kill_switch(
        self, enabled: bool, reason: str, *, scope: str = "", cancel_working: bool = False
    ) -> risk_pb2.SetKillSwitchResponse:
        return self._run(self._client.set_kill_switch(enabled, reason, scope=scope, cancel_working=cancel_working))

    def positions(self, symbol: str = "", scope: str = "") -> risk_pb2.ListPositionsResponse:
        return self._run(self._client.positions(symbol, scope))

    def set_trading_state(self, scope: str, state: str, reason: str) -> risk_pb2.SetTradingStateResponse:
        return self._run(self._client.set_trading_state(scope, state, reason))

    def set_restriction(
        self, symbol: str, restriction: str, reason: str, *, scope: str = ""
    ) -> risk_pb2.SetRestrictionResponse:
        return self._run(self._client.set_restriction(symbol, restriction, reason, scope=scope))

    def list_controls(self) -> risk_pb2.ListControlsResponse:
        return self._run(self._client.list_controls())

    def release_order(self, order_id: str, reason: str) -> order_pb2.Order:
        return self._run(self._client.release_order(order_id, reason))

    def list_events(
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
        return self._run(
            self._client.list_events(
                page_size=page_size,
                page_token=page_token,
                from_sequence=from_sequence,
                event_types=event_types,
                user_id=user_id,
                order_id=order_id,
                symbol=symbol,
                correlation_id=correlation_id,
            )
        )

    def correlation_trail(self, correlation_id: str) -> list[events_pb2.Event]:
        return self._run(self._client.correlation_trail(correlation_id))

    def order_trail(self, order_id: str) -> list[events_pb2.Event]:
        return self._run(self._client.order_trail(order_id))

    def verify_audit_log(self) -> audit_pb2.VerifyAuditLogResponse:
        return self._run(self._client.verify_audit_log())

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
    ) -> Generator[audit_pb2.SubscribeEventsResponse, None, None]:
        return self._iterate(
            self._client.audit_events(
                from_sequence=from_sequence,
                event_types=event_types,
                user_id=user_id,
                order_id=order_id,
                symbol=symbol,
                correlation_id=correlation_id,
                heartbeat_seconds=heartbeat_seconds,
                markers=markers,
            )
        )

    def order_book(self, symbol: str, depth: int = 10) -> market_data_pb2.OrderBookSnapshot:
        return self._run(self._client.order_book(symbol, depth))

    def order_book_stream(self, symbol: str, depth: int = 10) -> Generator[OrderBook, None, None]:
        return self._iterate(self._client.order_book_stream(symbol, depth))

    def trades(
        self, symbol: str, *, from_sequence: int = 0, markers: bool = False
    ) -> Generator[market_data_pb2.StreamTradesResponse, None, None]:
        return self._iterate(self._client.trades(symbol, from_sequence=from_sequence, markers=markers))

    def list_instruments(self, status: str | int | None = None) -> list[common_pb2.Instrument]:
        return self._run(self._client.list_instruments(status))

    def get_instrument(self, symbol: str) -> reference_data_pb2.GetInstrumentResponse:
        return self._run(self._client.get_instrument(symbol))

    def upsert_instrument(
        self,
        symbol: str,
        *,
        name: str,
        currency: str,
        tick_size: str | Decimal,
        reason: str,
        lot_size: int = 0,
        min_quantity: int = 0,
        max_quantity: int = 0,
        price_band_percent: str | Decimal = "",
        reference_price: str | Decimal = "",
        status: str | int | None = None,
    ) -> reference_data_pb2.UpsertInstrumentResponse:
        return self._run(
            self._client.upsert_instrument(
                symbol,
                name=name,
                currency=currency,
                tick_size=tick_size,
                reason=reason,
                lot_size=lot_size,
                min_quantity=min_quantity,
                max_quantity=max_quantity,
                price_band_percent=price_band_percent,
                reference_price=reference_price,
                status=status,
            )
        )

    def set_instrument_status(
        self, symbol: str, status: str | int, reason: str
    ) -> reference_data_pb2.SetInstrumentStatusResponse:
        return self._run(self._client.set_instrument_status(symbol, status, reason))

    def list_desks(self) -> list[account_pb2.Desk]:
        return self._run(self._client.list_desks())

    def list_accounts(self, desk_id: str = "") -> list[account_pb2.Account]:
        return self._run(self._client.list_accounts(desk_id))

    def get_account(self, account_id: str) -> account_pb2.Account:
        return self._run(self._client.get_account(account_id))

    def list_entitlements(self, username: str = "") -> list[account_pb2.Entitlement]:
        return self._run(self._client.list_entitlements(username))

    def upsert_desk(self, desk_id: str, *, reason: str, name: str = "") -> account_pb2.UpsertDeskResponse:
        return self._run(self._client.upsert_desk(desk_id, reason=reason, name=name))

    def upsert_account(
        self,
        account_id: str,
        *,
        reason: str,
        desk_id: str = "",
        name: str = "",
        kind: str | int | None = None,
    ) -> account_pb2.UpsertAccountResponse:
        return self._run(self._client.upsert_account(account_id, reason=reason, desk_id=desk_id, name=name, kind=kind))

    def entitle_trader(
        self, username: str, accounts: Iterable[str], *, reason: str, default_account: str = ""
    ) -> account_pb2.EntitleTraderResponse:
        return self._run(
            self._client.entitle_trader(username, accounts, reason=reason, default_account=default_account)
        )

    def get_quote(self, symbol: str) -> common_pb2.Mark:
        return self._run(self._client.get_quote(symbol))

    def stream_quotes(
        self, symbols: Iterable[str] = (), *, from_sequence: int = 0, markers: bool = False
    ) -> Generator[market_data_pb2.StreamQuotesResponse, None, None]:
        return self._iterate(self._client.stream_quotes(symbols, from_sequence=from_sequence, markers=markers))

    def system_info(self) -> system_pb2.GetSystemInfoResponse:
        return self._run(self._client.system_info())

    def system_metrics(self) -> system_pb2.GetSystemMetricsResponse:
        return self._run(self._client.system_metrics())
