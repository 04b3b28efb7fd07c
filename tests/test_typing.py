"""What a new user writes type-checks: README and docs blocks and the examples pass ``mypy --strict``
and ``pyright``, as they are, against the library in this tree.

One run of each checker covers every block and example, plus two files of our own: ``surface.py``
uses what static tools must see (the PEP 8 spellings, the overloads, ``e.Completed += handler``,
the ``LocalEndPoint`` narrowing the porting guide documents) and must pass too; ``canary.py`` holds
calls that are wrong and must be reported on exactly its marked lines, so a checker that quietly
stopped checking (the package not found, everything ``Any``) fails the test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

import background
from conftest import PURE_PASS, same_in_both_passes
from test_docs import PYTHON_BLOCKS, _missing

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

SURFACE = '''\
from __future__ import annotations

import asyncio
import datetime
import io

from dotnet_sockets import (AddressFamily, CancellationToken, IAsyncResult, IPAddress, IPEndPoint, LingerOption,
                            NetworkStream, ProtocolType, Socket, SocketAsyncEventArgs, SocketFlags,
                            SocketReceiveFromResult, SocketType, TcpClient, TcpListener, UdpClient, UdpReceiveResult)


def on_completed(sender: object, e: SocketAsyncEventArgs) -> None:
    pass


def use(s: Socket, buf: bytearray, ep: IPEndPoint) -> None:
    s.bind(IPEndPoint(IPAddress.loopback, 0))
    s.receive_timeout = 5000
    s.Blocking = s.blocking
    local = s.local_end_point
    assert isinstance(local, IPEndPoint)        # the documented narrowing
    port: int = local.port + local.Port
    n: int = s.send_to(b"x", local) + s.SendTo(b"x", SocketFlags.None_, local)
    n += s.send_to(buf, 0, 1, 0, remote_ep=local)
    n += s.Send(b"x") + s.Send(b"x", SocketFlags.Peek) + s.Send([b"a", memoryview(b"b")], 0)
    n += s.receive(buf, 0, 4, SocketFlags.None_)
    r: SocketReceiveFromResult = s.receive_from(buf, IPEndPoint(IPAddress.any, 0))
    got, sender = r
    n += got + r.received_bytes + r.ReceivedBytes + port
    ar: IAsyncResult = s.begin_send(b"x", 0, 1, 0, None, None)
    n += s.end_send(ar)
    s.Connect(IPAddress.Loopback, 9)
    s.connect("localhost", 9)
    s.Connect([IPAddress.Loopback], 9)
    s.connect(remote_ep=ep)
    e = SocketAsyncEventArgs()
    e.Completed += on_completed
    e.completed -= on_completed
    e.Completed += lambda sender, args: None
    e.set_buffer(buf, 0, len(buf))
    e.SetBuffer(0, 2)
    pending: bool = s.send_to_async(e)
    del pending, sender


async def aio(s: Socket, ep: IPEndPoint) -> int:
    r = await s.receive_from_async(bytearray(4), SocketFlags.None_, ep)
    return await s.SendToAsync(b"x", SocketFlags.None_, ep) + r.ReceivedBytes


dual = Socket(SocketType.Dgram, ProtocolType.Udp)
v4 = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
asyncio.run(aio(v4, IPEndPoint.parse("127.0.0.1:9")))


# The client layer, typed as .NET types it.
def clients(c: TcpClient, u: UdpClient, lst: TcpListener, stream: NetworkStream) -> int:
    sock: Socket = c.Client                       # Socket, not Socket | None
    remote = c.Client.RemoteEndPoint
    u.Client.ReceiveTimeout = 5000
    c.NoDelay = not c.no_delay
    c.ReceiveTimeout = datetime.timedelta(seconds=5)
    n: int = c.receive_timeout + c.SendTimeout + c.ReceiveBufferSize + c.send_buffer_size
    linger: LingerOption = c.LingerState
    u.Ttl = u.ttl + 1
    flag: bool = u.DontFragment or u.MulticastLoopback or u.EnableBroadcast or u.exclusive_address_use
    ep = lst.LocalEndpoint
    assert isinstance(ep, IPEndPoint)             # the documented narrowing
    reader = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8")
    writer = io.TextIOWrapper(io.BufferedWriter(stream), encoding="utf-8", line_buffering=True)
    line: str = reader.readline()
    writer.write(line)
    data: bytes = stream.read(4) + stream.read() + stream.Read(None)
    n += stream.Read(bytearray(4)) + stream.Read(bytearray(4), 0, 4) + stream.readinto(bytearray(2))
    c.EndConnect(c.BeginConnect(IPAddress.Loopback, ep.Port, None, None))
    n += u.EndSend(u.BeginSend(b"x", 1, ep, None, None)) + u.Send(b"x", 1, "localhost", 9)
    got, sender = u.Receive(ep)
    del sock, remote, linger, flag, data, sender
    return n + len(got) + ep.Port


async def clients_async(c: TcpClient, u: UdpClient, lst: TcpListener, stream: NetworkStream,
                        token: CancellationToken) -> int:
    await c.ConnectAsync(IPAddress.Loopback, 9, token)
    await c.connect_async("localhost", 9, cancellation_token=token)
    accepted: TcpClient = await lst.AcceptTcpClientAsync(token)
    ep = IPEndPoint(IPAddress.Loopback, 9)
    n: int = await u.SendAsync(b"x", ep, token) + await u.send_async(b"x", 1, "localhost", 9, token)
    r: UdpReceiveResult = await u.ReceiveAsync(token)
    n += await stream.ReadAsync(bytearray(4), token) + await stream.read_async(bytearray(4), 0, 4, token)
    await stream.WriteAsync(b"x", 0, 1, token)
    await stream.ReadExactlyAsync(bytearray(4), cancellation_token=token)
    await stream.CopyToAsync(accepted.GetStream(), 4096, token)
    return n + len(r.Buffer)
'''

# Each line marked "# error" must be reported, and nothing else.
CANARY = '''\
from dotnet_sockets import (AddressFamily, IPAddress, NetworkStream, ProtocolType, Socket, SocketType, TcpClient,
                            TcpListener, UdpClient)

s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
s.Send(b"x", "DontRoute")  # error: flags are not a str
s.receive_from(bytearray(4))  # error: no remote_ep
s.bnid(None)  # error: no such member
Socket(ProtocolType.Udp)  # error: no such constructor
port: int = s.LocalEndPoint.Port  # error: EndPoint | None has no Port
c = TcpClient()
c.NoDelay = "yes"  # error: NoDelay is a bool
u = UdpClient()
u.Ttl = None  # error: Ttl is an int
port = TcpListener(IPAddress.Loopback, 0).LocalEndpoint.Port  # error: an EndPoint has no Port
pending = u.SendAsync(b"x", 1, 2)  # error: no overload takes (datagram, bytes, int)
reading = NetworkStream(s).ReadAsync(bytearray(4), 0)  # error: an offset needs a count
c.BeginConnect(IPAddress.Loopback, 9, "callback", None)  # error: the callback is not a str
NetworkStream(s).Write("text")  # error: a str is not bytes (C#'s Encoding.GetBytes)
'''


def _sources(tmp_path: Path) -> Path:
    out = tmp_path / "typing"
    out.mkdir()
    for block in PYTHON_BLOCKS:
        if block.requires and _missing(block.requires):
            continue  # test_docs says it is skipped; it cannot type-check before its feature exists
        name = re.sub(r"\W", "_", f"{block.path.stem}_line{block.line}")
        (out / f"{name}.py").write_text(block.code, encoding="utf-8")
    for example in EXAMPLES:
        shutil.copy(example, out / f"example_{example.name}")
    (out / "surface.py").write_text(SURFACE, encoding="utf-8")
    (out / "canary.py").write_text(CANARY, encoding="utf-8")
    return out


def _expected_canary_lines() -> set[int]:
    return {i for i, line in enumerate(CANARY.splitlines(), 1) if "# error" in line}


def _check(reported: dict[str, set[int]], output: str) -> None:
    canary = reported.pop("canary.py", set())
    assert not reported, f"type errors in what a user writes:\n{output}"
    assert canary == _expected_canary_lines(), f"the canary's wrong calls were not all reported:\n{output}"


def _mypy_job() -> background.Job:
    where = background.workdir("mypy")
    src = _sources(where)
    env = dict(os.environ, MYPYPATH=str(ROOT / "src"))
    argv = [sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases", "--cache-dir", str(where / "cache"),
            "--no-error-summary", "--hide-error-context", "."]  # fmt: skip
    return background.Job("mypy docs and examples", argv, cwd=src, env=env, timeout=240)


def _pyright_job(pyright: str) -> background.Job:
    src = _sources(background.workdir("pyright"))
    config = {"extraPaths": [str(ROOT / "src")], "pythonVersion": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    (src / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    argv = [pyright, "--outputjson", "--pythonpath", sys.executable, "."]
    return background.Job("pyright docs and examples", argv, cwd=src, timeout=240)


def background_jobs(selected: set[str]) -> list[background.Job]:
    """Both checkers, ahead of their tests (which the pure pass skips)."""
    jobs = []
    if PURE_PASS:
        return jobs
    if "test_mypy_strict_accepts_docs_and_examples" in selected and importlib.util.find_spec("mypy") is not None:
        jobs.append(_mypy_job())
    pyright = _pyright()
    if "test_pyright_accepts_docs_and_examples" in selected and pyright is not None:
        jobs.append(_pyright_job(pyright))
    return jobs


@same_in_both_passes
def test_mypy_strict_accepts_docs_and_examples() -> None:
    pytest.importorskip("mypy")
    proc = background.outcome(_mypy_job())
    reported: dict[str, set[int]] = {}
    for m in re.finditer(r"^([\w.]+):(\d+): error:", proc.stdout, re.M):
        reported.setdefault(m[1], set()).add(int(m[2]))
    assert proc.returncode in (0, 1) and not proc.stderr, proc.stdout + proc.stderr
    _check(reported, proc.stdout)


def _pyright() -> str | None:
    found = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    return found


@same_in_both_passes
def test_pyright_accepts_docs_and_examples() -> None:
    pyright = _pyright()
    if pyright is None:
        pytest.skip("pyright is not installed (it is in the 'test' extra: pip install -e '.[test]')")
    proc = background.outcome(_pyright_job(pyright))
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright did not run (it needs node):\n{proc.stdout}\n{proc.stderr}")
    reported: dict[str, set[int]] = {}
    lines = []
    for d in result["generalDiagnostics"]:
        if d["severity"] != "error":
            continue
        name = Path(d["file"]).name
        reported.setdefault(name, set()).add(d["range"]["start"]["line"] + 1)
        lines.append(f"{name}:{d['range']['start']['line'] + 1}: {d['message']}")
    _check(reported, "\n".join(lines))
