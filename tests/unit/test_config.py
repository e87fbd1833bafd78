"""Config: defaults, environment, flags, validation; secrets never printed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from itirp.config import Config, ConfigError


def test_defaults_match_the_documented_ones() -> None:
    config = Config.from_env({})
    assert config.listen == "127.0.0.1:50051"
    assert config.data_dir == Path("data")
    assert config.event_loop == "uvloop"
    assert config.token_ttl_seconds == 1800
    assert config.demo_users is True
    assert config.jwt_secret is None


def test_environment_then_flags_take_precedence() -> None:
    env = {"ITIRP_LISTEN": "127.0.0.1:6000", "ITIRP_DATA_DIR": "/tmp/x", "ITIRP_DEMO_USERS": "0"}
    config = Config.from_env(env, listen="127.0.0.1:7000", data_dir=None)
    assert config.listen == "127.0.0.1:7000"
    assert config.data_dir == Path("/tmp/x")
    assert config.demo_users is False


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().listen = "x"  # type: ignore[misc]


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
    ],
)
def test_bad_settings_are_refused_with_their_name(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Config.from_env(env)
