"""Server configuration: read once at start, from flags and environment, into a frozen object.

`Config` is nested by concern: the top level (listen address, `insecure`, data folder, event loop,
logging, read-only, shutdown) and one frozen, keyword-only section per concern (`auth`, `orders`,
`venue`, `execution`, `streams`, `throttle`, `keepalive`, `store`, `metrics`, `reference`, `feed`, `tls`). Every field
carries `metadata=about(...)`: its meaning, its `itirp serve` flag (if any) and its former
environment names. From that one declaration come:

- the environment variable: `ITIRP_` + FIELD for a top-level field, `ITIRP_` + SECTION + `_` +
  FIELD for a section's (`venue.latency_seconds` -> `ITIRP_VENUE_LATENCY_SECONDS`). A name the
  rule changed is still read as an alias (`ITIRP_JWT_SECRET` for `ITIRP_AUTH_JWT_SECRET`); the
  canonical name wins when both are set;
- the flat name: the environment name without `ITIRP_`, lower-cased (`venue_latency_seconds`,
  and each alias's: `jwt_secret`, `venue`). `Config.from_env(**flags)`, `Config.from_flat(...)`
  and `Config.replace(...)` take flat names, so callers need not know the nesting;
- the `itirp serve` flags (`itirp.cli` generates them) and the table in the README
  (`itirp config --markdown`; a unit test fails when the README drifts from it).

Precedence: command-line flag > environment variable > default. Nothing below the edge reads the
environment; everything receives the `Config` it needs.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ENV_PREFIX",
    "AuthConfig",
    "Config",
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
    "Setting",
    "StoreConfig",
    "StoreKind",
    "StreamsConfig",
    "ThrottleConfig",
    "TlsConfig",
    "VenueConfig",
    "VenueKind",
    "markdown_table",
    "parse_listen",
    "settings",
]

from itirp.config_sections import (
    ENV_PREFIX,
    AuthConfig,
    ConfigError,
    EventLoopKind,
    ExecutionConfig,
    FeedConfig,
    FeedKind,
    HaConfig,
    KeepaliveConfig,
    LogFormat,
    LogLevel,
    MetricsConfig,
    OrdersConfig,
    ReferenceConfig,
    Secret,
    StoreConfig,
    StoreKind,
    StreamsConfig,
    ThrottleConfig,
    TlsConfig,
    VenueConfig,
    VenueKind,
    about,
    is_loopback,
    parse_listen,
)

# ------------------------------------------------------------------------------ the whole


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything the server needs to start. Build it with `Config.from_env(...)` at the edge, or
    `Config.from_flat(...)` from flat names (tests, benchmarks)."""

    listen: str = field(
        default="127.0.0.1:50051",
        metadata=about("where the gRPC server listens, HOST:PORT (port 0: any free one)", flag="--listen"),
    )
    insecure: bool = field(
        default=False,
        metadata=about(
            "allow plaintext (no TLS) on an address other than loopback, for the gRPC and the metrics port; "
            "said at start",
            flag="--insecure",
        ),
    )
    data_dir: Path = field(
        default=Path("data"),
        metadata=about("the data folder: `events.db`, `users.db`, `jwt_secret`", flag="--data-dir", shown="`./data`"),
    )
    event_loop: EventLoopKind = field(
        default="uvloop", metadata=about("the asyncio event loop implementation", flag="--event-loop")
    )
    read_only: bool = field(
        default=False,
        metadata=about(
            "open any event log, even one that does not verify, writing nothing in the data folder (for investigation)",
            flag="--read-only",
        ),
    )
    drain_delay_seconds: float = field(
        default=0.0,
        metadata=about(
            "on SIGTERM/SIGINT: how long health says NOT_SERVING before new calls are refused, s", flag="--drain-delay"
        ),
    )
    shutdown_grace_seconds: float = field(
        default=10.0,
        metadata=about("then: how long calls in flight (and executions) get to finish, s", flag="--shutdown-grace"),
    )
    log_level: LogLevel = field(default="INFO", metadata=about("log level", flag="--log-level"))
    log_format: LogFormat = field(default="json", metadata=about("JSON lines, or text for people", flag="--log-format"))
    access_log: bool = field(default=True, metadata=about("one `itirp.access` log line per RPC"))
    auth: AuthConfig = field(default_factory=AuthConfig)
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    venue: VenueConfig = field(default_factory=VenueConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    streams: StreamsConfig = field(default_factory=StreamsConfig)
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)
    keepalive: KeepaliveConfig = field(default_factory=KeepaliveConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    ha: HaConfig = field(default_factory=HaConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    reference: ReferenceConfig = field(default_factory=ReferenceConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)

    def __post_init__(self) -> None:
        parse_listen(self.listen)
        check_choices(self, None)
        if self.read_only and self.store.kind != "sqlite":
            raise ConfigError(
                "--read-only investigates a SQLite log (DATA_DIR/events.db); a PostgreSQL log is read by a standby "
                "node, or offline with `itirp audit verify --database-url`"
            )
        if not self.tls.enabled and not self.insecure:
            for what, listen in (("the gRPC port", self.listen), ("the metrics port", self.metrics.listen)):
                if listen and not is_loopback(parse_listen(listen)[0]):
                    raise ConfigError(
                        f"{what} would listen on {listen} without TLS: passwords and tokens would cross the network "
                        "in clear text. Give a certificate and key (--tls-cert, --tls-key; ITIRP_TLS_CERT, "
                        "ITIRP_TLS_KEY), or --insecure (ITIRP_INSECURE) to accept plaintext there; "
                        "a loopback address (127.0.0.1, ::1, localhost) needs neither"
                    )

    @property
    def plaintext_exposed(self) -> tuple[str, ...]:
        """The non-loopback addresses served in plaintext (only with `insecure`): said at start."""
        if self.tls.enabled:
            return ()
        listens = (self.listen, self.metrics.listen)
        return tuple(x for x in listens if x and not is_loopback(parse_listen(x)[0]))

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    # Compatibility: the flat names of before the nesting, still read outside `itirp`'s own code.
    @property
    def metrics_listen(self) -> str:
        """`metrics.listen` (flat name kept for its readers)."""
        return self.metrics.listen

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        """`metrics.host_port` (flat name kept for its readers)."""
        return self.metrics.host_port

    # ------------------------------------------------------------------ building

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Defaults, then `ITIRP_*` environment variables, then explicit overrides (flags, by flat
        name). Overrides whose value is None are ignored, so that unset flags fall through."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for s in settings():
            found = s.lookup(env)
            if found is not None:
                values[s.path] = _parse(s, *found)
        values.update({_named(name).path: value for name, value in overrides.items() if value is not None})
        return _build(values)

    @classmethod
    def from_flat(cls, **values: object) -> Config:
        """Defaults, then `values` by flat name (`venue="internal"`, `execution_attempts=1`,
        `heartbeat_seconds=0.2`, `metrics_listen=...`); None is a value here, not "unset"."""
        return _build({_named(name).path: value for name, value in values.items()})

    def replace(self, **changes: object) -> Config:
        """A copy with `changes` (flat names, as `from_flat`)."""
        current = {s.path: s.value_in(self) for s in settings()}
        return _build({**current, **{_named(name).path: value for name, value in changes.items()}})


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration field, as the environment, the flags and the documentation see it."""

    section: str | None
    name: str
    type: Any
    default: object
    meaning: str
    flag: str | None
    aliases: tuple[str, ...]
    shown: str | None
    label: str | None

    @property
    def path(self) -> str:
        """`venue.kind`; a top-level field's own name."""
        return f"{self.section}.{self.name}" if self.section else self.name

    @property
    def env(self) -> str:
        """The environment variable, by the rule: `ITIRP_` [+ SECTION + `_`] + FIELD."""
        return ENV_PREFIX + (f"{self.section}_{self.name}" if self.section else self.name).upper()

    @property
    def flat_names(self) -> tuple[str, ...]:
        """The canonical flat name first, then the aliases': each an environment name without
        `ITIRP_`, lower-cased."""
        return tuple(env.removeprefix(ENV_PREFIX).lower() for env in (self.env, *self.aliases))

    @property
    def choices(self) -> tuple[str, ...]:
        """A `Literal` field's values; () for any other field."""
        return typing.get_args(self.type) if typing.get_origin(self.type) is Literal else ()

    @property
    def metavar(self) -> str | None:
        """What the flag takes: its choices, PATH, HOST:PORT, S (seconds) or N; None for a switch."""
        kind = _base_type(self)
        if kind is bool:
            return None
        if self.choices:
            return "|".join(self.choices)
        if kind is Path:
            return "PATH"
        if self.name == "listen":
            return "HOST:PORT"
        if self.name == "database_url":
            return "URL"
        return "S" if self.name.endswith("_seconds") else "N"

    def lookup(self, environ: Mapping[str, str]) -> tuple[str, str] | None:
        """(name, raw value) of the first of its environment names set to something non-empty."""
        for name in (self.env, *self.aliases):
            raw = environ.get(name)
            if raw:
                return name, raw
        return None

    def value_in(self, config: Config) -> object:
        holder = getattr(config, self.section) if self.section else config
        return getattr(holder, self.name)

    def default_text(self) -> str:
        if self.shown is not None:
            return self.shown
        if isinstance(self.default, bool):
            return "on" if self.default else "off"
        others = ", ".join(f"`{c}`" for c in self.choices if c != self.default)
        return f"`{self.default}`" + (f" (or {others})" if others else "")


def _fields_of(cls: type, section: str | None) -> Iterator[Setting]:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if "meaning" not in f.metadata:
            continue
        m = f.metadata
        yield Setting(
            section, f.name, hints[f.name], f.default, m["meaning"], m["flag"], m["aliases"], m["shown"], m["label"]
        )


@functools.cache
def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if dataclasses.is_dataclass(hints[f.name])}


@functools.cache
def settings() -> tuple[Setting, ...]:
    """Every setting: the top level's, then each section's, in declaration order."""
    found = list(_fields_of(Config, None))
    for name, cls in _sections().items():
        found.extend(_fields_of(cls, name))
    return tuple(found)


@functools.cache
def _index() -> dict[str, Setting]:
    """Flat names and dotted paths -> setting; a name claimed twice is a programming error."""
    index: dict[str, Setting] = {}
    for s in settings():
        for name in {s.path, *s.flat_names}:
            if index.setdefault(name, s) is not s:
                raise AssertionError(f"configuration name {name!r} is claimed by {index[name].path} and {s.path}")
    return index


def _named(name: str) -> Setting:
    try:
        return _index()[name]
    except KeyError:
        raise TypeError(f"unknown configuration setting {name!r}") from None


def env_names(path: str) -> str:
    s = next(s for s in settings() if s.path == path)
    return " or ".join((s.env, *s.aliases))


def check_choices(holder: object, section: str | None) -> None:
    """A `ConfigError` naming the setting when a `Literal` field holds a value it does not allow."""
    for s in settings():
        if s.section != section or not s.choices:
            continue
        value = getattr(holder, s.name)
        if value not in s.choices:
            where = env_names(s.path) + (f" / {s.flag}" if s.flag else "")
            label = s.label or s.name.replace("_", " ")
            raise ConfigError(f"{label} must be {' or '.join(s.choices)}, got {value!r} ({where})")


# ------------------------------------------------------------------------------ parsing


def _base_type(s: Setting) -> Any:
    """The field's type without `| None`."""
    if isinstance(s.type, types.UnionType):
        return next(a for a in typing.get_args(s.type) if a is not type(None))
    return s.type


def _parse(s: Setting, name: str, raw: str) -> object:
    """An environment variable's text as the field's type; `name` is the variable that was set."""
    kind = _base_type(s)
    text = raw.strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if number < 0:
            raise ConfigError(f"{name} must not be negative, got {raw!r}")
        return number
    if kind is Secret:
        return Secret(raw)
    return text


def _coerce(s: Setting, value: object) -> object:
    """Values as callers give them: a path as text, a `Literal` in any case ("info", "INTERNAL")."""
    kind = _base_type(s)
    if kind is Path and isinstance(value, str):
        return Path(value) if value or s.default is not None else None
    if s.choices and isinstance(value, str):
        return next((c for c in s.choices if c.lower() == value.strip().lower()), value)
    return value


def _build(values: Mapping[str, object]) -> Config:
    """A `Config` from values by dotted path; the rest defaults."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {name: {} for name in _sections()}
    by_path = {s.path: s for s in settings()}
    for path, value in values.items():
        s = by_path[path]
        (nested[s.section] if s.section else top)[s.name] = _coerce(s, value)
    sections = {name: cls(**nested[name]) for name, cls in _sections().items()}
    return Config(**top, **sections)


def markdown_table() -> str:
    """The configuration reference: one row per setting (the README's table is this text)."""
    rows = [
        "| setting | environment | flag | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in settings():
        env = f"`{s.env}`" + "".join(f" (or `{alias}`)" for alias in s.aliases)
        usage = f"{s.flag} {s.metavar}" if s.flag and s.metavar else s.flag
        flag = f"`{usage}`".replace("|", "\\|") if usage else ""
        rows.append(f"| `{s.path}` | {env} | {flag} | {s.default_text()} | {s.meaning} |")
    return "\n".join(rows) + "\n"
