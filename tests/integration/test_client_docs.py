"""The example in docs/clients.md runs as written (against a real server)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


async def test_the_documented_example_runs(server) -> None:  # type: ignore[no-untyped-def]
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    code = code.replace("127.0.0.1:50051", server.address)
    out = io.StringIO()

    def run() -> None:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOC), "exec"), {})

    await asyncio.to_thread(run)

    lines = out.getvalue().splitlines()
    assert lines[0].endswith(" 3")  # ORDER_STATUS_APPROVED
    assert (
        lines[1] == "rejected: ['POSITION_LIMIT', 'DAILY_VOLUME_LIMIT', 'NET_EXPOSURE_LIMIT', 'GROSS_EXPOSURE_LIMIT']"
    )
    assert lines[2].isdigit()


async def test_the_two_node_example_runs(server) -> None:  # type: ignore[no-untyped-def]
    """The example of "Two nodes: following the leader", with nothing listening at the first
    address: the client goes on to the second."""
    import socket

    (code,) = re.findall(r"```python two-nodes\n(.*?)```", DOC.read_text(), re.S)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nothing = f"127.0.0.1:{sock.getsockname()[1]}"
    code = code.replace("10.0.0.1:50051", nothing).replace("10.0.0.2:50051", server.address)
    out = io.StringIO()

    def run() -> None:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOC), "exec"), {})

    await asyncio.to_thread(run)

    lines = out.getvalue().splitlines()
    assert lines[0] == f"now using {server.address} of {[nothing, server.address]}"
    assert len(lines) == 2
