"""Every program in examples/ runs, on loopback, and exits by itself with the right output.

Each example is run as a user would run it: a fresh interpreter, a command line, its output.
Alone (``--port 0`` or no arguments) each one plays both ends; the UDP pair and each echo
server with its client also run as two processes talking to each other.  Every run is bounded:
the examples have their own timeouts, and the test kills a process that outlives its limit.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import dotnet_sockets

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LIMIT = 30  # seconds any one example process may take

_LISTENING = re.compile(r"^Listening on (?:\[(?P<v6>[^\]]+)\]|(?P<v4>[\d.]+)):(?P<port>\d+)$")

needs_saea = pytest.mark.skipif(
    not hasattr(dotnet_sockets, "SocketAsyncEventArgs"),
    reason="FOR THE LEAD: examples/tcp_echo_saea.py needs dotnet_sockets.SocketAsyncEventArgs, not there yet",
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("DOTNET_SOCKETS_INLINE_COMPLETIONS", None)
    return env


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=LIMIT,
    )
    assert proc.returncode == 0, f"{name} {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == "", proc.stderr
    return proc


def start_example(name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def listening_port(proc: subprocess.Popen[str]) -> int:
    """The port from the server's first line, ``Listening on ADDRESS:PORT``; waits at most LIMIT seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], LIMIT)
    assert ready, "the server printed nothing"
    line = proc.stdout.readline().strip()
    m = _LISTENING.match(line)
    assert m, f"unexpected first line {line!r}"
    return int(m["port"])


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, err = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the process did not exit by itself:\n{out}\n{err}") from None
    assert proc.returncode == 0, f"exited {proc.returncode}:\n{out}\n{err}"
    assert err == "", err
    return out


@pytest.fixture
def server_process() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# -- UDP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_udp_sender_alone(host: str) -> None:
    out = run_example("udp_sender.py", "--port", "0", "--host", host, "--count", "3").stdout
    assert out.count("Sending Message Now..") == 3
    assert out.count("Sent 14 bytes") == 3
    assert out.count("Receiver got 'This is a test'") == 3
    assert out.rstrip().endswith("Done.")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_udp_receiver_alone(host: str) -> None:
    out = run_example("udp_receiver.py", "--port", "0", "--host", host, "--count", "4").stdout
    for i in range(4):
        assert f"'datagram {i}'" in out
    assert out.rstrip().endswith("Done.")


def test_udp_receiver_and_sender_in_two_processes(server_process: list[subprocess.Popen[str]]) -> None:
    receiver = start_example("udp_receiver.py", "--port", "0", "--wait", "--count", "2", "--timeout", "20")
    server_process.append(receiver)
    port = listening_port(receiver)
    sent = run_example("udp_sender.py", "--port", str(port), "--count", "2", "--message", "across processes")
    assert sent.stdout.count("Sent 16 bytes") == 2
    out = finish(receiver)
    assert out.count("Received 16 bytes") == 2 and "'across processes'" in out


def test_udp_sender_reports_a_failed_send() -> None:
    # A datagram larger than UDP allows fails in EndSendTo; the example says so and exits 1.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "udp_sender.py"), "--port", "9", "--count", "1", "--message", "x" * 70000],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert proc.returncode == 1
    assert "MessageSize" in proc.stderr or "Message too long" in proc.stderr, proc.stderr


# -- TCP echo ----------------------------------------------------------------------------------

ECHO_EXAMPLES = ["tcp_echo_apm.py", pytest.param("tcp_echo_saea.py", marks=needs_saea), "tcpclient_echo.py"]
MESSAGES = ["'hello'", "'echo me back'", "'non-ASCII: \u00e9\u00e8'"]


@pytest.mark.parametrize("example", ECHO_EXAMPLES)
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_echo_alone(example: str, host: str) -> None:
    out = run_example(example, "--host", host).stdout
    port = int(_LISTENING.match(out.splitlines()[0])["port"])  # type: ignore[index]
    # The client's RemoteEndPoint after the connect is the server's endpoint.
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    assert f"Connected to {shown}" in out, out
    assert "Accepted" in out
    for message in MESSAGES:
        assert f"Echoed: {message}" in out
    assert out.rstrip().endswith("Done.")


