"""Where a like-for-like row's time goes: ``python benchmarks/profile_row.py ROW``.

Runs the row's dotnet_sockets workload (``workloads_dotnet_sockets.py``, the same program and
counts as ``run_all.py``), and its plain ``socket.socket`` peer when the row has one, each in
fresh processes, and prints for each:

* the figure, the threads that ran and, per thread group, the context switches (voluntary and
  involuntary, from ``/proc/self/task/*/status``, and those of threads that ended, read as they
  ended) and the CPU seconds; the process's context switches per operation (``getrusage``) and
  the cores it kept busy (CPU time / wall time: one GIL lets Python run on one core at a time);
* the GIL's hold per operation: the user-mode CPU time per operation (CPython's user-mode work
  runs holding the GIL; the socket module's system calls let go of it, the compiled send
  path's keep it, so on the send rows the kernel time is held too);
* the GIL's hand-off cost: a probe thread sleeps 0.5 ms in a loop and measures how late it wakes;
  its lateness beyond an idle process's is the time a thread woken by the kernel (a completion
  thread woken by epoll, a reader woken by data) waits for the GIL.  And the figure again under
  other ``sys.setswitchinterval`` values: a row whose threads hand the GIL over by force (the
  running thread is asked to drop it after the interval) moves with it; a row whose threads
  give it up in blocking system calls does not;
* the Python calls per operation (``cProfile`` on every thread; on Python 3.12+ one profiler
  sees every thread, so its times mix threads) by thread group, and the top functions.  The
  compiled path's ``SendTo``, ``BeginSendTo`` and ``EndSendTo`` are C callables that cProfile
  does not see: there the send rows' calls are the callback's alone.

An operation is a datagram, a round trip, a connection, or a block for the byte rows.

    python benchmarks/profile_row.py stream1k
    python benchmarks/profile_row.py stream1k --pure           # the pure send path
    python benchmarks/profile_row.py --short                    # every row the tables call short
    python benchmarks/profile_row.py echo_begin --quick         # short counts: a smoke run

Figures, never a test: nothing asserts a time.  Every run is bounded by the row's ``limit``
(and killed past ``limit + 30`` s), as in ``run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# The rows short against .NET Core 3.1 in RESULTS.md's tables.
SHORT = [
    "bulk1k_begin",
    "stream1k",
    "accept_begin",
    "echo_await",
    "echo_begin",
    "sendto_chains",
    "bulk1k_await",
    "client_echo",
    "sendto_sem",
    "sendto_unthrottled",
]
SWITCH = (0.0005, 0.05)  # seconds; CPython's default is 0.005
PROBE_SLEEP = 0.0005


# -- the child: one workload, instrumented -------------------------------------------------------


def _task_counts(tid: int | str) -> tuple[int, int, float, float]:
    """(voluntary, involuntary context switches, CPU seconds, run-queue seconds) of one thread.

    The run-queue time is how long the thread was ready to run but had no core: on a shared
    machine, the other processes' share; here also this process's own threads'.
    """
    vol = invol = 0
    with open(f"/proc/self/task/{tid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                vol = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches"):
                invol = int(line.split()[1])
    with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as f:
        on_cpu, waiting = f.read().split()[:2]  # nanoseconds
    return vol, invol, int(on_cpu) / 1e9, int(waiting) / 1e9


def _group(name: str) -> str:
    """A thread's group: its name without the numbers that tell its kind's members apart."""
    return re.sub(r"\s*\d+$", "", re.sub(r"Thread-\d+", "Thread", name)) or name


class _Recorder:
    """Per-thread context switches and CPU, and per-thread profilers, read when the run reports."""

    def __init__(self, mode: str) -> None:
        import threading

        self.mode = mode
        self.ended: list[tuple[str, int, int, float, float]] = []
        self.ended_tids: set[int] = set()
        self.names: dict[int, str] = {}
        self.profiles: list[tuple[str, Any]] = []
        self.base: dict[int, tuple[int, int, float, float]] = {}
        self.lock = threading.Lock()
        self.probe: list[float] = []
        self.profiling = mode == "cprofile"
        self.per_thread_profiles = self.profiling and sys.version_info < (3, 12)

    def install(self) -> None:
        import threading

        recorder = self
        inner = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

        def bootstrap_inner(thread: threading.Thread) -> None:
            tid = threading.get_native_id()
            recorder.names[tid] = thread.name
            prof = None
            if recorder.per_thread_profiles:
                import cProfile

                prof = cProfile.Profile()
                with recorder.lock:
                    recorder.profiles.append((thread.name, prof))
                prof.enable()
            try:
                inner(thread)
            finally:
                if prof is not None:
                    prof.disable()
                try:
                    vol, invol, cpu, queued = _task_counts(tid)
                    with recorder.lock:
                        recorder.ended.append((thread.name, vol, invol, cpu, queued))
                        recorder.ended_tids.add(tid)
                except OSError:
                    pass

        threading.Thread._bootstrap_inner = bootstrap_inner  # type: ignore[attr-defined]

    def start(self) -> None:
        """Called just before the workload: the baseline, the main thread's profiler, the probe."""
        import resource
        import threading
        import time

        self.t0 = time.perf_counter()
        self.ru0 = resource.getrusage(resource.RUSAGE_SELF)
        main = threading.get_native_id()
        self.names[main] = "main"
        self.base = {int(t): _task_counts(t) for t in os.listdir("/proc/self/task")}
        if self.profiling:
            import cProfile

            prof = cProfile.Profile()
            self.profiles.append(("main" if self.per_thread_profiles else "all threads", prof))
            prof.enable()
        if self.mode == "probe":
            threading.Thread(target=self._probe, name="probe", daemon=True).start()

    def _probe(self) -> None:
        import time

        perf, sleep, late = time.perf_counter, time.sleep, self.probe
        for _ in range(200_000):  # bounded; the run ends the process long before
            t = perf()
            sleep(PROBE_SLEEP)
            late.append(perf() - t - PROBE_SLEEP)

    def finish(self, line: dict[str, Any]) -> dict[str, Any]:
        import gc
        import resource
        import time

        gc.disable()  # nothing may run between the snapshots below
        wall = time.perf_counter() - self.t0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        groups: dict[str, list[float]] = {}

        def add(name: str, vol: float, invol: float, cpu: float, queued: float) -> None:
            g = groups.setdefault(_group(name), [0, 0.0, 0.0, 0.0, 0.0])
            g[0] += 1
            g[1] += vol
            g[2] += invol
            g[3] += cpu
            g[4] += queued

        for name, vol, invol, cpu, queued in list(self.ended):
            add(name, vol, invol, cpu, queued)
        for t in os.listdir("/proc/self/task"):
            tid = int(t)
            if tid in self.ended_tids:  # counted as it ended; its last instants are not a run's
                continue
            try:
                vol, invol, cpu, queued = _task_counts(t)
            except OSError:
                continue
            b = self.base.get(tid, (0, 0, 0.0, 0.0))
            add(self.names.get(tid, f"unnamed {tid}"), vol - b[0], invol - b[1], cpu - b[2], queued - b[3])
        line["wall"] = wall
        line["threads"] = {
            k: {"n": int(v[0]), "vol": v[1], "invol": v[2], "cpu": v[3], "queued": v[4]} for k, v in groups.items()
        }
        line["ctx"] = (ru.ru_nvcsw - self.ru0.ru_nvcsw) + (ru.ru_nivcsw - self.ru0.ru_nivcsw)
        line["ctx_vol"] = ru.ru_nvcsw - self.ru0.ru_nvcsw
        line["cpu"] = (ru.ru_utime - self.ru0.ru_utime) + (ru.ru_stime - self.ru0.ru_stime)
        line["cpu_sys"] = ru.ru_stime - self.ru0.ru_stime
        if self.probe:
            late = sorted(self.probe)
            line["probe"] = {q: late[min(len(late) - 1, int(len(late) * f))] * 1e6
                             for q, f in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}  # fmt: skip
            line["probe"]["n"] = len(late)
        if self.profiles:
            line["profile"] = self._profile()
        return line

    def _profile(self) -> dict[str, Any]:
        import pstats

        by_thread: dict[str, int] = {}
        merged: pstats.Stats | None = None
        for name, prof in list(self.profiles):
            prof.snapshot_stats()  # without disable(): another thread's profiler may still be on

            class Snap:
                stats = prof.stats

                def create_stats(self) -> None:
                    pass

            st = pstats.Stats(Snap())  # type: ignore[arg-type]
            g = _group(name)
            by_thread[g] = by_thread.get(g, 0) + st.total_calls  # type: ignore[attr-defined]
            if merged is None:
                merged = st
            else:
                merged.add(st)
        top: list[dict[str, Any]] = []
        total = 0
        if merged is not None:
            total = merged.total_calls  # type: ignore[attr-defined]
            entries = merged.stats  # type: ignore[attr-defined]
            ranked = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:24]
            for (file, lineno, func), (_cc, nc, tt, ct, _callers) in ranked:
                top.append({"func": _where(file, lineno, func), "calls": nc, "tottime": tt, "cumtime": ct})
            counted = sorted(entries.items(), key=lambda kv: kv[1][1], reverse=True)[:16]
            most = [{"func": _where(*key), "calls": v[1]} for key, v in counted]
        return {"total_calls": total, "by_thread": by_thread, "top": top, "most_called": most}


