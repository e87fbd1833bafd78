"""docs/operations.md, "TLS and mutual TLS", run as written: the refusal it quotes, its openssl
commands, its two `itirp serve` commands (on 127.0.0.1 port 0 here, never 0.0.0.0), and its
client commands (grpcurl, curl, itirp-cli) against the second, compared with the documented
output."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from tests.e2e.conftest import BIN, run
from tests.e2e.test_docs import FENCE, output_matches

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
DOC_ADDRESS, DOC_METRICS = "127.0.0.1:50051", "127.0.0.1:9464"
TAKES_VALUE = {"--listen", "--metrics-listen", "--tls-cert", "--tls-key", "--tls-client-ca"}


def section_blocks() -> list[tuple[str, str]]:
    text = OPERATIONS.read_text()
    start = text.index("## TLS and mutual TLS")
    end = text.index("\n## ", start + 1)
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text[start:end])]


def commands(block: str) -> list[list[str]]:
    """Each command of a shell block as words (continuation lines joined)."""
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def serve_args(words: list[str], folder: Path) -> list[str]:
    """An `itirp serve` command's flags for the test's server process: its own --listen (127.0.0.1
    port 0) stands for the documented one, metrics on 127.0.0.1 port 0, files in `folder`."""
    assert words[:2] == ["itirp", "serve"], words
    args, rest = [], iter(words[2:])
    for word in rest:
        value = next(rest) if word in TAKES_VALUE else None
        if word == "--listen":
            continue
        if word == "--metrics-listen":
            args += [word, "127.0.0.1:0"]
        elif value is not None:
            args += [word, str(folder / value)]
        else:
            args.append(word)
    return args


def test_the_tls_section_runs_as_written(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocks = section_blocks()
    assert [lang for lang, _ in blocks] == ["text", "sh", "text", "sh", "sh", "text", "python"]
    (_, refusal), (_, make_certs), (_, listed), (_, serve), (_, clients), (_, expected), _ = blocks
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    env |= {"PATH": f"{BIN}:{env['PATH']}", "ITIRP_CLI_CONFIG": str(tmp_path / "cli" / "tokens.json")}

    # the quoted refusal, from a server asked to listen on 0.0.0.0 without TLS (refused before binding)
    refused = run(BIN / "itirp", "serve", "--listen", "0.0.0.0:50051", "--data-dir", str(tmp_path / "d0"), env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip() == refusal.strip()

    # the certificates
    made = run("bash", "-ec", make_certs, cwd=tmp_path, env=env, timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == listed.splitlines()

    # both serve commands start; the clients run against the second
    first, second = commands(serve)
    tls_only = start_server(tmp_path / "d1", *serve_args(first, tmp_path))
    assert _serving(tls_only)["transport"] == "tls"
    server = start_server(tmp_path / "d2", *serve_args(second, tmp_path))
    assert _serving(server)["transport"] == "mtls"
    metrics = next(line for line in server.log_lines() if line["msg"] == "serving metrics")
    script = clients.replace(DOC_ADDRESS, server.address).replace(DOC_METRICS, f"127.0.0.1:{metrics['port']}")
    env["ITIRP_SERVER"] = server.address  # itirp-cli's default server is the documented address
    ran = run("bash", "-c", "{\n" + script + "\n} 2>&1", cwd=tmp_path, env=env, timeout=60)
    output = ran.stdout.replace(server.address, DOC_ADDRESS)
    assert output_matches(expected.splitlines(), output.splitlines()), output


def _serving(server) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(line for line in server.log_lines() if line["msg"] == "serving")


def test_the_section_names_every_tls_flag() -> None:
    text = " ".join(body for _, body in section_blocks()) + OPERATIONS.read_text()
    for flag in ("--tls-cert", "--tls-key", "--tls-client-ca", "--tls-client-cert-users", "--insecure"):
        assert re.search(re.escape(flag) + r"\b", text), flag
