"""Server configuration: read once at start, from flags and environment, into a frozen object.

Precedence: command-line flag > environment variable > default. Nothing below the edge reads the
environment; everything receives the `Config` it needs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["Config", "ConfigError", "Secret", "parse_listen"]

EventLoopKind = Literal["uvloop", "asyncio"]


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


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _env_number(environ: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything the server needs to start. Build it with `Config.from_env(...)` at the edge."""

    listen: str = "127.0.0.1:50051"
    data_dir: Path = Path("data")
    event_loop: EventLoopKind = "uvloop"
    # None: use (or create) the secret kept in the data folder.
    jwt_secret: Secret | None = None
    token_ttl_seconds: int = 1800
    demo_users: bool = True
    # Failed logins in a row (per username) before the user is locked out, and for how long.
    max_failed_logins: int = 5
    lockout_seconds: int = 300
    # scrypt cost (2**14 is the interactive-login recommendation); tests may lower it.
    scrypt_n: int = 2**14
    # Shutdown: health turns NOT_SERVING, then after `drain_delay_seconds` new calls are refused and
    # in-flight calls get `shutdown_grace_seconds` to finish.
    drain_delay_seconds: float = 0.0
    shutdown_grace_seconds: float = 10.0
    # How often the server re-reads the users table for users disabled by `itirp users disable`.
    user_refresh_seconds: float = 2.0
    # Audit subscriptions: heartbeat on an idle stream, and how far a subscriber may fall behind
    # (events queued) before it is cut off with the sequence to resume from.
    heartbeat_seconds: float = 15.0
    subscriber_queue: int = 10_000
    # Orders: quantity must be below this.
    max_order_quantity: int = 1_000_000
    # Where approved orders go: "simulated" (fills each order whole at its own price, after a
    # latency, with retries and the circuit breaker) or "internal" (the desk's own order books:
    # orders rest, match by price-time priority and fill partly).
    venue: str = "simulated"
    # The simulated venue: latency per fill, transient-failure probability, seed (None: random).
    venue_latency_seconds: float = 0.001
    venue_failure_rate: float = 0.0
    venue_seed: int | None = None
    # Execution: attempts, backoff base (1 s, 2 s, 4 s ceilings with jitter), per-attempt timeout,
    # circuit breaker threshold (consecutive failures) and open period.
    execution_attempts: int = 3
    retry_base_delay_seconds: float = 1.0
    attempt_timeout_seconds: float = 5.0
    breaker_threshold: int = 5
    breaker_open_seconds: float = 60.0
    # At most this many orders at the venue at once; approved orders beyond it wait (cancellable).
    max_in_flight_executions: int = 1024
    # Start on a tampered event log without appending anything, for investigation.
    read_only: bool = False
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    access_log: bool = True
    # Prometheus metrics over HTTP on HOST:PORT (port 0: any free one); "" (the default): off, so
    # nothing listens that the operator did not ask for. Meant for a loopback address.
    metrics_listen: str = ""

    def __post_init__(self) -> None:
        parse_listen(self.listen)
        if self.metrics_listen:
            try:
                parse_listen(self.metrics_listen)
            except ConfigError as exc:
                raise ConfigError(f"metrics {exc} (ITIRP_METRICS_LISTEN / --metrics-listen)") from None
        if self.event_loop not in ("uvloop", "asyncio"):
            raise ConfigError(f"event loop must be uvloop or asyncio, got {self.event_loop!r}")
        if self.token_ttl_seconds <= 0:
            raise ConfigError("token lifetime must be positive")
        if self.max_failed_logins < 1:
            raise ConfigError("max failed logins must be at least 1")
        if self.jwt_secret is not None and len(self.jwt_secret.value.encode()) < 32:
            raise ConfigError("ITIRP_JWT_SECRET must be at least 32 bytes for HS256")
        if self.heartbeat_seconds <= 0:
            raise ConfigError("heartbeat interval must be positive")
        if self.subscriber_queue < 1:
            raise ConfigError("subscriber queue must hold at least one event")
        if self.venue not in ("simulated", "internal"):
            raise ConfigError(f"venue must be simulated or internal, got {self.venue!r} (ITIRP_VENUE / --venue)")
        if not 0.0 <= self.venue_failure_rate <= 1.0:
            raise ConfigError("venue failure rate must be between 0 and 1")
        if self.max_order_quantity < 2:
            raise ConfigError("max order quantity must be at least 2")
        if self.execution_attempts < 1 or self.breaker_threshold < 1:
            raise ConfigError("execution attempts and breaker threshold must be at least 1")
        if self.scrypt_n < 2 or self.scrypt_n & (self.scrypt_n - 1):
            raise ConfigError("scrypt n must be a power of two")

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        """Where to serve the metrics, or None when they are off."""
        return parse_listen(self.metrics_listen) if self.metrics_listen else None

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Defaults, then `ITIRP_*` environment variables, then explicit overrides (flags).

        Overrides whose value is None are ignored, so that unset flags fall through.
        """
        env = os.environ if environ is None else environ
        d = {f.name: f.default for f in dataclasses.fields(cls)}
        secret = env.get("ITIRP_JWT_SECRET")
        values: dict[str, object] = {
            "listen": env.get("ITIRP_LISTEN") or d["listen"],
            "data_dir": Path(env.get("ITIRP_DATA_DIR") or d["data_dir"]),
            "event_loop": env.get("ITIRP_EVENT_LOOP") or d["event_loop"],
            "jwt_secret": Secret(secret) if secret else None,
            "token_ttl_seconds": int(_env_number(env, "ITIRP_TOKEN_TTL_SECONDS", d["token_ttl_seconds"], int)),
            "demo_users": _env_bool(env, "ITIRP_DEMO_USERS", d["demo_users"]),
            "max_failed_logins": int(_env_number(env, "ITIRP_MAX_FAILED_LOGINS", d["max_failed_logins"], int)),
            "lockout_seconds": int(_env_number(env, "ITIRP_LOCKOUT_SECONDS", d["lockout_seconds"], int)),
            "drain_delay_seconds": _env_number(env, "ITIRP_DRAIN_DELAY_SECONDS", d["drain_delay_seconds"]),
            "shutdown_grace_seconds": _env_number(env, "ITIRP_SHUTDOWN_GRACE_SECONDS", d["shutdown_grace_seconds"]),
            "heartbeat_seconds": _env_number(env, "ITIRP_HEARTBEAT_SECONDS", d["heartbeat_seconds"]),
            "subscriber_queue": int(_env_number(env, "ITIRP_SUBSCRIBER_QUEUE", d["subscriber_queue"], int)),
            "read_only": _env_bool(env, "ITIRP_READ_ONLY", d["read_only"]),
            "max_order_quantity": int(_env_number(env, "ITIRP_MAX_ORDER_QUANTITY", d["max_order_quantity"], int)),
            "venue": (env.get("ITIRP_VENUE") or d["venue"]).strip().lower(),
            "venue_latency_seconds": _env_number(env, "ITIRP_VENUE_LATENCY_SECONDS", d["venue_latency_seconds"]),
            "venue_failure_rate": _env_number(env, "ITIRP_VENUE_FAILURE_RATE", d["venue_failure_rate"]),
            "venue_seed": int(env["ITIRP_VENUE_SEED"]) if env.get("ITIRP_VENUE_SEED") else None,
            "execution_attempts": int(_env_number(env, "ITIRP_EXECUTION_ATTEMPTS", d["execution_attempts"], int)),
            "retry_base_delay_seconds": _env_number(env, "ITIRP_RETRY_BASE_DELAY_SECONDS", d["retry_base_delay_seconds"]),
            "attempt_timeout_seconds": _env_number(env, "ITIRP_ATTEMPT_TIMEOUT_SECONDS", d["attempt_timeout_seconds"]),
            "breaker_threshold": int(_env_number(env, "ITIRP_BREAKER_THRESHOLD", d["breaker_threshold"], int)),
            "max_in_flight_executions": int(_env_number(env, "ITIRP_MAX_IN_FLIGHT_EXECUTIONS", d["max_in_flight_executions"], int)),
            "breaker_open_seconds": _env_number(env, "ITIRP_BREAKER_OPEN_SECONDS", d["breaker_open_seconds"]),
            "scrypt_n": int(_env_number(env, "ITIRP_SCRYPT_N", d["scrypt_n"], int)),
            "log_level": (env.get("ITIRP_LOG_LEVEL") or d["log_level"]).upper(),
            "log_format": env.get("ITIRP_LOG_FORMAT") or d["log_format"],
            "access_log": _env_bool(env, "ITIRP_ACCESS_LOG", d["access_log"]),
            "metrics_listen": env.get("ITIRP_METRICS_LISTEN", d["metrics_listen"]).strip(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values["data_dir"], str):
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)  # type: ignore[arg-type]
