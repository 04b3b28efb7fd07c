"""The command line, run as a user runs it: ``python -m dotnet_sockets ...`` in a child process.

Every child is bounded by a timeout; ``listen`` always gets ``--count`` or
``--timeout`` so that it ends by itself; everything stays on loopback.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import HAS_IPV6

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), PYTHONUNBUFFERED="1")
    env.pop("DOTNET_SOCKETS_TRACE", None)
    return env


def run(
    *args: str, timeout: float = TIMEOUT, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dotnet_sockets", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_env(), **(env_extra or {})},
        check=False,
    )


def _foreground_sigint() -> None:
    # When pytest itself runs as a background job, SIGINT arrives ignored and a child would inherit that;
    # the child must be the foreground program a user presses Ctrl-C in.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Listener:
    """A ``dotnet-sockets listen`` child; ``port`` is read from its first line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dotnet_sockets", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            preexec_fn=_foreground_sigint,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # bounded: the child exits (closing stdout) on any error
        assert first.startswith("listening on "), first + self._stderr_now()
        self.port = int(first.rsplit(":", 1)[1])

    def _stderr_now(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=TIMEOUT)


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for lst in made:
        lst.kill()


# -- help and usage -------------------------------------------------------------------------------


def test_help_lists_the_commands_examples_and_exit_codes() -> None:
    res = run("--help")
    assert res.returncode == 0
    for word in ("demo", "send", "listen", "bench", "examples:", "exit codes:"):
        assert word in res.stdout
    for cmd in ("send", "listen", "bench", "demo"):
        sub = run(cmd, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "example" in sub.stdout


def test_no_command_is_a_usage_error() -> None:
    res = run()
    assert res.returncode == 2
    assert "usage:" in res.stderr


BAD_INPUT = [
        (("send", "127.0.0.1"), "expected HOST:PORT"),
        (("send", "127.0.0.1:99999"), "between 1 and 65535"),
        (("send", "127.0.0.1:http"), "not a number"),
        (("send", "127.0.0.1:0"), "between 1 and 65535"),
        (("send", "999.1.1.1:9"), "not an IPv4 or IPv6 address"),
        (("send", "::1:9"), "[address]:port"),
        (("send", "[::1:9"), "[address]:port"),
        (("send", "127.0.0.1:9", "--count", "0"), "at least 1"),
        (("send", "127.0.0.1:9", "--interval", "soon"), "not a number of seconds"),
        (("listen", "70000", "--timeout", "1"), "between 0 and 65535"),
        (("listen", "9", "--bind", "localhost", "--timeout", "1"), "not an IPv4 or IPv6 address"),
        (("send", "127.0.0.1:9", "--frobnicate"), "unrecognized arguments"),
        (("bench", "--only", "warp_drive"), "unknown way"),
        (("--trace-level", "LOUD", "send", "127.0.0.1:9"), "bad --trace-level"),
]

# Every bad input is refused before any socket is made, so one child interpreter can take them all
# (a fresh one each cost 0.4 s, most of it importing): it calls the main() that ``python -m
# dotnet_sockets`` calls and hands back, per input, what the command would exit with and print.
_BATCH = """
import contextlib, io, json, sys, traceback
from dotnet_sockets.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append([code, out.getvalue(), err.getvalue()])
json.dump(results, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def bad_input_outcomes() -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    argvs = [list(args) for args, _ in BAD_INPUT]
    proc = subprocess.run(
        [sys.executable, "-c", _BATCH, json.dumps(argvs)],
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(), check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and not proc.stderr, proc.stdout + proc.stderr
    return {
        tuple(argv): subprocess.CompletedProcess(argv, code, out, err)
        for argv, (code, out, err) in zip(argvs, json.loads(proc.stdout), strict=True)
    }


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_a_clear_usage_error(
    args: tuple[str, ...], message: str, bad_input_outcomes: dict[tuple[str, ...], subprocess.CompletedProcess[str]]
) -> None:
    res = bad_input_outcomes[args]
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_the_batch_exits_and_prints_as_python_m_does(
    bad_input_outcomes: dict[tuple[str, ...], subprocess.CompletedProcess[str]],
) -> None:
    """The batch stands for ``python -m dotnet_sockets ARGS``: an input run that way gives the same."""
    # argparse's own refusal: its message has the usage line, with the program's name in it.
    args = next(a for a, message in BAD_INPUT if message == "unrecognized arguments")
    alone, batched = run(*args), bad_input_outcomes[args]
    assert "usage: " in alone.stderr
    assert (alone.returncode, alone.stdout, alone.stderr) == (batched.returncode, batched.stdout, batched.stderr)


def test_a_name_that_does_not_resolve_exits_with_3() -> None:
    res = run("send", "nonexistent.invalid:9", "hi")  # .invalid never resolves (RFC 6761)
    assert res.returncode == 3, res.stderr
    assert "cannot resolve 'nonexistent.invalid'" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_port_in_use_exits_with_4() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        res = run("listen", str(port), "--bind", "127.0.0.1", "--timeout", "1")
    assert res.returncode == 4, res.stderr
    assert "cannot listen on udp" in res.stderr and "AddressAlreadyInUse" in res.stderr


def test_listen_times_out_with_5_when_nothing_arrives() -> None:
    res = run("listen", "0", "--bind", "127.0.0.1", "--timeout", "0.3")
    assert res.returncode == 5
    assert "nothing arrived" in res.stderr


# -- send and listen ------------------------------------------------------------------------------


def test_udp_send_to_listen_on_loopback(listeners: list[Listener]) -> None:
    lst = Listener("0", "--bind", "127.0.0.1", "--count", "3", "--timeout", "20")
    listeners.append(lst)
    res = run("send", f"127.0.0.1:{lst.port}", "hello", "--count", "3", "--interval", "0.01")
    assert res.returncode == 0, res.stderr
    completions = [line for line in res.stdout.splitlines() if "EndSendTo: 5 bytes sent over udp" in line]
    assert len(completions) == 3
    assert all(f"to 127.0.0.1:{lst.port}" in line for line in completions)
    code, out, err = lst.finish()
    assert code == 0, err
    messages = [line for line in out.splitlines() if line.startswith("[")]
    assert len(messages) == 3
    assert all(": hello" in m and "5 bytes from 127.0.0.1:" in m for m in messages)


def test_tcp_send_to_listen_on_loopback(listeners: list[Listener]) -> None:
    lst = Listener("0", "--tcp", "--bind", "127.0.0.1", "--count", "1", "--timeout", "20")
    listeners.append(lst)
    res = run("send", f"127.0.0.1:{lst.port}", "over tcp", "--tcp")
    assert res.returncode == 0, res.stderr
    assert "connected to 127.0.0.1:" in res.stdout
    # A connected TCP socket sends with BeginSend/EndSend, not EndSendTo.
    assert "EndSend: 8 bytes sent over tcp" in res.stdout and "EndSendTo" not in res.stdout
    code, out, err = lst.finish()
    assert code == 0, err
    assert "connection from 127.0.0.1:" in out
    assert "8 bytes from 127.0.0.1:" in out and ": over tcp" in out


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_ipv6_send_and_binary_messages_as_a_hex_dump(listeners: list[Listener]) -> None:
    lst = Listener("0", "--bind", "::1", "--count", "1", "--timeout", "20")
    listeners.append(lst)
    res = run("send", f"[::1]:{lst.port}", "\x01\x02bin", "--size", "20")
    assert res.returncode == 0, res.stderr
    assert "EndSendTo: 20 bytes sent over udp to [::1]:" in res.stdout
    code, out, err = lst.finish()
    assert code == 0, err
    assert "20 bytes from [::1]:" in out and "(binary)" in out
    assert "00000000 : 01 02 62 69 6E 01 02" in out


def test_size_and_count_make_numbered_messages_of_that_size(listeners: list[Listener]) -> None:
    lst = Listener("0", "--bind", "127.0.0.1", "--count", "2", "--timeout", "20")
    listeners.append(lst)
    res = run("send", f"127.0.0.1:{lst.port}", "--count", "2", "--size", "100")
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("EndSendTo: 100 bytes") == 2
    code, out, _ = lst.finish()
    assert code == 0
    assert out.count("100 bytes from 127.0.0.1:") == 2
    assert "message 1 from dotnet-sockets" in out


def test_broadcast_needs_the_flag(listeners: list[Listener]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.255.255.255", 0))
        receiver.settimeout(10)
        target = f"127.255.255.255:{receiver.getsockname()[1]}"
        refused = run("send", target, "no flag")
        assert refused.returncode == 1
        assert "AccessDenied" in refused.stderr
        allowed = run("send", target, "flagged", "--broadcast", "--dont-route")
        assert allowed.returncode == 0, allowed.stderr
        assert receiver.recv(64) == b"flagged"


def test_the_loopback_only_policy_refuses_other_targets_with_6() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        res = run("--loopback-only", "send", f"0.0.0.0:{receiver.getsockname()[1]}", "leak")
        assert res.returncode == 6, res.stderr
        assert "refused by the socket policy" in res.stderr
        receiver.setblocking(False)
        with pytest.raises(BlockingIOError):
            receiver.recv(64)


def test_send_to_a_closed_tcp_port_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run("send", f"127.0.0.1:{port}", "x", "--tcp")
    assert res.returncode == 1
    assert "ConnectionRefused" in res.stderr


def test_trace_option_prints_the_network_trace_on_stderr(listeners: list[Listener]) -> None:
    lst = Listener("0", "--bind", "127.0.0.1", "--count", "1", "--timeout", "20")
    listeners.append(lst)
    res = run("--trace-level", "VERBOSE", "send", f"127.0.0.1:{lst.port}", "traced")
    assert res.returncode == 0, res.stderr
    assert "BeginSendTo enter" in res.stderr and "EndSendTo exit -> 6" in res.stderr
    assert "74 72 61 63 65 64" in res.stderr  # the hex dump of b"traced"
    assert lst.finish()[0] == 0
    plain = run("--trace", "send", f"127.0.0.1:{lst.port}", "x")  # nobody listens now: UDP sends anyway
    assert plain.returncode == 0, plain.stderr
    assert "BeginSendTo enter" in plain.stderr
    assert "00000000 :" not in plain.stderr  # DEBUG: calls, no dumps


def test_interrupting_listen_exits_with_130(listeners: list[Listener]) -> None:
    lst = Listener("0", "--bind", "127.0.0.1", "--timeout", "30")
    listeners.append(lst)
    lst.proc.send_signal(signal.SIGINT)
    code, _, err = lst.finish()
    assert code == 130
    assert "interrupted" in err


# -- demo and bench -------------------------------------------------------------------------------


def test_demo_shows_callbacks_trace_and_telemetry() -> None:
    res = run("demo", "--count", "2")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.count("EndSendTo -> 32 bytes") == 2  # b"datagram 1 of 2 from BeginSendTo"
    assert "datagrams-sent: 2" in out and "datagrams-received: 2" in out
    assert "bytes-sent: 64" in out
    assert out.rstrip().endswith("demo complete")
    assert "send path: " in out.splitlines()[0]
    # The trace goes to standard error, in the same format as --trace, never into the story on stdout.
    assert "BeginSendTo enter" not in out
    trace = [line for line in res.stderr.splitlines() if "BeginSendTo enter" in line]
    assert len(trace) == 2 and all(TRACE_LINE.match(line) for line in trace), res.stderr
    quiet = run("demo", "--count", "1", "--no-trace")
    assert quiet.returncode == 0 and quiet.stderr == ""


TRACE_LINE = re.compile(r"^trace +[0-9.]+ms \S.*: Socket#\d+ \w+ (enter|exit|error)")


def test_version_names_the_python_and_the_send_path() -> None:
    res = run("--version")
    assert res.returncode == 0, res.stderr
    from dotnet_sockets import __version__

    line = res.stdout.strip()
    assert line.startswith(f"dotnet-sockets {__version__} (Python ")
    assert platform.python_version() in line
    pure = run("--version", env_extra={"DOTNET_SOCKETS_PURE": "1"})
    assert "send path: pure Python (DOTNET_SOCKETS_PURE is set)" in pure.stdout
    from dotnet_sockets import _accel

    if _accel.ACCELERATED:
        assert "send path: compiled accelerator" in line


def test_listen_binds_loopback_unless_told_otherwise() -> None:
    res = run("listen", "0", "--timeout", "0.2")
    assert res.returncode == 5
    assert res.stdout.startswith("listening on udp 127.0.0.1:"), res.stdout


def test_the_bench_header_names_the_path_it_runs() -> None:
    res = run("bench", "--count", "200", "--runs", "1", "--only", "plain", env_extra={"DOTNET_SOCKETS_PURE": "1"})
    assert res.returncode == 0, res.stderr
    header = res.stdout.splitlines()[0]
    assert "send path: pure Python (DOTNET_SOCKETS_PURE is set)" in header
    assert "DOTNET_SOCKETS_PURE=1 for" not in header


def test_bench_prints_a_plain_table_when_piped() -> None:
    res = run("bench", "--count", "2000", "--runs", "1", "--only", "plain,begin_64,begin_sem_64", timeout=120)
    assert res.returncode == 0, res.stderr
    assert "\r" not in res.stdout and "\x1b" not in res.stdout
    rows = [line for line in res.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| way |")
    assert any(r.startswith("| plain socket.sendto loop |") and r.endswith("| 1.00 |") for r in rows)
    assert any(r.startswith("| BeginSendTo + callback EndSendTo, 64 in flight |") for r in rows)
    assert any(r.startswith("| BeginSendTo, SemaphoreSlim(64) throttle as the .NET program |") for r in rows)


def test_bench_chart_without_matplotlib_is_a_usage_error() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        res = run("bench", "--chart", "x.png", "--count", "10", "--runs", "1")
        assert res.returncode == 2
        assert "needs matplotlib" in res.stderr
    else:
        pytest.skip("matplotlib is installed")
