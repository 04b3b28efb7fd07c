"""Every like-for-like row of issue 15 (and issue 16's client rows) in one run.

    python benchmarks/run_all.py                       # every row, 3 interleaved rounds
    python benchmarks/run_all.py --rows 'sendto_*,ping_sync' --rounds 5
    python benchmarks/run_all.py --quick               # short counts: a smoke run, figures meaningless
    python benchmarks/run_all.py --write-results       # also rewrites the generated part of RESULTS.md

Each row is one workload written the same way on every side (same threads, same throttling
primitive, same buffer sizes, same counts, which this script passes to all of them):

* dotnet_sockets, compiled send path and pure path (``DOTNET_SOCKETS_PURE=1``):
  ``workloads_dotnet_sockets.py``; and the compiled path with ``InlineCompletions`` on
  (``DOTNET_SOCKETS_INLINE_COMPLETIONS=1``) on the rows with callbacks: .NET Core runs the callback
  of an operation that finished inside ``Begin...`` inline, the package (by its contract) on a
  completion thread unless that option is on;
* .NET Core 3.1 (the ``dotnetcore2`` package's host, or ``$DOTNET_HOST``) and Mono, running
  ``dotnet/Bench.cs`` compiled with ``mcs``;
* asyncio and uvloop where the workload has a natural asyncio form (``workloads_asyncio.py``),
  and a plain Python ``socket.socket`` program written the same way wherever CPython sockets
  can take the row's shape (``workloads_plain.py``): what CPython itself reaches, the ceiling.

Every run is a fresh process; the runs of one round go through every side of every row before
the next round starts, so drift on a shared machine hits all sides alike.  Each run is bounded
in time (its own ``limit`` and a kill of its process group past ``limit + 30`` s); every loop in
the workloads is bounded in count and time; loopback only.  A side whose runtime is missing
(no ``mcs``, no ``mono``, no ``dotnetcore2``, no uvloop, no ``dotnet_sockets.TcpClient``) shows
``n/a``.  No test asserts a time: ``tests/test_benchmarks.py`` runs ``--quick`` on a few rows.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "src")
DOTNET_DIR = os.path.join(HERE, "dotnet")
BUILD = os.path.join(DOTNET_DIR, "build")

MARK_BEGIN = "<!-- run_all.py: generated from here -->"
MARK_END = "<!-- run_all.py: generated up to here -->"

# Counts and sizes, passed to every side alike.  "limit" bounds each run in seconds.
SEND = {"count": 100_000, "size": 32, "limit": 20}
SEND_Q = {"count": 2_000, "size": 32, "limit": 10}
RECV = {"bufsize": 2048, "rcvbuf": 1 << 20, "warmup": 0.3, "seconds": 1.5, "limit": 20}
RECV_Q = {"bufsize": 2048, "rcvbuf": 1 << 20, "warmup": 0.05, "seconds": 0.2, "limit": 10}
FEED = {"rate": 300_000, "size": 32}
FEED_Q = {"rate": 20_000, "size": 32}
PING = {"count": 5_000, "warmup": 500, "size": 32, "limit": 20}
PING_Q = {"count": 100, "warmup": 10, "size": 32, "limit": 10}
BULK64 = {"total": 256 << 20, "block": 65536, "limit": 20}
BULK64_Q = {"total": 4 << 20, "block": 65536, "limit": 10}
BULK1K = {"total": 16 << 20, "block": 1024, "limit": 20}
BULK1K_Q = {"total": 256 << 10, "block": 1024, "limit": 10}
ECHO = {"conns": 100, "rounds": 50, "size": 128, "limit": 20}
ECHO_Q = {"conns": 10, "rounds": 5, "size": 128, "limit": 10}
ACCEPT = {"count": 2_000, "limit": 20}
ACCEPT_Q = {"count": 50, "limit": 10}
CECHO = {"count": 5_000, "size": 128, "limit": 20}
CECHO_Q = {"count": 100, "size": 128, "limit": 10}

AIO = ("asyncio", "uvloop")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    workload: str  # the same name on the dotnet_sockets side and in Bench.cs
    params: dict[str, float]
    quick: dict[str, float]
    peers: dict[str, str] = field(default_factory=dict)  # python impl -> its workload
    feed: bool = False
    latency: bool = False  # value is a p50 in µs: lower is faster


def _aio(workload: str, plain: str | None = None) -> dict[str, str]:
    """The asyncio and uvloop peers' workload, and the plain socket's where the row has one."""
    peers = {impl: workload for impl in AIO}
    if plain is not None:
        peers["plain"] = plain
    return peers


ROWS = [
    Row("sendto_sync", "sync `SendTo(buffer, 0, n, SocketFlags.None, ep)` loop, 32 B (datagrams/s)",
        "sendto_sync", SEND, SEND_Q, {"plain": "sendto_sync"}),
    Row("sendto_sem", "`BeginSendTo` from the caller under a 64-slot semaphore; callback `EndSendTo` + Release",
        "sendto_sem", SEND, SEND_Q),
    Row("sendto_unthrottled", "the .NET page's unthrottled `BeginSendTo` loop; callback `EndSendTo`",
        "sendto_unthrottled", SEND, SEND_Q, _aio("sendto_transport")),
    Row("sendto_chains", "64 callback chains: the callback calls `EndSendTo` and begins the next send",
        "sendto_chains", SEND, SEND_Q),
    Row("recv_begin", "UDP receive server, `BeginReceiveFrom` re-armed in the callback (delivered/s)",
        "recv_begin", RECV, RECV_Q, _aio("recv_protocol"), feed=True),
    Row("recv_saea", "UDP receive server, `ReceiveFromAsync(e)` loop (delivered/s)",
        "recv_saea", RECV, RECV_Q, _aio("recv_protocol"), feed=True),
    Row("recv_await", "UDP receive server, `await ReceiveFromAsync` loop (delivered/s)",
        "recv_await", RECV, RECV_Q, _aio("recv_sock"), feed=True),
    Row("ping_sync", "UDP ping-pong p50 µs, sync `SendTo` + `ReceiveFrom`, echo thread",
        "ping_sync", PING, PING_Q, {"plain": "ping_sync", **_aio("ping_protocol")}, latency=True),
    Row("ping_begin", "UDP ping-pong p50 µs, `BeginSendTo`/`BeginReceiveFrom` callbacks",
        "ping_begin", PING, PING_Q, _aio("ping_protocol"), latency=True),
    Row("wake_begin", "UDP p50 µs of a report to an idle process: `SendTo`, then a `BeginReceiveFrom` callback",
        "wake_begin", PING, PING_Q, latency=True),
    Row("bulk64_begin", "TCP bulk, 64 KiB blocks, `BeginSend`/`BeginReceive` chains (bytes/s)",
        "bulk_begin", BULK64, BULK64_Q, _aio("bulk_sock", plain="stream_rw")),
    Row("bulk64_await", "TCP bulk, 64 KiB blocks, `await SendAsync`/`await ReceiveAsync` (bytes/s)",
        "bulk_await", BULK64, BULK64_Q, _aio("bulk_sock", plain="stream_rw")),
    Row("bulk1k_begin", "TCP bulk, 1 KiB blocks, `BeginSend`/`BeginReceive` chains (bytes/s)",
        "bulk_begin", BULK1K, BULK1K_Q, _aio("bulk_sock", plain="stream_rw")),
    Row("bulk1k_await", "TCP bulk, 1 KiB blocks, `await SendAsync`/`await ReceiveAsync` (bytes/s)",
        "bulk_await", BULK1K, BULK1K_Q, _aio("bulk_sock", plain="stream_rw")),
    Row("echo_begin", "TCP echo, 100 connections, 128 B request/response, Begin/End (round trips/s)",
        "echo_begin", ECHO, ECHO_Q, _aio("echo_sock", plain="echo_selectors")),
    Row("echo_await", "TCP echo, 100 connections, 128 B request/response, awaitables (round trips/s)",
        "echo_await", ECHO, ECHO_Q, _aio("echo_sock", plain="echo_selectors")),
    Row("accept_begin", "connections accepted/s: `BeginAccept` server; the client connects, sends 1 B, closes",
        "accept_begin", ACCEPT, ACCEPT_Q, _aio("accept_sock", plain="accept_loop")),
    Row("stream64", "`NetworkStream.Write`/`Read`, 64 KiB blocks, writer thread + reader (bytes/s)",
        "stream_rw", BULK64, BULK64_Q, _aio("stream_rw", plain="stream_rw")),
    Row("stream1k", "`NetworkStream.Write`/`Read`, 1 KiB blocks, writer thread + reader (bytes/s)",
        "stream_rw", BULK1K, BULK1K_Q, _aio("stream_rw", plain="stream_rw")),
    Row("client_echo", "`TcpListener` + `TcpClient` echo over `NetworkStream`, 128 B (round trips/s)",
        "client_echo", CECHO, CECHO_Q, _aio("client_echo", plain="client_echo")),
]  # fmt: skip

SIDES = ["compiled", "inline", "pure", "core", "mono", "asyncio", "uvloop", "plain"]
# The rows whose callbacks can run inline: .NET Core runs the callback of an operation that
# finished inside Begin... on the caller's thread; the package runs it on a completion thread
# unless InlineCompletions is on (the contract's choice), and the "inline" side turns it on.
INLINE_WORKLOADS = frozenset(
    {"sendto_sem", "sendto_unthrottled", "sendto_chains", "recv_begin", "ping_begin", "bulk_begin",
     "echo_begin", "accept_begin"}
)  # fmt: skip
SIDE_TITLES = {
    "compiled": "dotnet_sockets compiled",
    "inline": "compiled, InlineCompletions",
    "pure": "dotnet_sockets pure",
    "core": ".NET Core 3.1",
    "mono": "Mono",
    "asyncio": "asyncio",
    "uvloop": "uvloop",
    "plain": "plain socket",
}
# (numerator side, denominator side, target, label); a target is met when the ratio >= it.
# A None target is a figure for information: how far CPython's own sockets get against .NET Core.
RATIOS: list[tuple[str, str, float | None, str]] = [
    ("compiled", "core", 1.0, "compiled / .NET Core"),
    ("compiled", "asyncio", 1.0, "compiled / asyncio"),
    ("pure", "core", 0.5, "pure / .NET Core"),
    ("compiled", "uvloop", 1.0, "compiled / uvloop (stretch)"),
    ("compiled", "plain", 1 / 1.5, "compiled / plain"),
    ("inline", "core", None, "compiled with InlineCompletions / .NET Core"),
    ("plain", "core", None, "plain / .NET Core (CPython's ceiling)"),
]


# -- the runtimes ---------------------------------------------------------------------------------


def dotnet_host() -> str | None:
    """The .NET Core host: $DOTNET_HOST, or the one the PyPI package dotnetcore2 ships."""
    if os.environ.get("DOTNET_HOST"):
        return os.environ["DOTNET_HOST"]
    try:
        import dotnetcore2  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    host = os.path.join(os.path.dirname(dotnetcore2.__file__), "bin", "dotnet")
    return host if os.path.exists(host) else None


def bench_exe() -> str | None:
    """Bench.cs compiled with mcs (again whenever the source is newer), or None without mcs."""
    mcs = shutil.which("mcs")
    src = os.path.join(DOTNET_DIR, "Bench.cs")
    exe = os.path.join(BUILD, "Bench.exe")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    if mcs is None:
        return None
    os.makedirs(BUILD, exist_ok=True)
    shutil.copy(os.path.join(DOTNET_DIR, "Bench.runtimeconfig.json"), BUILD)
    # Built beside and renamed into place, so two runs at once never see half a file.
    tmp = f"{exe}.{os.getpid()}.exe"
    subprocess.run([mcs, "-optimize+", "-nowarn:219", "-out:" + tmp, src], check=True, capture_output=True, timeout=300)
    os.replace(tmp, exe)
    return exe


def accelerated() -> bool:
    """Whether the compiled send path is built for this interpreter."""
    env = _python_env(pure=False)
    code = "from dotnet_sockets import _accel; print(_accel.ACCELERATED)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "True"


def _python_env(pure: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("DOTNET_SOCKETS_TRACE", None)
    env.pop("DOTNET_SOCKETS_PURE", None)
    env.pop("DOTNET_SOCKETS_INLINE_COMPLETIONS", None)
    if pure:
        env["DOTNET_SOCKETS_PURE"] = "1"
    return env


def command(side: str, workload: str, params: dict[str, float]) -> tuple[list[str], dict[str, str]] | str:
    """The command line and environment of one run, or why this side cannot run here."""
    args = [f"{k}={v}" for k, v in params.items()]
    child = os.path.join(HERE, "child.py")
    if side in ("compiled", "pure", "inline"):
        env = _python_env(side == "pure")
        if side == "inline":
            env["DOTNET_SOCKETS_INLINE_COMPLETIONS"] = "1"
        return [sys.executable, child, "dotnet_sockets", workload, *args], env
    if side in ("asyncio", "uvloop", "plain"):
        return [sys.executable, child, side, workload, *args], _python_env(False)
    exe = bench_exe()
    if exe is None:
        return "mcs is not installed"
    env = dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    if side == "core":
        host = dotnet_host()
        return ([host, exe, workload, *args], env) if host else "no .NET Core host (pip install dotnetcore2)"
    mono = shutil.which("mono")
    return ([mono, exe, workload, *args], env) if mono else "mono is not installed"


# -- one run ----------------------------------------------------------------------------------------


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def run_once(side: str, workload: str, params: dict[str, float], feed: dict[str, float] | None) -> dict[str, Any]:
    """One fresh process; its JSON line, or {"error": ...} / {"na": ...}."""
    cmd = command(side, workload, params)
    if isinstance(cmd, str):
        return {"na": cmd}
    argv, env = cmd
    timeout = float(params.get("limit", 20)) + 30
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    lines: list[str] = []
    # Set by the PORT line, or by the end of the output: a side that exits without announcing a
    # port (uvloop not installed) must not hold the row for the whole timeout.
    port_seen = threading.Event()
    ended = threading.Event()
    stderr: list[str] = []

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("PORT "):
                port_seen.set()
        ended.set()
        port_seen.set()

    def read_err() -> None:
        assert proc.stderr is not None
        stderr.append(proc.stderr.read())

    threading.Thread(target=read_out, daemon=True).start()
    threading.Thread(target=read_err, daemon=True).start()
    feeder: subprocess.Popen[str] | None = None
    try:
        if feed is not None:
            # The receiver announces its port; then the feeder runs a little longer than the window.
            if not port_seen.wait(timeout) and not ended.is_set():
                return {"error": "no PORT line in time"}
            port = next((ln.split()[1] for ln in lines if ln.startswith("PORT ")), None)
            if port is not None:
                seconds = float(params["warmup"]) + float(params["seconds"]) + 1.0
                feeder = subprocess.Popen(
                    [sys.executable, os.path.join(HERE, "feeder.py"), port, str(feed["rate"]), str(seconds),
                     str(feed["size"])],
                    stdout=subprocess.PIPE, text=True, start_new_session=True,
                )  # fmt: skip
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s, killed"}
        ended.wait(10)
    finally:
        _kill(proc)
        if feeder is not None:
            feeder.terminate()  # it prints what it sent, then exits
            try:
                feeder.wait(10)
            except subprocess.TimeoutExpired:
                _kill(feeder)
    result = next((json.loads(ln) for ln in reversed(lines) if ln.startswith("{")), None)
    if result is None:
        tail = (stderr[0] if stderr else "").strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)[-300:]}
    if feeder is not None and feeder.stdout is not None:
        fed = feeder.stdout.read().strip()
        if fed:
            result["fed"] = json.loads(fed)["rate"]
    return dict(result)


# -- the rounds and the table -------------------------------------------------------------------


@dataclass
class Series:
    runs: list[dict[str, Any]] = field(default_factory=list)

    def values(self) -> list[float]:
        return [r["value"] for r in self.runs if "value" in r and "na" not in r and r.get("unit") != "n/a"]

    def median(self) -> float | None:
        v = self.values()
        return statistics.median(v) if v else None

    def note(self) -> str:
        for r in self.runs:
            if "na" in r:
                return "n/a: " + str(r["na"])
        errors = [r["error"] for r in self.runs if "error" in r]
        return ("error: " + errors[0]) if errors else ""

    def partial(self) -> bool:
        return any(r.get("partial") and "na" not in r for r in self.runs)

    def extra(self, key: str) -> float | None:
        v = [r[key] for r in self.runs if key in r]
        return statistics.median(v) if v else None


def _side_workload(row: Row, side: str) -> str | None:
    if side in ("compiled", "pure", "core", "mono"):
        return row.workload
    if side == "inline":
        return row.workload if row.workload in INLINE_WORKLOADS else None
    return row.peers.get(side)


def plan(rows: list[Row], sides: list[str], quick: bool) -> dict[tuple[str, str, str], tuple[Row, str, str]]:
    """Every distinct run: (side, workload, params) -> (row, side, workload); shared peers run once."""
    runs: dict[tuple[str, str, str], tuple[Row, str, str]] = {}
    for row in rows:
        params = row.quick if quick else row.params
        for side in sides:
            if side in ("compiled", "pure", "core", "mono"):
                workload = row.workload
            elif side == "inline" and row.workload in INLINE_WORKLOADS:
                workload = row.workload
            elif side in row.peers:
                workload = row.peers[side]
            else:
                continue
            runs.setdefault((side, workload, json.dumps(params, sort_keys=True)), (row, side, workload))
    return runs


def fmt(v: float | None, latency: bool) -> str:
    if v is None:
        return "-"
    if latency:
        return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def speed_ratio(a: float | None, b: float | None, latency: bool) -> float | None:
    """a against b, > 1 when a is faster (for latency rows, the inverse of the p50s)."""
    if not a or not b:
        return None
    return b / a if latency else a / b


def table(rows: list[Row], sides: list[str], results: dict[tuple[str, str, str], Series], quick: bool) -> list[str]:
    """Two Markdown tables: each side's median (min-max), then the ratios beside their targets."""
    shown = [s for s in SIDES if s in sides]
    figures = ["| row | " + " | ".join(SIDE_TITLES[s] for s in shown) + " |", "|---|" + "---|" * len(shown)]
    ratios = [
        "| row | "
        + " | ".join(label if t is None else f"{label} (target >= {t:.2f})" for _, _, t, label in RATIOS)
        + " |",
        "|---|" + "---|" * len(RATIOS),
    ]
    for row in rows:
        params = json.dumps(row.quick if quick else row.params, sort_keys=True)
        med: dict[str, float | None] = {}
        cells = [f"`{row.key}`: {row.label}"]
        for s in shown:
            workload = _side_workload(row, s)
            series = results.get((s, workload or "", params))
            med[s] = series.median() if series is not None else None
            cells.append("" if workload is None or series is None else _cell(series, row))
        figures.append("| " + " | ".join(cells) + " |")
        cells = [f"`{row.key}`"]
        for num, den, target, _ in RATIOS:
            r = speed_ratio(med.get(num), med.get(den), row.latency)
            if r is None:
                cells.append("")
            elif target is None or (den == "plain" and not row.latency):
                cells.append(f"{r:.2f}")  # against CPython's own sockets, for information: no target
            else:
                cells.append(f"{r:.2f} {'met' if r >= target else 'short'}")
        ratios.append("| " + " | ".join(cells) + " |")
    return figures + [""] + ratios


