import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_KIND_UNSPECIFIED: _ClassVar[AccountKind]
    ACCOUNT_KIND_BOOK: _ClassVar[AccountKind]
    ACCOUNT_KIND_CLIENT: _ClassVar[AccountKind]
ACCOUNT_KIND_UNSPECIFIED: AccountKind
ACCOUNT_KIND_BOOK: AccountKind
ACCOUNT_KIND_CLIENT: AccountKind

class Desk(_message.Message):
    __slots__ = ("desk_id", "name", "updated_at", "updated_by")
    DESK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    desk_id: str
    name: str
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, desk_id: _Optional[str] = ..., name: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("account_id", "desk_id", "name", "kind", "traders", "updated_at", "updated_by")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DESK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TRADERS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    desk_id: str
    name: str
    kind: AccountKind
    traders: _containers.RepeatedScalarFieldContainer[str]
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, account_id: _Optional[str] = ..., desk_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ..., traders: _Optional[_Iterable[str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class Entitlement(_message.Message):
    __slots__ = ("username", "user_id", "accounts", "default_account")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    username: str
    user_id: str
    accounts: _containers.RepeatedScalarFieldContainer[str]
    default_account: str
    def __init__(self, username: _Optional[str] = ..., user_id: _Optional[str] = ..., accounts: _Optional[_Iterable[str]] = ..., default_account: _Optional[str] = ...) -> None: ...

class ListDesksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDesksResponse(_message.Message):
    __slots__ = ("desks",)
    DESKS_FIELD_NUMBER: _ClassVar[int]
    desks: _containers.RepeatedCompositeFieldContainer[Desk]
    def __init__(self, desks: _Optional[_Iterable[_Union[Desk, _Mapping]]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("desk_id",)
    DESK_ID_FIELD_NUMBER: _ClassVar[int]
    desk_id: str
    def __init__(self, desk_id: _Optional[str] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class UpsertDeskRequest(_message.Message):
    __slots__ = ("desk_id", "name", "reason")
    DESK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    desk_id: str
    name: str
    reason: str
    def __init__(self, desk_id: _Optional[str] = ..., name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UpsertDeskResponse(_message.Message):
    __slots__ = ("desk", "created")
    DESK_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    desk: Desk
    created: bool
    def __init__(self, desk: _Optional[_Union[Desk, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class UpsertAccountRequest(_message.Message):
    __slots__ = ("account_id", "desk_id", "name", "kind", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DESK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    desk_id: str
    name: str
    kind: AccountKind
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., desk_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpsertAccountResponse(_message.Message):
    __slots__ = ("account", "created")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    account: Account
    created: bool
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class EntitleTraderRequest(_message.Message):
    __slots__ = ("username", "accounts", "default_account", "reason")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    username: str
    accounts: _containers.RepeatedScalarFieldContainer[str]
    default_account: str
    reason: str
    def __init__(self, username: _Optional[str] = ..., accounts: _Optional[_Iterable[str]] = ..., default_account: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EntitleTraderResponse(_message.Message):
    __slots__ = ("entitlement", "previous")
    ENTITLEMENT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    entitlement: Entitlement
    previous: Entitlement
    def __init__(self, entitlement: _Optional[_Union[Entitlement, _Mapping]] = ..., previous: _Optional[_Union[Entitlement, _Mapping]] = ...) -> None: ...

class ListEntitlementsRequest(_message.Message):
    __slots__ = ("username",)
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    username: str
    def __init__(self, username: _Optional[str] = ...) -> None: ...

class ListEntitlementsResponse(_message.Message):
    __slots__ = ("entitlements",)
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    entitlements: _containers.RepeatedCompositeFieldContainer[Entitlement]
    def __init__(self, entitlements: _Optional[_Iterable[_Union[Entitlement, _Mapping]]] = ...) -> None: ...
