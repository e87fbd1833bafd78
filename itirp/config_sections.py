"""The sections of the server configuration (see `itirp.config`): one frozen, keyword-only
dataclass per concern, each field declared once with `about(...)`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "ENV_PREFIX",
    "AuthConfig",
    "ConfigError",
    "EventLoopKind",
    "ExecutionConfig",
    "FeedConfig",
    "FeedKind",
    "HaConfig",
    "KeepaliveConfig",
    "LogFormat",
    "LogLevel",
    "MetricsConfig",
    "OrdersConfig",
    "ReferenceConfig",
    "Secret",
    "StoreConfig",
    "StoreKind",
    "StreamsConfig",
    "ThrottleConfig",
    "TlsConfig",
    "VenueConfig",
    "VenueKind",
    "about",
    "is_loopback",
    "parse_listen",
]

ENV_PREFIX = "ITIRP_"

EventLoopKind = Literal["uvloop", "asyncio"]
LogFormat = Literal["json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
VenueKind = Literal["simulated", "internal"]
StoreKind = Literal["sqlite", "postgres"]
FeedKind = Literal["simulated", "replay", "off"]


def _check_choices(holder: object, section: str) -> None:
    """A section's `Literal` fields hold one of their values (the check lives with the settings
    table in `itirp.config`, which imports this module: hence the late imports here)."""
    from itirp.config import check_choices

    check_choices(holder, section)


def _env_names(path: str) -> str:
    from itirp.config import env_names

    return env_names(path)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that must never appear in logs or reprs."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def parse_listen(listen: str) -> tuple[str, int]:
    """Split "HOST:PORT" (IPv6 as "[::1]:PORT") and check the port."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ConfigError(f"listen address must be HOST:PORT, got {listen!r}")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ConfigError(f"listen port must be 0-65535, got {port}")
    return host.strip("[]"), port


