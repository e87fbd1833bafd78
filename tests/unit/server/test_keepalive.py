"""The grpc server's keepalive options come from `config.keepalive`: a dead terminal is noticed
within seconds, and an idle session stream keeps being pinged."""

from __future__ import annotations

from itirp.config import Config
from itirp.server.bootstrap import _server_options


def test_the_defaults_notice_a_dead_client_within_seconds() -> None:
    options = dict(_server_options(Config()))
    assert options["grpc.keepalive_time_ms"] == 10_000
    assert options["grpc.keepalive_timeout_ms"] == 5_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 5_000
    assert options["grpc.http2.max_pings_without_data"] == 0
    assert options["grpc.so_reuseport"] == 0


def test_the_settings_reach_the_options() -> None:
    config = Config.from_flat(
        keepalive_time_seconds=2.5, keepalive_timeout_seconds=1, keepalive_permit_without_calls=False
    )
    options = dict(_server_options(config))
    assert (options["grpc.keepalive_time_ms"], options["grpc.keepalive_timeout_ms"]) == (2500, 1000)
    assert options["grpc.keepalive_permit_without_calls"] == 0
