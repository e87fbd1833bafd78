"""ITIRP client library: `connect()` for a blocking client, `aconnect()` for asyncio.

    from itirp_client import connect
    with connect("127.0.0.1:50051", "trader1", "trader123") as desk:
        reply = desk.submit_order("AAPL", "BUY", 100, "150.50")
"""

from __future__ import annotations

from typing import Any

from itirp_client.aio import AsyncClient, RetryPolicy
from itirp_client.errors import (
    DuplicateOrder,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    NotFound,
    OrderStateConflict,
    PermissionDenied,
    RiskRejected,
    ServerUnavailable,
    TooManyRequests,
)
from itirp_client.sync import Client

__all__ = [
    "AsyncClient",
    "Client",
    "DuplicateOrder",
    "InvalidRequest",
    "ItirpError",
    "NotAuthenticated",
    "NotFound",
    "OrderStateConflict",
    "PermissionDenied",
    "RetryPolicy",
    "RiskRejected",
    "ServerUnavailable",
    "TooManyRequests",
    "aconnect",
    "connect",
]


def connect(address: str, username: str, password: str, **options: Any) -> Client:
    """A blocking client, logged in; its token is refreshed before it expires."""
    return Client.connect(address, username, password, **options)


async def aconnect(address: str, username: str, password: str, **options: Any) -> AsyncClient:
    """An asyncio client, logged in; its token is refreshed before it expires."""
    return await AsyncClient.connect(address, username, password, **options)