def is_loopback(host: str) -> bool:
    """Whether `host` (as `parse_listen` gives it) is a loopback address: 127.0.0.0/8, ::1 or
    `localhost`. Names other than `localhost` are not resolved, so they count as not loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def about(
    meaning: str,
    *,
    flag: str | None = None,
    aliases: tuple[str, ...] = (),
    shown: str | None = None,
    label: str | None = None,
) -> dict[str, object]:
    """A configuration field's metadata: what it means (the documentation's words), its `itirp
    serve` flag, former environment names still accepted, how the default is shown when the value
    itself says little, and the label validation messages use."""
    return {"meaning": meaning, "flag": flag, "aliases": aliases, "shown": shown, "label": label}


# ------------------------------------------------------------------------------ sections


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    """Logins, tokens and users."""

    jwt_secret: Secret | None = field(
        default=None,
        metadata=about(
            "HS256 token signing secret, at least 32 bytes",
            aliases=("ITIRP_JWT_SECRET",),
            shown="a random secret kept in `DATA_DIR/jwt_secret` (mode 0600)",
        ),
    )
    token_ttl_seconds: int = field(
        default=1800, metadata=about("access token lifetime, s", aliases=("ITIRP_TOKEN_TTL_SECONDS",))
    )
    demo_users: bool = field(
        default=True,
        metadata=about("seed and accept the demo desk users", flag="--no-demo-users", aliases=("ITIRP_DEMO_USERS",)),
    )
    max_failed_logins: int = field(
        default=5,
        metadata=about(
            "failed logins in a row (per username and client address) before that name is locked out from that address",
            aliases=("ITIRP_MAX_FAILED_LOGINS",),
        ),
    )
    lockout_seconds: int = field(
        default=300, metadata=about("how long a lockout lasts, s", aliases=("ITIRP_LOCKOUT_SECONDS",))
    )
    scrypt_n: int = field(
        default=2**14,
        metadata=about("scrypt cost of new password hashes (a power of two)", aliases=("ITIRP_SCRYPT_N",)),
    )
    user_refresh_seconds: float = field(
        default=2.0,
        metadata=about("how often the users table is re-read for the changes `itirp users ...` makes there, s"),
    )

    def __post_init__(self) -> None:
        if self.token_ttl_seconds <= 0:
            raise ConfigError("token lifetime must be positive")
        if self.max_failed_logins < 1:
            raise ConfigError("max failed logins must be at least 1")
        if self.jwt_secret is not None and len(self.jwt_secret.value.encode()) < 32:
            raise ConfigError(f"{_env_names('auth.jwt_secret')} must be at least 32 bytes for HS256")
        if self.scrypt_n < 2 or self.scrypt_n & (self.scrypt_n - 1):
            raise ConfigError("scrypt n must be a power of two")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersConfig:
    """Order entry."""

    max_quantity: int = field(
        default=1_000_000, metadata=about("an order's quantity must be below it", aliases=("ITIRP_MAX_ORDER_QUANTITY",))
    )
    duplicate_window_ms: int = field(
        default=500,
        metadata=about(
            "duplicate-order check: the same account, instrument, side, quantity and price within this many ms is"
            " rejected unless the order says intended_duplicate (0: off; at most 60000)"
        ),
    )
    execution_throttle_fills: int = field(
        default=0,
        metadata=about(
            "repeated-execution throttle: more fills of one account than this within execution_throttle_seconds"
            " halt the account until a risk manager makes it ACTIVE again (0: off)"
        ),
    )
    execution_throttle_seconds: float = field(
        default=1.0, metadata=about("the repeated-execution throttle's window, s (at most 60)")
    )

    def __post_init__(self) -> None:
        if self.max_quantity < 2:
            raise ConfigError("max order quantity must be at least 2")
        if not 0 <= self.duplicate_window_ms <= 60_000:
            raise ConfigError("the duplicate-order window must be 0 to 60000 ms")
        if self.execution_throttle_fills < 0 or not 0 < self.execution_throttle_seconds <= 60:
            raise ConfigError("the execution throttle takes a fill count >= 0 and a window of (0, 60] s")


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """Where approved orders go."""

    kind: VenueKind = field(
        default="simulated",
        metadata=about(
            "`simulated`: a simulated lit market at the feed's prices (orders cross the quote or rest, fill "
            "partly, cancel); `internal`: the desk's own order books (price-time priority)",
            flag="--venue",
            aliases=("ITIRP_VENUE",),
            label="venue",
        ),
    )
    latency_seconds: float = field(default=0.001, metadata=about("simulated venue: latency of each call, s"))
    failure_rate: float = field(
        default=0.0, metadata=about("simulated venue: probability that a call fails (request or answer lost), 0-1")
    )
    depth: int = field(
        default=1000,
        metadata=about("simulated venue: quantity each quote offers on each side, shared by the orders"),
    )
    match_seconds: float = field(
        default=0.1, metadata=about("simulated venue: how often resting orders are checked against the quotes, s")
    )
    seed: int | None = field(
        default=None, metadata=about("simulated venue and retry jitter: random seed", shown="random")
    )

    def __post_init__(self) -> None:
        _check_choices(self, "venue")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ConfigError("venue failure rate must be between 0 and 1")
        if self.depth < 1 or self.match_seconds <= 0:
            raise ConfigError("venue depth must be at least 1 and its match interval positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionConfig:
    """Sending approved orders to the venue: retries, timeout, circuit breaker, concurrency."""

    attempts: int = field(default=3, metadata=about("attempts per order at the venue"))
    retry_base_delay_seconds: float = field(
        default=1.0,
        metadata=about(
            "backoff base: ceilings of 1, 2, 4... times it, with jitter, s", aliases=("ITIRP_RETRY_BASE_DELAY_SECONDS",)
        ),
    )
    attempt_timeout_seconds: float = field(
        default=5.0, metadata=about("timeout of one attempt, s", aliases=("ITIRP_ATTEMPT_TIMEOUT_SECONDS",))
    )
    breaker_threshold: int = field(
        default=5,
        metadata=about(
            "consecutive venue failures that open the circuit breaker", aliases=("ITIRP_BREAKER_THRESHOLD",)
        ),
    )
    breaker_open_seconds: float = field(
        default=60.0,
        metadata=about(
            "how long the breaker stays open before it tries again, s", aliases=("ITIRP_BREAKER_OPEN_SECONDS",)
        ),
    )
    reconcile_seconds: float = field(
        default=5.0,
        metadata=about("how often orders in doubt (UNKNOWN, PENDING_CANCEL) are asked about at the venue, s"),
    )
    max_in_flight: int = field(
        default=1024,
        metadata=about(
            "orders at the venue at once; approved orders beyond it wait (cancellable)",
            aliases=("ITIRP_MAX_IN_FLIGHT_EXECUTIONS",),
        ),
    )

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.breaker_threshold < 1:
            raise ConfigError("execution attempts and breaker threshold must be at least 1")
        if self.reconcile_seconds <= 0:
            raise ConfigError("the reconciliation interval must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamsConfig:
    """Order and audit streams."""

    heartbeat_seconds: float = field(
        default=15.0,
        metadata=about("heartbeat on an idle stream, s", flag="--heartbeat", aliases=("ITIRP_HEARTBEAT_SECONDS",)),
    )
    subscriber_queue: int = field(
        default=10_000,
        metadata=about(
            "events a subscriber may lag before it is cut off with the sequence to resume from",
            aliases=("ITIRP_SUBSCRIBER_QUEUE",),
        ),
    )

    def __post_init__(self) -> None:
        if self.heartbeat_seconds <= 0:
            raise ConfigError("heartbeat interval must be positive")
        if self.subscriber_queue < 1:
            raise ConfigError("subscriber queue must hold at least one event")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleConfig:
    """Message throttles: each rate applies per trader (unary calls and sessions together) and,
    separately, per order-entry session; a burst of as many messages as the rate is allowed."""

    new_per_second: float = field(
        default=100.0, metadata=about("new orders per second, per trader and per order-entry session; 0: no limit")
    )
    amend_per_second: float = field(
        default=100.0, metadata=about("amendments per second, per trader and per order-entry session; 0: no limit")
    )
    cancel_per_second: float = field(
        default=100.0,
        metadata=about("cancels per second, per trader and per order-entry session (not mass cancels); 0: no limit"),
    )

    def __post_init__(self) -> None:
        for rate in (self.new_per_second, self.amend_per_second, self.cancel_per_second):
            if rate < 0 or (0 < rate < 1):
                raise ConfigError("a throttle rate must be 0 (no limit) or at least 1 per second")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepaliveConfig:
    """HTTP/2 keepalive: how soon a vanished client (a dead terminal) is noticed, its streams ended
    and its order-entry sessions closed (cancel-on-disconnect)."""

    time_seconds: float = field(
        default=10.0, metadata=about("ping a client connection after this long without activity, s")
    )
    timeout_seconds: float = field(
        default=5.0,
        metadata=about("close the connection (ending its calls) when a ping is not answered within this, s"),
    )
    min_ping_interval_seconds: float = field(
        default=5.0,
        metadata=about("the most often a client may ping without data before it is told `too_many_pings`, s"),
    )
    permit_without_calls: bool = field(
        default=True, metadata=about("keep pinging (and accept pings on) a connection with no call open")
    )

    def __post_init__(self) -> None:
        if min(self.time_seconds, self.timeout_seconds, self.min_ping_interval_seconds) < 0.001:
            raise ConfigError("keepalive intervals must be at least 0.001 s")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreConfig:
    """The event log."""

    kind: StoreKind = field(
        default="sqlite",
        metadata=about(
            "event store backend: `sqlite` (`DATA_DIR/events.db`, one node) or `postgres` (`database_url`, one "
            "leader and standbys; see docs/operations.md)",
            flag="--store",
            aliases=("ITIRP_STORE",),
            label="event store",
        ),
    )
    database_url: Secret | None = field(
        default=None,
        metadata=about(
            "the PostgreSQL event store: `postgresql://USER:PASSWORD@HOST:PORT/DATABASE` (libpq URL or key=value "
            "string); needed, and only used, with `--store postgres`",
            flag="--database-url",
            aliases=("ITIRP_DATABASE_URL",),
            shown="none",
        ),
    )
    checkpoint_seconds: float = field(
        default=60.0,
        metadata=about(
            "seconds between signed checkpoints of the log's head (also signed at every clean stop), appended to "
            "`DATA_DIR/checkpoints.jsonl` and recorded as AUDIT_CHECKPOINT_SIGNED events"
        ),
    )
    checkpoint_key_file: str = field(
        default="",
        metadata=about(
            "the Ed25519 key that signs checkpoints (PEM, mode 0600, created on first start; see docs/operations.md)",
            shown="`DATA_DIR/checkpoint.key`",
        ),
    )

    def __post_init__(self) -> None:
        _check_choices(self, "store")
        if self.kind == "postgres" and self.database_url is None:
            raise ConfigError("the postgres event store needs a database URL (--database-url, ITIRP_DATABASE_URL)")
        if not 0 < self.checkpoint_seconds <= 86400:
            raise ConfigError(
                "checkpoint interval must be more than 0 and at most 86400 seconds (ITIRP_STORE_CHECKPOINT_SECONDS)"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class HaConfig:
    """Two or more nodes on one PostgreSQL event store: the leader holds a lease, standbys follow."""

    node_id: str = field(
        default="",
        metadata=about("this node's name in the lease and in LEADER_ELECTED events", shown="HOSTNAME:PORT"),
    )
    advertise: str = field(
        default="",
        metadata=about(
            "where terminals reach this node (HOST:PORT), named to them by a standby's NOT_LEADER answers",
            shown="the address it listens on",
        ),
    )
    lease_seconds: float = field(
        default=5.0,
        metadata=about(
            "the leader's lease: renewed every third of it; a standby takes over once it has lapsed (about this "
            "long after the leader stopped)"
        ),
    )
    poll_seconds: float = field(
        default=0.5,
        metadata=about("a standby reads new events on each notification from the leader, and at least this often, s"),
    )

    def __post_init__(self) -> None:
        if not 0.2 <= self.lease_seconds <= 300:
            raise ConfigError("the lease must be between 0.2 and 300 seconds (ITIRP_HA_LEASE_SECONDS)")
        if not 0.01 <= self.poll_seconds <= 60:
            raise ConfigError("the standby's poll interval must be between 0.01 and 60 seconds (ITIRP_HA_POLL_SECONDS)")
        if self.advertise:
            parse_listen(self.advertise)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    """Prometheus metrics over HTTP, on their own port."""

    listen: str = field(
        default="",
        metadata=about(
            "serve Prometheus text on `http://HOST:PORT/metrics` (port 0: any free one); meant for a "
            'loopback address; `""` turns them off',
            flag="--metrics-listen",
            shown="off",
        ),
    )

    def __post_init__(self) -> None:
        if self.listen:
            try:
                parse_listen(self.listen)
            except ConfigError as exc:
                raise ConfigError(f"metrics {exc} (ITIRP_METRICS_LISTEN / --metrics-listen)") from None

    @property
    def host_port(self) -> tuple[str, int] | None:
        """Where to serve the metrics, or None when they are off."""
        return parse_listen(self.listen) if self.listen else None


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsConfig:
    """Transport security of the gRPC port and the metrics port (see docs/operations.md)."""

    cert: Path | None = field(
        default=None,
        metadata=about(
            "TLS: the server's certificate chain (PEM); with `key`, the gRPC and metrics ports speak TLS only",
            flag="--tls-cert",
            shown="none (plaintext)",
        ),
    )
    key: Path | None = field(
        default=None, metadata=about("TLS: the server certificate's private key (PEM)", flag="--tls-key", shown="none")
    )
    client_ca: Path | None = field(
        default=None,
        metadata=about(
            "mutual TLS: the CA certificates (PEM) client certificates must chain to; a client without one "
            "is refused during the handshake",
            flag="--tls-client-ca",
            shown="none (no client certificates)",
        ),
    )
    client_cert_users: bool = field(
        default=False,
        metadata=about(
            "mutual TLS: a call without a bearer token is the user its client certificate's subject CN names "
            "(an active user, or UNAUTHENTICATED); a bearer token, when sent, decides",
            flag="--tls-client-cert-users",
        ),
    )

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ConfigError(
                "TLS needs both a certificate and its key (ITIRP_TLS_CERT / --tls-cert, ITIRP_TLS_KEY / --tls-key)"
            )
        if self.client_ca is not None and self.cert is None:
            raise ConfigError(
                "mutual TLS (ITIRP_TLS_CLIENT_CA / --tls-client-ca) needs the server's own certificate and key "
                "(--tls-cert, --tls-key)"
            )
        if self.client_cert_users and self.client_ca is None:
            raise ConfigError(
                "users by client certificate (ITIRP_TLS_CLIENT_CERT_USERS / --tls-client-cert-users) need mutual "
                "TLS (--tls-client-ca)"
            )

    @property
    def enabled(self) -> bool:
        return self.cert is not None

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceConfig:
    """The instrument master at start."""

    demo_instruments: bool = field(
        default=True,
        metadata=about(
            "list the demo desk's instruments (AAPL, MSFT, NVDA, TSLA, IBM, SPY, SAP, SHEL.L, ...) when none is "
            "listed yet"
        ),
    )
    instruments_file: str = field(
        default="",
        metadata=about(
            "a CSV of instruments listed (or changed) at start, as `itirp instruments import` reads it; empty: none",
            shown="none",
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedConfig:
    """The market data feed that gives the reference prices (marks)."""

    kind: FeedKind = field(
        default="simulated",
        metadata=about(
            "`simulated`: a seeded random walk per instrument from its listing price; `replay`: the prices "
            "of `replay_file`; `off`: no feed (listing prices stay the reference)",
            flag="--feed",
            label="feed",
        ),
    )
    tick_seconds: float = field(default=0.5, metadata=about("simulated feed: seconds between price moves"))
    volatility: float = field(
        default=0.0005, metadata=about("simulated feed: standard deviation of one move, as a fraction of the price")
    )
    seed: int | None = field(default=None, metadata=about("simulated feed: random seed", shown="random"))
    replay_file: str = field(
        default="", metadata=about("replay feed: a CSV of `timestamp,symbol,price[,bid,ask]` rows", shown="none")
    )
    mark_interval_seconds: float = field(
        default=1.0,
        metadata=about(
            "at most one mark recorded per instrument per this many seconds (a price a risk decision uses "
            "is always recorded)"
        ),
    )

    def __post_init__(self) -> None:
        _check_choices(self, "feed")
        if self.kind == "replay" and not self.replay_file:
            raise ConfigError("the replay feed needs a file (ITIRP_FEED_REPLAY_FILE)")
        if self.tick_seconds <= 0 or self.mark_interval_seconds <= 0:
            raise ConfigError("feed tick and mark intervals must be positive")
