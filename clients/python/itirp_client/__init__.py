"""ITIRP client library: `connect()` for a blocking client, `aconnect()` for asyncio.

from itirp_client import connect
with connect("127.0.0.1:50051", "trader1", "trader123") as desk:
    reply = desk.submit_order("AAPL", "BUY", 100, "150.50")
    for book in desk.order_book_stream("AAPL"):   # internal venue
        print(book.sequence, book.best_bid, book.best_ask)
"""

from __future__ import annotations

from typing import Any

from itirp_client.aio import AsyncClient, RetryPolicy
from itirp_client.book import Level, OrderBook
from itirp_client.connection import Addresses
from itirp_client.errors import (
    DuplicateOrder,
    FieldViolation,
    InvalidRequest,
    ItirpError,
    NotAuthenticated,
    NotFound,
    OrderStateConflict,
    PermissionDenied,
    Reason,
    RiskRejected,
    ServerUnavailable,
    TooManyRequests,
)
from itirp_client.sync import Client

__all__ = [
    "AsyncClient",
    "Client",
    "DuplicateOrder",
    "FieldViolation",
    "InvalidRequest",
    "ItirpError",
    "Level",
    "NotAuthenticated",
    "NotFound",
    "OrderBook",
    "OrderStateConflict",
    "PermissionDenied",
    "Reason",
    "RetryPolicy",
    "RiskRejected",
    "ServerUnavailable",
    "TooManyRequests",
    "aconnect",
    "connect",
]


def connect(address: Addresses, username: str, password: str, **options: Any) -> Client:
    """A blocking client, logged in; its token is refreshed before it expires. `address`: one
    "host:port", or several (comma-separated, or a list) of a two-node layout: the client follows
    the leader."""
    return Client.connect(address, username, password, **options)


async def aconnect(address: Addresses, username: str, password: str, **options: Any) -> AsyncClient:
    """An asyncio client, logged in; its token is refreshed before it expires."""
    return await AsyncClient.connect(address, username, password, **options)
