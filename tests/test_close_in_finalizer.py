"""A user's finalizer that closes a socket, run by a collection on a thread holding a lock of ours.

A ``__del__`` (or a ``weakref.finalize`` callback) runs inside whatever the collecting thread
was doing: here the collection is made to start while the thread holds the socket's queue
lock, or the dispatcher's lock, with a receive pending (its abort posts a completion).  A
``Close`` that waited for either lock would hang that thread for good; it must close the
socket, and the pending receive must complete once, aborted, as for any ``Close``.

A hang cannot be bounded inside the test process, so the scenario runs in a child process
with a time limit.
"""

from __future__ import annotations

import subprocess
import sys

_SCRIPT = """
import gc, sys, time, weakref
from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType
from dotnet_sockets._engine.dispatch import dispatcher

class Closer:
    def __init__(self, s):
        self.s = s
        self.me = self  # a cycle: only a collection frees it
    def __del__(self):
        self.s.Close()

class Cycle:
    pass

gc.disable()  # the collection below is the one that runs the finalizer
for how in ("del", "finalize"):
    for held in ("queue", "dispatcher"):
        s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        called = []
        anyone = IPEndPoint(IPAddress.Any, 0)
        ar = s.BeginReceiveFrom(bytearray(8), 0, 8, SocketFlags.None_, anyone, called.append, None)
        if how == "del":
            Closer(s)
        else:
            c = Cycle()
            c.me = c
            weakref.finalize(c, s.Close)
            del c
        # No completion worker awake: the abort's post then takes the dispatcher's lock.
        deadline = time.monotonic() + 5
        while dispatcher._active and time.monotonic() < deadline:
            time.sleep(0.01)
        with (s._io.lock if held == "queue" else dispatcher._lock):
            gc.collect()
        assert s._disposed, "the finalizer did not run"
        assert ar.AsyncWaitHandle.WaitOne(5000), "the pending receive was never aborted"
        try:
            s.EndReceiveFrom(ar)
            outcome = "no error"
        except Exception as exc:
            outcome = str(exc.SocketErrorCode)
        deadline = time.monotonic() + 5
        while not called and time.monotonic() < deadline:
            time.sleep(0.01)
        print(how, held, outcome, len(called), s._io.closed)
"""


def test_a_finalizer_closing_a_socket_under_a_held_lock_does_not_hang() -> None:
    res = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"{how} {held} OperationAborted 1 True" for how in ("del", "finalize") for held in ("queue", "dispatcher")
    ]


def test_close_outside_a_collection_closes_at_once() -> None:
    # The collecting thread is marked only while a collection runs: an ordinary Close closes the
    # descriptor itself, before it returns.
    from dotnet_sockets import AddressFamily, ProtocolType, Socket, SocketType
    from dotnet_sockets._engine.collecting import collecting

    assert not collecting()
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.Close()
    assert s._io.closed and s._io.sock.fileno() == -1