def _where(file: str, lineno: int, func: str) -> str:
    return f"{func} ({os.path.basename(file)}:{lineno})" if file != "~" else f"{func} (built-in)"


def child(mode: str, impl: str, workload: str, params: list[str]) -> None:
    """Run one workload with ``mode``'s instruments; print its JSON line with theirs and exit."""
    if mode.startswith("switch="):
        sys.setswitchinterval(float(mode.split("=", 1)[1]))
    rec = _Recorder(mode)
    rec.install()
    # What the report path imports, imported now: an import inside the run would be profiled.
    import gc  # noqa: F401
    import pstats  # noqa: F401
    import resource  # noqa: F401

    import _common

    def report(value: float, unit: str, done: int, partial: bool, **extra: Any) -> None:
        line = rec.finish({"value": value, "unit": unit, "done": done, "partial": partial, **extra})
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        os._exit(0)

    # The workload modules import report by name, and _common's rate() and latency() call it
    # through the module: replaced before either is imported, it is the one they all use.
    _common.report = report  # type: ignore[assignment]
    import importlib

    module = importlib.import_module("workloads_plain" if impl == "plain" else "workloads_dotnet_sockets")
    fn = getattr(module, workload)
    p = _common.Params(params)
    rec.start()
    fn(p)


def idle_probe() -> None:
    """The probe alone: how late a 0.5 ms sleep wakes when no other thread wants the GIL."""
    rec = _Recorder("probe")
    rec.start()
    import time

    time.sleep(0.5)
    line = rec.finish({})
    sys.stdout.write(json.dumps(line["probe"]) + "\n")
    sys.stdout.flush()
    os._exit(0)


