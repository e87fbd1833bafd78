"""Run the recipes of docs/operations.md's audit trail section against the data folder of a real
server (stopped cleanly, so its last checkpoint is signed) and compare with the documented output."""

from __future__ import annotations

import os
import re

import grpc

from itirp.v1 import auth_pb2, auth_pb2_grpc
from tests.e2e.conftest import BIN, run
from tests.e2e.test_docs import DOCS, output_matches, recipes

SECTION = "## The audit trail: signed checkpoints"


def _section(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def test_the_audit_trail_recipes_print_what_operations_md_says(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, env={"ITIRP_STORE_CHECKPOINT_SECONDS": "0.2", "ITIRP_SCRYPT_N": "1024"})
    with grpc.insecure_channel(server.address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for _ in range(5):
            stub.Login(auth_pb2.LoginRequest(username="trader1", password="trader123"))
    assert server.stop() == 0
    pairs = recipes(_section((DOCS / "operations.md").read_text()))
    assert len(pairs) >= 3

    script = ["export PATH=" + str(BIN) + ":$PATH"]
    for i, (command, _) in enumerate(pairs):
        script += [f"echo '@@{i}@@'", "{", command, "} 2>&1"]
    result = run("bash", "-c", "\n".join(script), timeout=120, cwd=tmp_path, env={**os.environ})

    outputs = re.split(r"^@@\d+@@\n", result.stdout, flags=re.M)[1:]
    assert len(outputs) == len(pairs), result.stdout + result.stderr
    for (command, expected), actual in zip(pairs, outputs, strict=True):
        want = expected.rstrip("\n").split("\n")
        got = [line.rstrip() for line in actual.rstrip("\n").split("\n")]
        assert output_matches(want, got), f"$ {command}\n--- documented\n{expected}\n--- actual\n{actual}"
