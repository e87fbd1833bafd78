"""End-to-end helpers: the real `itirp serve` in a subprocess, and the external clients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_INSTRUMENTS

BIN = Path(sys.executable).parent


class ServerProcess:
    """`python -m itirp serve` on 127.0.0.1:0; the bound port is read from its 'serving' log line."""

    def __init__(self, data_dir: Path, log_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
        test_desk = {  # as tests/conftest.make_config: the test desk's instruments, no feed
            "ITIRP_REFERENCE_DEMO_INSTRUMENTS": "0",
            "ITIRP_REFERENCE_INSTRUMENTS_FILE": str(TEST_INSTRUMENTS),
            "ITIRP_FEED_KIND": "off",
            # the message throttles raised, as make_config does (the docs' recipes set their own)
            "ITIRP_THROTTLE_NEW_PER_SECOND": "100000",
            "ITIRP_THROTTLE_AMEND_PER_SECOND": "100000",
            "ITIRP_THROTTLE_CANCEL_PER_SECOND": "100000",
            # as in tests/conftest.py: the tests repeat orders on purpose (no duplicate-order check)
            "ITIRP_ORDERS_DUPLICATE_WINDOW_MS": "0",
        }
        full_env = {**inherited, "ITIRP_LOG_FORMAT": "json", **test_desk, **(env or {})}
        self._log = open(log_path, "ab")  # noqa: SIM115 -- open while the server runs; stop() closes it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "itirp", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *args],
            stdout=self._log,
            stderr=self._log,
            env=full_env,
        )
        self.port = self._wait_for_port()
        self.address = f"127.0.0.1:{self.port}"

    def _wait_for_port(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            for line in self.log_path.read_text().splitlines():
                if line.startswith("{") and '"msg":"serving"' in line:
                    return int(json.loads(line)["port"])
            time.sleep(0.05)
        raise TimeoutError(f"server did not start:\n{self.log_path.read_text()}")

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
        # cheap scrypt, as make_config's scrypt_n=2**10 (the default 2**14 costs ~60 ms a hash: the
        # demo users seeded at start, and every login); a test's own env wins
        env = {"ITIRP_SCRYPT_N": "1024", **(env or {})}
        server = ServerProcess(data_dir or tmp_path / "data", tmp_path / f"server{len(started)}.log", *args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.kill()


def run(*cmd: str | Path, timeout: float = 30, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