# -- the parent: the runs and what they say -------------------------------------------------------


def _run(argv: list[str], env: dict[str, str], limit: float) -> dict[str, Any]:
    try:
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=limit + 30)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {limit + 30:.0f} s"}
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")), None)
    if line is None:
        return {"error": f"exit {out.returncode}: " + " | ".join(out.stderr.strip().splitlines()[-3:])[-300:]}
    return dict(json.loads(line))


def ops_of(line: dict[str, Any], params: dict[str, float]) -> float:
    """Operations the run did: blocks for the byte rows, otherwise what it counted."""
    if line.get("unit") == "bytes/s":
        return max(1.0, line["done"] / float(params["block"]))
    if str(line.get("unit", "")).startswith("us"):
        return float(params["count"] + params["warmup"])
    return max(1.0, float(line["done"]))


def _is_wait(func: str) -> bool:
    """A built-in that blocks: its cProfile time is waiting, not work."""
    return "(built-in)" in func and any(
        w in func for w in ("'acquire'", "time.sleep", "'poll'", "select.select", "'select'", "'wait'")
    )


def _spread(run: dict[str, Any]) -> str:
    vals = run.get("values") or [run["value"]]
    return f"{_fig(min(vals), '').strip()}-{_fig(max(vals), '').strip()}"


def _fig(v: float, unit: str) -> str:
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g}{suffix} {unit}"
    return f"{v:.3g} {unit}"


