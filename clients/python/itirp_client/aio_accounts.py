"""The account calls of the asyncio client (desks, accounts, entitlements): `AsyncClient`
inherits them. Each works on any `_Client`: what they need of the client is named by that
protocol."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

from itirp.v1 import account_pb2, account_pb2_grpc
from itirp_client import _enums

__all__ = ["AccountCalls"]

T = TypeVar("T")


class _Client(Protocol):
    _accounts: account_pb2_grpc.AccountServiceStub

    async def _call(self, rpc: Callable[..., Awaitable[T]], request: Any) -> T: ...


class AccountCalls:
    async def list_desks(self: _Client) -> list[account_pb2.Desk]:
        """The desks you see, by id (a TRADER: the desks of their accounts)."""
        reply: account_pb2.ListDesksResponse = await self._call(
            self._accounts.ListDesks, account_pb2.ListDesksRequest()
        )
        return list(reply.desks)

    async def list_accounts(self: _Client, desk_id: str = "") -> list[account_pb2.Account]:
        """The accounts you see, by id (of `desk_id` when given; a TRADER: those they may book to)."""
        request = account_pb2.ListAccountsRequest(desk_id=desk_id)
        reply: account_pb2.ListAccountsResponse = await self._call(self._accounts.ListAccounts, request)
        return list(reply.accounts)

    async def get_account(self: _Client, account_id: str) -> account_pb2.Account:
        """One account; `NotFound` for one that does not exist or that you do not see."""
        request = account_pb2.GetAccountRequest(account_id=account_id)
        reply: account_pb2.GetAccountResponse = await self._call(self._accounts.GetAccount, request)
        return reply.account

    async def list_entitlements(self: _Client, username: str = "") -> list[account_pb2.Entitlement]:
        """Who may book to which accounts, by username (of `username` when given; a TRADER: their own)."""
        request = account_pb2.ListEntitlementsRequest(username=username)
        reply: account_pb2.ListEntitlementsResponse = await self._call(self._accounts.ListEntitlements, request)
        return list(reply.entitlements)

    async def upsert_desk(
        self: _Client, desk_id: str, *, reason: str, name: str = ""
    ) -> account_pb2.UpsertDeskResponse:
        """Create a desk or rename one (ADMIN)."""
        request = account_pb2.UpsertDeskRequest(desk_id=desk_id, name=name, reason=reason)
        return await self._call(self._accounts.UpsertDesk, request)

    async def upsert_account(
        self: _Client,
        account_id: str,
        *,
        reason: str,
        desk_id: str = "",
        name: str = "",
        kind: str | int | None = None,
    ) -> account_pb2.UpsertAccountResponse:
        """Create an account on a desk (`desk_id` required then), or change its name or `kind`
        (BOOK or CLIENT; BOOK for a new one when unset) (ADMIN)."""
        request = account_pb2.UpsertAccountRequest(
            account_id=account_id, desk_id=desk_id, name=name, kind=_enums.account_kind(kind), reason=reason
        )
        return await self._call(self._accounts.UpsertAccount, request)

    async def entitle_trader(
        self: _Client, username: str, accounts: Iterable[str], *, reason: str, default_account: str = ""
    ) -> account_pb2.EntitleTraderResponse:
        """Set the accounts `username` may book to (replacing theirs; none: the house account) and
        their default (the first when unset) (ADMIN). The reply has the entitlement before too."""
        request = account_pb2.EntitleTraderRequest(
            username=username, accounts=list(accounts), default_account=default_account, reason=reason
        )
        return await self._call(self._accounts.EntitleTrader, request)