def _cell(series: Series, row: Row) -> str:
    m = series.median()
    if m is None:
        return series.note() or "-"
    v = series.values()
    text = f"{fmt(m, row.latency)} ({fmt(min(v), row.latency)}-{fmt(max(v), row.latency)})"
    p99 = series.extra("p99")
    if row.latency and p99 is not None:
        text += f", p99 {fmt(p99, True)}"
    fed = series.extra("fed")
    if row.feed and fed is not None:
        text += f", fed at {fmt(fed, False)}/s"
    if series.partial():
        text += ", partial (hit its time limit)"
    if series.note():
        text += f" [{series.note()}]"
    return text


def machine(sides: list[str]) -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}"]
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        versions.append(f"uvloop {uvloop.__version__}")
    except ImportError:
        versions.append("uvloop not installed")
    try:
        import dotnetcore2  # type: ignore[import-not-found, import-untyped, unused-ignore]

        versions.append(f".NET Core {getattr(dotnetcore2, '__version__', '3.1')} (dotnetcore2)")
    except ImportError:
        versions.append(
            ".NET Core: " + ("the host in $DOTNET_HOST" if os.environ.get("DOTNET_HOST") else "not installed")
        )
    mono = shutil.which("mono")
    if mono:
        first = subprocess.run([mono, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()
        versions.append(first[0].split(" (")[0] if first else "Mono")
    else:
        versions.append("Mono not installed")
    load = os.getloadavg()
    return [
        f"Machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"load average {load[0]:.1f} at the start.",
        "Runtimes: " + ", ".join(versions) + ".",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", help="comma-separated row keys or shell patterns (e.g. 'sendto_*,ping_sync')")
    p.add_argument("--sides", help="comma-separated sides to run: " + ",".join(SIDES))
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each run a fresh process")
    p.add_argument("--quick", action="store_true", help="short counts, for a smoke run (figures meaningless)")
    p.add_argument("--write-results", action="store_true", help="rewrite the generated part of RESULTS.md")
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"), help="the file --write-results rewrites")
    p.add_argument(
        "--src",
        help="the src/ directory whose dotnet_sockets the dotnet_sockets sides run (default: this checkout's); "
        "for measuring another branch's code with this harness",
    )
    p.add_argument("--list", action="store_true", help="list the rows and exit")
    args = p.parse_args(argv)
    if args.src:
        global SRC
        SRC = os.path.abspath(args.src)
    if args.list:
        for row in ROWS:
            print(f"{row.key:20} {row.label}")
        return 0
    rows = ROWS
    if args.rows:
        pats = [x.strip() for x in args.rows.split(",") if x.strip()]
        rows = [r for r in ROWS if any(fnmatch.fnmatch(r.key, pat) for pat in pats)]
        if not rows:
            p.error(f"no row matches {args.rows!r}; see --list")
    sides = SIDES if not args.sides else [s.strip() for s in args.sides.split(",")]
    unknown = [s for s in sides if s not in SIDES]
    if unknown:
        p.error(f"unknown side(s) {', '.join(unknown)}; choose from {', '.join(SIDES)}")
    compiled_built = accelerated()
    started = datetime.datetime.now(datetime.UTC)
    info = machine(sides)
    for line in info:
        print("# " + line, flush=True)
    if not compiled_built:
        print("# the compiled send path is not built here: the 'compiled' side runs the pure path", flush=True)
    runs = plan(rows, sides, args.quick)
    results: dict[tuple[str, str, str], Series] = {k: Series() for k in runs}
    for rnd in range(args.rounds):
        for key, (row, side, workload) in runs.items():
            params = row.quick if args.quick else row.params
            feed = (FEED_Q if args.quick else FEED) if row.feed else None
            res = run_once(side, workload, params, feed)
            results[key].runs.append(res)
            shown = res.get("value") if "value" in res else (res.get("na") or res.get("error"))
            print(f"round {rnd + 1}/{args.rounds} {side:9} {workload:20} {shown}", flush=True)
    lines = table(rows, sides, results, args.quick)
    sems = {r.get("semaphore") for s in results.values() for r in s.runs if r.get("semaphore")}
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    host = "DOTNET_HOST=... " if os.environ.get("DOTNET_HOST") else ""
    cmd = (
        f"{host}{python} benchmarks/run_all.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    )
    ended = datetime.datetime.now(datetime.UTC)
    notes = [
        f"Command: `{cmd}`, {started:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC, {args.rounds} interleaved round(s), "
        "each run a fresh process; cells are median (min-max) of the rounds.",
        *info,
        f"dotnet_sockets: {_source_of(SRC)}. Compiled send path: "
        + ("built" if compiled_built else "NOT built (the compiled column ran the pure path)")
        + ". Semaphore on the Python side of `sendto_sem`: "
        + (", ".join(sorted(s for s in sems if s)) or "-")
        + ".",
        "Ratios are speed ratios (> 1: dotnet_sockets faster; for p50 rows the inverse ratio of the p50s); "
        "`compiled / plain` on `ping_sync` is the issue's 'p50 within 1.5x of a plain blocking socket' (>= 0.67); "
        "on the other rows it and `plain / .NET Core` are for information: the plain side is CPython's own "
        "`socket.socket` written the same way, the ceiling a Python library can reach.",
    ]
    print()
    print("\n".join(notes))
    print()
    print("\n".join(lines))
    if args.write_results:
        write_results(args.results, notes, lines, "" if not args.src else f" (dotnet_sockets from `{args.src}`)")
    failed = [f"{side} {workload}: {r['error']}" for (side, workload, _), s in results.items() for r in s.runs
              if "error" in r]  # fmt: skip
    for line in failed:
        print("# failed: " + line, file=sys.stderr)
    return 1 if failed else 0


def _source_of(src: str) -> str:
    """Which code the dotnet_sockets sides ran: the commit of the checkout holding ``src``."""
    try:
        out = subprocess.run(
            ["git", "-C", src, "log", "-1", "--date=short", "--format=%h of %cd"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        dirty = subprocess.run(
            ["git", "-C", src, "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except OSError:
        return f"`{src}`"
    if out.returncode != 0:
        return f"`{src}` (not a git checkout)"
    head = out.stdout.strip()
    return f"commit {head}" + (" plus uncommitted changes" if dirty else "")


def write_results(path: str, notes: list[str], lines: list[str], source: str = "") -> None:
    """Replace this Python version's generated section of ``path`` (append it the first time)."""
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
    tag = f"## Like-for-like rows, Python {platform.python_version()}{source}"
    section = f"{MARK_BEGIN}\n{tag}\n\n" + "\n\n".join(notes) + "\n\n" + "\n".join(lines) + f"\n{MARK_END}\n"
    start = old.find(MARK_BEGIN + "\n" + tag)
    if start >= 0:
        end = old.index(MARK_END, start) + len(MARK_END) + 1
        new = old[:start] + section + old[end:]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    sys.exit(main())
