"""Config: defaults, environment (canonical names and aliases), flags, flat names, validation,
the generated reference table; secrets never printed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from itirp import cli
from itirp.config import ENV_PREFIX, Config, ConfigError, Secret, VenueConfig, markdown_table, settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_match_the_documented_ones() -> None:
    config = Config.from_env({})
    assert config.listen == "127.0.0.1:50051"
    assert config.data_dir == Path("data")
    assert config.event_loop == "uvloop"
    assert config.auth.token_ttl_seconds == 1800
    assert config.auth.demo_users is True
    assert config.auth.jwt_secret is None
    assert config.venue.kind == "simulated"
    assert config.store.kind == "sqlite"
    assert config.metrics.listen == ""


def test_environment_then_flags_take_precedence() -> None:
    env = {"ITIRP_LISTEN": "127.0.0.1:6000", "ITIRP_DATA_DIR": "/tmp/x", "ITIRP_DEMO_USERS": "0"}
    config = Config.from_env(env, listen="127.0.0.1:7000", data_dir=None)
    assert config.listen == "127.0.0.1:7000"
    assert config.data_dir == Path("/tmp/x")
    assert config.auth.demo_users is False


def test_every_environment_name_follows_the_rule() -> None:
    for s in settings():
        expected = ENV_PREFIX + (f"{s.section}_{s.name}" if s.section else s.name).upper()
        assert s.env == expected


def test_a_section_field_is_read_from_its_derived_name() -> None:
    env = {"ITIRP_VENUE_LATENCY_SECONDS": "0.25", "ITIRP_EXECUTION_ATTEMPTS": "7", "ITIRP_STORE_KIND": "SQLite"}
    config = Config.from_env(env)
    assert config.venue.latency_seconds == 0.25
    assert config.execution.attempts == 7
    assert config.store.kind == "sqlite"


@pytest.mark.parametrize(
    ("alias", "raw", "path", "value"),
    [
        ("ITIRP_VENUE", "internal", "venue.kind", "internal"),
        ("ITIRP_JWT_SECRET", "s" * 40, "auth.jwt_secret", Secret("s" * 40)),
        ("ITIRP_DEMO_USERS", "0", "auth.demo_users", False),
        ("ITIRP_HEARTBEAT_SECONDS", "3", "streams.heartbeat_seconds", 3.0),
        ("ITIRP_MAX_IN_FLIGHT_EXECUTIONS", "8", "execution.max_in_flight", 8),
        ("ITIRP_MAX_ORDER_QUANTITY", "500", "orders.max_quantity", 500),
    ],
)
def test_former_names_are_read_as_aliases(alias: str, raw: str, path: str, value: object) -> None:
    config = Config.from_env({alias: raw})
    section, name = path.split(".")
    assert getattr(getattr(config, section), name) == value


def test_the_canonical_name_beats_its_alias() -> None:
    config = Config.from_env({"ITIRP_VENUE": "simulated", "ITIRP_VENUE_KIND": "internal"})
    assert config.venue.kind == "internal"


def test_flat_names_reach_their_sections() -> None:
    config = Config.from_flat(
        venue="internal", execution_attempts=1, heartbeat_seconds=0.2, metrics_listen="127.0.0.1:0", data_dir="d"
    )
    assert config.venue.kind == "internal"
    assert config.execution.attempts == 1
    assert config.streams.heartbeat_seconds == 0.2
    assert config.metrics_listen == config.metrics.listen == "127.0.0.1:0"
    assert config.data_dir == Path("d")
    replaced = config.replace(read_only=True, venue_kind="simulated")
    assert (replaced.read_only, replaced.venue.kind, replaced.execution.attempts) == (True, "simulated", 1)


def test_an_unknown_flat_name_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="unknown configuration setting 'no_such_thing'"):
        Config.from_flat(no_such_thing=1)


def test_config_and_its_sections_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().listen = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().venue.kind = "internal"  # type: ignore[misc]


def test_secret_is_masked_in_repr() -> None:
    config = Config.from_env({"ITIRP_JWT_SECRET": "s" * 40})
    assert "sss" not in repr(config)


@pytest.mark.parametrize(
    "env",
    [
        {"ITIRP_LISTEN": "nohost"},
        {"ITIRP_LISTEN": "127.0.0.1:99999"},
        {"ITIRP_EVENT_LOOP": "trio"},
        {"ITIRP_DEMO_USERS": "maybe"},
        {"ITIRP_JWT_SECRET": "short"},
        {"ITIRP_TOKEN_TTL_SECONDS": "abc"},
        {"ITIRP_VENUE_KIND": "nasdaq"},
        {"ITIRP_STORE_KIND": "postgres"},
        {"ITIRP_LOG_FORMAT": "xml"},
        {"ITIRP_VENUE_FAILURE_RATE": "2"},
        {"ITIRP_EXECUTION_ATTEMPTS": "-1"},
    ],
)
def test_bad_settings_are_refused_with_their_name(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Config.from_env(env)


def test_an_enumeration_names_its_choices_and_its_variables() -> None:
    expected = "venue must be simulated or internal, got 'nasdaq' (ITIRP_VENUE_KIND or ITIRP_VENUE / --venue)"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        Config.from_env({"ITIRP_VENUE": "nasdaq"})
    with pytest.raises(ConfigError, match="venue must be simulated or internal"):
        VenueConfig(kind="nasdaq")  # type: ignore[arg-type]


def test_every_flag_of_serve_is_a_documented_setting() -> None:
    parser = cli._parser()
    (subcommands,) = (a for a in parser._actions if isinstance(a.choices, dict) and "serve" in a.choices)
    serve = subcommands.choices["serve"]
    flags = {option for action in serve._actions for option in action.option_strings} - {"-h", "--help"}
    assert flags == {s.flag for s in settings() if s.flag}
    args = parser.parse_args(
        ["serve", "--venue", "internal", "--heartbeat", "2", "--no-demo-users", "--log-level", "debug"]
    )
    config = Config.from_env({}, **{s.flat_names[0]: getattr(args, s.flat_names[0]) for s in settings() if s.flag})
    assert (config.venue.kind, config.streams.heartbeat_seconds, config.auth.demo_users) == ("internal", 2.0, False)
    assert config.log_level == "DEBUG"


def test_the_readme_table_is_the_generated_one() -> None:
    # Arrange: the README holds the table between two markers
    text = README.read_text()
    begin, end = "<!-- config-table: begin (itirp config --markdown) -->\n", "<!-- config-table: end -->"
    documented = text[text.index(begin) + len(begin) : text.index(end)]

    # Assert: regenerate it with `itirp config --markdown` when this fails
    assert documented == markdown_table()


def test_the_table_lists_every_name_once() -> None:
    table = markdown_table()
    for s in settings():
        for name in (s.env, *s.aliases):
            assert table.count(f"`{name}`") == 1, name


def test_config_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()


# ------------------------------------------------------------------------------ transport security


def test_tls_settings_come_from_the_environment_and_flags() -> None:
    env = {"ITIRP_TLS_CERT": "/etc/itirp/server.pem", "ITIRP_TLS_KEY": "/etc/itirp/server.key"}
    config = Config.from_env(env, tls_client_ca="/etc/itirp/clients-ca.pem")
    assert config.tls.cert == Path("/etc/itirp/server.pem")
    assert config.tls.key == Path("/etc/itirp/server.key")
    assert config.tls.client_ca == Path("/etc/itirp/clients-ca.pem")
    assert (config.tls.enabled, config.tls.mutual) == (True, True)
    assert Config.from_env({}).tls.enabled is False


@pytest.mark.parametrize(
    ("flat", "message"),
    [
        ({"tls_cert": "server.pem"}, "TLS needs both a certificate and its key"),
        ({"tls_key": "server.key"}, "TLS needs both a certificate and its key"),
        ({"tls_client_ca": "ca.pem"}, "mutual TLS .* needs the server's own certificate and key"),
    ],
)
def test_tls_settings_that_do_not_go_together_are_refused(flat: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_flat(**flat)


@pytest.mark.parametrize("listen", ["0.0.0.0:50051", "[::]:50051", "10.1.2.3:50051", "desk.example:50051"])
def test_plaintext_on_a_non_loopback_address_needs_insecure(listen: str) -> None:
    # Act / Assert: refused by the configuration, so `itirp serve` stops before it binds anything
    with pytest.raises(ConfigError) as refused:
        Config.from_flat(listen=listen)
    message = str(refused.value)
    assert f"the gRPC port would listen on {listen} without TLS" in message
    assert "--tls-cert, --tls-key" in message
    assert "--insecure" in message
    # with --insecure it is accepted, and the start is told to say so (no address is bound here)
    assert Config.from_flat(listen=listen, insecure=True).plaintext_exposed == (listen,)


def test_the_metrics_port_follows_the_same_rule() -> None:
    with pytest.raises(ConfigError, match=re.escape("the metrics port would listen on 0.0.0.0:9464 without TLS")):
        Config.from_flat(metrics_listen="0.0.0.0:9464")
    tls = {"tls_cert": "server.pem", "tls_key": "server.key"}
    assert Config.from_flat(listen="0.0.0.0:0", metrics_listen="0.0.0.0:9464", **tls).plaintext_exposed == ()


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "127.8.9.10:50051", "[::1]:50051", "localhost:50051"])
def test_loopback_plaintext_stays_the_default(listen: str) -> None:
    config = Config.from_flat(listen=listen)
    assert config.plaintext_exposed == ()
    assert config.tls.enabled is False


def test_serve_refuses_plaintext_off_loopback_with_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Act: `itirp serve` with the address from a flag; the refusal comes before the data folder opens
    code = cli.main(["serve", "--listen", "0.0.0.0:0", "--data-dir", str(tmp_path / "data")])
    # Assert
    assert code == 2
    assert "without TLS" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_the_postgres_store_is_chosen_by_its_short_names_and_needs_a_url() -> None:
    config = Config.from_env({"ITIRP_STORE": "postgres", "ITIRP_DATABASE_URL": "postgresql://u@127.0.0.1:5432/itirp"})
    assert config.store.kind == "postgres"
    assert config.store.database_url is not None
    assert config.store.database_url.value == "postgresql://u@127.0.0.1:5432/itirp"
    assert "postgresql://" not in repr(config)  # the URL may hold a password
    with pytest.raises(ConfigError, match="needs a database URL"):
        Config.from_env({"ITIRP_STORE": "postgres"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ITIRP_HA_LEASE_SECONDS": "0.1"}, "lease must be between"),
        ({"ITIRP_HA_POLL_SECONDS": "0"}, "poll interval must be between"),
        ({"ITIRP_HA_ADVERTISE": "nowhere"}, "HOST:PORT"),
        (
            {"ITIRP_STORE": "postgres", "ITIRP_DATABASE_URL": "postgresql://u@h/db", "ITIRP_READ_ONLY": "1"},
            "--read-only investigates a SQLite log",
        ),
    ],
)
def test_two_node_settings_that_cannot_work_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(environ)
