"""itirp.v1.AccountService: desks, accounts and entitlements (protobuf <-> values only; who sees
what is `itirp.app.accounts`)."""

from __future__ import annotations

import grpc

from itirp.app.accounts import AccountService
from itirp.core.accounts import UpsertAccount, UpsertDesk, account_proto, desk_proto, entitlement_proto
from itirp.core.protos import KIND_FROM_PROTO
from itirp.errors import InvalidArgument
from itirp.server.servicers.convert import current_actor, current_viewer
from itirp.v1 import account_pb2, account_pb2_grpc

__all__ = ["AccountServicer"]


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    async def ListDesks(
        self, request: account_pb2.ListDesksRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.ListDesksResponse:
        desks = await self._accounts.desks(current_viewer())
        return account_pb2.ListDesksResponse(desks=[desk_proto(d) for d in desks])

    async def ListAccounts(
        self, request: account_pb2.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.ListAccountsResponse:
        listed = await self._accounts.accounts(current_viewer(), request.desk_id)
        return account_pb2.ListAccountsResponse(accounts=[account_proto(a, traders) for a, traders in listed])

    async def GetAccount(
        self, request: account_pb2.GetAccountRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.GetAccountResponse:
        account, traders = await self._accounts.account(current_viewer(), request.account_id)
        return account_pb2.GetAccountResponse(account=account_proto(account, traders))

    async def ListEntitlements(
        self, request: account_pb2.ListEntitlementsRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.ListEntitlementsResponse:
        listed = await self._accounts.entitlements(current_actor(), request.username)
        return account_pb2.ListEntitlementsResponse(entitlements=[entitlement_proto(e) for e in listed])

    async def UpsertDesk(
        self, request: account_pb2.UpsertDeskRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.UpsertDeskResponse:
        command = UpsertDesk(
            actor=current_actor(new_correlation=True), desk_id=request.desk_id, name=request.name, reason=request.reason
        )
        desk, created = await self._accounts.upsert_desk(command)
        return account_pb2.UpsertDeskResponse(desk=desk_proto(desk), created=created)

    async def UpsertAccount(
        self, request: account_pb2.UpsertAccountRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.UpsertAccountResponse:
        kind = KIND_FROM_PROTO.get(request.kind) if request.kind else None
        if request.kind and kind is None:
            raise InvalidArgument("kind", f"unknown account kind {request.kind}; one of BOOK, CLIENT")
        command = UpsertAccount(
            actor=current_actor(new_correlation=True),
            account_id=request.account_id,
            desk_id=request.desk_id,
            name=request.name,
            kind=kind,
            reason=request.reason,
        )
        account, traders, created = await self._accounts.upsert_account(command)
        return account_pb2.UpsertAccountResponse(account=account_proto(account, traders), created=created)

    async def EntitleTrader(
        self, request: account_pb2.EntitleTraderRequest, context: grpc.aio.ServicerContext
    ) -> account_pb2.EntitleTraderResponse:
        before, after = await self._accounts.entitle(
            current_actor(new_correlation=True),
            request.username,
            tuple(request.accounts),
            request.default_account,
            request.reason,
        )
        return account_pb2.EntitleTraderResponse(
            entitlement=entitlement_proto(after), previous=entitlement_proto(before)
        )
