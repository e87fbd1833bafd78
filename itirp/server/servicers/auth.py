"""itirp.v1.AuthService."""

from __future__ import annotations

from typing import Any

import grpc

from itirp.auth.service import AuthService, IssuedToken
from itirp.errors import InvalidArgument
from itirp.observability.context import current_principal
from itirp.server.servicers.convert import timestamp_from_seconds
from itirp.v1 import auth_pb2, auth_pb2_grpc

__all__ = ["AuthServicer"]


def client_address(peer: str) -> str:
    """"ipv4:127.0.0.1:53124" -> "ipv4:127.0.0.1" (the port changes with every connection)."""
    host, sep, port = peer.rpartition(":")
    return host if sep and port.isdigit() else peer


def _token_fields(issued: IssuedToken) -> dict[str, Any]:
    claims = issued.claims
    return {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "role": claims.role.proto_name,
        "user_id": claims.user_id,
        "username": claims.sub,
        "expires_at": timestamp_from_seconds(claims.exp),
    }


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    async def Login(self, request: auth_pb2.LoginRequest, context: grpc.aio.ServicerContext) -> auth_pb2.LoginResponse:
        if not request.username:
            raise InvalidArgument("username", "required")
        if not request.password:
            raise InvalidArgument("password", "required")
        issued = await self._auth.login(request.username, request.password, client_address(context.peer()))
        return auth_pb2.LoginResponse(**_token_fields(issued))

    async def WhoAmI(
        self, request: auth_pb2.WhoAmIRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.WhoAmIResponse:
        p = current_principal()
        return auth_pb2.WhoAmIResponse(
            username=p.username,
            user_id=p.user_id,
            role=p.role.proto_name,
            expires_at=timestamp_from_seconds(p.expires_at),
            issued_at=timestamp_from_seconds(p.issued_at),
            token_id=p.token_id,
        )

    async def RefreshToken(
        self, request: auth_pb2.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.RefreshTokenResponse:
        issued = await self._auth.refresh(current_principal())
        return auth_pb2.RefreshTokenResponse(**_token_fields(issued))

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.LogoutResponse:
        p = current_principal()
        revoked_at = await self._auth.logout(p)
        return auth_pb2.LogoutResponse(token_id=p.token_id, revoked_at=timestamp_from_seconds(revoked_at))