@pytest.mark.parametrize("example", ECHO_EXAMPLES)
def test_echo_server_and_client_in_two_processes(example: str, server_process: list[subprocess.Popen[str]]) -> None:
    server = start_example(example, "server", "--port", "0", "--connections", "2", "--timeout", "20")
    server_process.append(server)
    port = listening_port(server)
    for _ in range(2):
        out = run_example(example, "client", "--port", str(port)).stdout
        assert [line for line in out.splitlines() if line.startswith("Echoed")] == [f"Echoed: {m}" for m in MESSAGES]
    # The server exits by itself once its two clients are served.
    assert finish(server).count("Accepted") == 2


@pytest.mark.parametrize("example", ECHO_EXAMPLES)
def test_echo_client_reports_a_refused_connection(example: str) -> None:
    # Nothing listens on the port of a socket that was bound and closed again.
    with dotnet_sockets.Socket(
        dotnet_sockets.AddressFamily.InterNetwork, dotnet_sockets.SocketType.Stream, dotnet_sockets.ProtocolType.Tcp
    ) as probe:
        probe.Bind(dotnet_sockets.IPEndPoint(dotnet_sockets.IPAddress.Loopback, 0))
        ep = probe.LocalEndPoint
        assert isinstance(ep, dotnet_sockets.IPEndPoint)
        port = ep.Port
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / example), "client", "--port", str(port), "--timeout", "5"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert proc.returncode == 1
    assert "ConnectionRefused" in proc.stderr or "refused" in proc.stderr, proc.stderr


# -- the client classes: UdpClient, and the awaitables (tcpclient_echo.py is in ECHO_EXAMPLES) ---


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_udpclient_pair_alone(host: str) -> None:
    out = run_example("udpclient_pair.py", "--host", host, "--count", "3").stdout
    assert out.count("Sent 10 bytes") == 3
    for i in range(3):
        assert f": 'datagram {i}'" in out
    assert out.rstrip().endswith("Done.")


def test_udpclient_receiver_and_sender_in_two_processes(server_process: list[subprocess.Popen[str]]) -> None:
    receiver = start_example("udpclient_pair.py", "receiver", "--port", "0", "--count", "2", "--timeout", "20")
    server_process.append(receiver)
    port = listening_port(receiver)
    sent = run_example("udpclient_pair.py", "sender", "--port", str(port), "--count", "2", "--message", "across")
    assert sent.stdout.count("Sent 8 bytes") == 2
    out = finish(receiver)
    assert "'across 0'" in out and "'across 1'" in out


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_asyncio_clients_alone(host: str) -> None:
    out = run_example("asyncio_clients.py", "--host", host).stdout
    assert "Echoed: 'hello'" in out and "Echoed: 'echo me back'" in out
    assert "Received b'datagram' from" in out
    assert out.rstrip().endswith("Done.")


# -- the examples page says what is true ----------------------------------------------------------

PAGE = ROOT / "docs" / "examples.md"
_ROW = re.compile(r"^\| `(?P<name>[\w.]+\.py)` \| .* \| `(?P<command>python examples/[^`]+)` \|$")


def _table() -> dict[str, str]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            rows[m["name"]] = m["command"]
    return rows


def test_the_examples_page_lists_every_example_and_shows_its_source() -> None:
    table = _table()
    programs = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert sorted(table) == programs, "docs/examples.md's table must list every program in examples/"
    page = PAGE.read_text(encoding="utf-8")
    for name in programs:
        assert "literalinclude} ../examples/" + name in page, f"docs/examples.md does not show {name}"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_each_example_runs_alone_with_no_arguments_and_as_the_page_says(name: str) -> None:
    """The page's promise: started with no arguments, each program exits by itself, successfully."""
    run_example(name)
    command = _table().get(name)
    assert command is not None, f"{name} is not in docs/examples.md's table"
    words = command.split()
    assert words[:2] == ["python", f"examples/{name}"], command
    if words[2:]:
        run_example(name, *words[2:])