def profile(row_key: str, pure: bool, quick: bool, plain: bool, calls: bool, repeat: int) -> dict[str, Any]:
    import run_all

    row = next((r for r in run_all.ROWS if r.key == row_key), None)
    if row is None:
        raise SystemExit(f"no row {row_key!r}; see run_all.py --list")
    if row.feed:
        raise SystemExit(f"{row_key} is fed by a separate process; profile_row.py runs only unfed rows")
    params = row.quick if quick else row.params
    args = [f"{k}={v}" for k, v in params.items()]
    me = os.path.abspath(__file__)
    limit = float(params.get("limit", 20))
    path = "pure" if pure else ("compiled" if run_all.accelerated() else "compiled path NOT built: pure")
    sides = [(f"dotnet_sockets {path}", "dotnet_sockets", row.workload, pure)]
    if plain and "plain" in row.peers:
        sides.append(("plain socket", "plain", row.peers["plain"], False))
    env_plain = run_all._python_env(False)
    idle = _run([sys.executable, me, "--idle-probe"], env_plain, 10)
    print(f"## {row.key}: {row.label}")
    print(f"counts: {', '.join(args)}" + (" (quick: figures meaningless)" if quick else ""))
    print(f"load average at the start: {os.getloadavg()[0]:.1f}; idle probe lateness p50 "
          f"{idle.get('p50', 0):.0f} us, p90 {idle.get('p90', 0):.0f} us")  # fmt: skip
    summary: dict[str, Any] = {"row": row.key, "idle_probe": idle, "sides": {}}
    for title, impl, workload, side_pure in sides:
        env = run_all._python_env(side_pure)

        def one(mode: str, impl: str = impl, workload: str = workload, env: dict[str, str] = env) -> dict[str, Any]:
            return _run([sys.executable, me, "--child", mode, impl, workload, *args], env, limit)

        # Round by round every mode runs once, as run_all.py's sides do, so the machine's drift
        # hits all modes alike; each mode shows its run of median figure.
        modes = ["counters", "probe", *(f"switch={sw}" for sw in SWITCH)]
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for _ in range(repeat):
            for m in modes:
                runs[m].append(one(m))

        def go(mode: str, runs: dict[str, list[dict[str, Any]]] = runs) -> dict[str, Any]:
            if mode not in runs:
                return one(mode)
            good = sorted((r for r in runs[mode] if "value" in r), key=lambda r: float(r["value"]))
            if not good:
                return runs[mode][0]
            best = dict(good[len(good) // 2])
            best["values"] = [r["value"] for r in good]
            return best

        base = go("counters")
        print(f"\n### {title}")
        if "error" in base:
            print(f"error: {base['error']}")
            summary["sides"][title] = base
            continue
        ops = ops_of(base, params)
        unit = base["unit"]
        partial = " (partial)" if base.get("partial") else ""
        print(f"figure: {_fig(base['value'], unit)}{partial} ({_spread(base)} over {len(base['values'])} runs); "
              f"{ops:,.0f} operations in {base['wall']:.2f} s")  # fmt: skip
        print(f"context switches per operation: {base['ctx'] / ops:.2f} "
              f"({base['ctx_vol'] / ops:.2f} voluntary); CPU {base['cpu'] / base['wall']:.2f} cores busy "
              f"({base['cpu_sys'] / base['wall']:.2f} in the kernel); CPU per operation "
              f"{base['cpu'] / ops * 1e6:.1f} us")  # fmt: skip
        # CPython runs its user-mode code holding the GIL (the socket module's system calls let
        # go of it), so the user CPU per operation is, within the little C code that runs
        # without it, the GIL's hold per operation: what the one core the GIL allows must fit.
        print(f"GIL held per operation (user CPU): {(base['cpu'] - base['cpu_sys']) / ops * 1e6:.1f} us; "
              f"kernel CPU per operation {base['cpu_sys'] / ops * 1e6:.1f} us")  # fmt: skip
        print("| thread group | threads | ctx switches / op (vol + invol) | CPU us / op | run-queue us / op |")
        print("|---|---|---|---|---|")
        for g, t in sorted(base["threads"].items(), key=lambda kv: -kv[1]["cpu"]):
            ctx = f"{(t['vol'] + t['invol']) / ops:.2f} ({t['vol'] / ops:.2f} + {t['invol'] / ops:.2f})"
            print(f"| {g} | {t['n']} | {ctx} | {t['cpu'] / ops * 1e6:.1f} | {t['queued'] / ops * 1e6:.1f} |")
        side: dict[str, Any] = {"counters": base, "ops": ops}
        probe = go("probe")
        if "probe" in probe:
            pr = probe["probe"]
            print(f"GIL wait of a woken thread (probe lateness minus idle, p50 / p90): "
                  f"{pr['p50'] - idle.get('p50', 0):.0f} / {pr['p90'] - idle.get('p90', 0):.0f} us "
                  f"(figure with the probe: {_fig(probe['value'], unit)})")  # fmt: skip
            side["probe"] = probe
        switched = [f"5 ms (the default): {_fig(base['value'], unit)} ({_spread(base)})"]
        for sw in SWITCH:
            r = go(f"switch={sw}")
            if "value" in r:
                switched.append(f"{sw * 1000:g} ms: {_fig(r['value'], unit)} ({_spread(r)}; "
                                f"{r['ctx'] / ops_of(r, params):.2f} ctx/op)")  # fmt: skip
                side[f"switch={sw}"] = r
        print("sys.setswitchinterval: " + "; ".join(switched))
        if calls:
            prof = go("cprofile")
            if "profile" in prof:
                pops = ops_of(prof, params)
                pf = prof["profile"]
                threads = sorted(pf["by_thread"].items(), key=lambda kv: -kv[1])
                per = ", ".join(f"{g} {c / pops:.1f}" for g, c in threads)
                print(f"Python calls per operation (cProfile): {pf['total_calls'] / pops:.1f} ({per})")
                # cProfile's times are wall times: a thread blocked in a wait adds its wait, which
                # says nothing about cost.  The waits are set apart, the rest ranked.
                waits = [t for t in pf["top"] if _is_wait(t["func"])]
                work = [t for t in pf["top"] if not _is_wait(t["func"])]
                total_tt = sum(t["tottime"] for t in work) or 1.0
                print("waits (wall time, set apart): " + ", ".join(
                    f"{t['func'].split(' (')[0]} {t['calls'] / pops:.2f}/op" for t in waits))  # fmt: skip
                print("| function | calls / op | share of the ranked functions' own time |")
                print("|---|---|---|")
                for t in work[:10]:
                    print(f"| {t['func']} | {t['calls'] / pops:.2f} | {t['tottime'] / total_tt:.0%} |")
                most = pf.get("most_called", [])
                print("most called: " + ", ".join(f"{t['func'].split(' (')[0]} {t['calls'] / pops:.1f}" for t in most))
                side["cprofile"] = prof
            else:
                print(f"cProfile run: {prof.get('error', 'no profile')}")
        summary["sides"][title] = side
    sys.stdout.flush()
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rows", nargs="*", help="row keys (run_all.py --list)")
    p.add_argument("--short", action="store_true", help="every row the tables call short")
    p.add_argument("--pure", action="store_true", help="the pure send path (DOTNET_SOCKETS_PURE=1)")
    p.add_argument("--quick", action="store_true", help="the rows' short counts: a smoke run")
    p.add_argument("--no-plain", action="store_true", help="skip the plain socket peer")
    p.add_argument("--no-calls", action="store_true", help="skip the cProfile run")
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (the median is shown)")
    p.add_argument("--json", help="also write every figure to this file")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--idle-probe", action="store_true", help=argparse.SUPPRESS)
    args, rest = p.parse_known_args(argv)
    if args.idle_probe:
        idle_probe()
    if args.child:
        mode, impl, workload, *params = args.child + rest
        child(mode, impl, workload, params)
        return 1  # the workload ends the process through report()
    rows = SHORT if args.short else args.rows
    if not rows:
        p.error("name a row, or --short")
    out = []
    for key in rows:
        out.append(profile(key, args.pure, args.quick, not args.no_plain, not args.no_calls, max(1, args.repeat)))
        print()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
