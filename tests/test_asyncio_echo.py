"""examples/asyncio_echo.py runs as a user runs it: alone, as two processes, and against nobody.

Every process is bounded (the example's own ``--timeout`` and the test's kill limit).
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HAS_IPV6

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "asyncio_echo.py"
LIMIT = 30  # seconds any one process may take

_LISTENING = re.compile(r"^Listening on (?:\[[^\]]+\]|[\d.]+):(?P<port>\d+)$")
_ECHOED = ["Echoed: 'hello'", "Echoed: 'echo me back'", "Echoed: 'non-ASCII: \u00e9\u00e8'"]

HOSTS = [
    "127.0.0.1",
    pytest.param("::1", marks=pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=LIMIT,
    )


@pytest.mark.parametrize("host", HOSTS)
def test_demo_plays_both_ends(host: str) -> None:
    proc = _run("--host", host, "--timeout", "20")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert _LISTENING.match(lines[0]), lines[0]
    for line in _ECHOED:
        assert line in lines
    assert any(line.startswith("UDP echo: 'datagram' via ") for line in lines)
    assert lines[-1] == "Done."


def test_server_and_client_in_two_processes() -> None:
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "server", "--port", "0", "--connections", "1", "--timeout", "20"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], LIMIT)
        assert ready, "the server printed nothing"
        m = _LISTENING.match(server.stdout.readline().strip())
        assert m
        client = _run("client", "--port", m["port"], "--timeout", "20")
        assert client.returncode == 0, client.stdout + client.stderr
        assert [line for line in client.stdout.splitlines() if line.startswith("Echoed")] == _ECHOED
        out, err = server.communicate(timeout=LIMIT)
        assert server.returncode == 0, out + err
        assert "Accepted 127.0.0.1:" in out and out.strip().endswith("Done.")
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_client_reports_a_refused_connection() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = _run("client", "--port", str(port), "--timeout", "5")
    assert proc.returncode == 1
    assert "Failed: SocketException" in proc.stderr
    assert "Connection refused" in proc.stderr or "ConnectionRefused" in proc.stderr
