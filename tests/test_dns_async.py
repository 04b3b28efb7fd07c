"""Dns's asynchronous forms (Begin/End, awaitable ...Async), the family overloads, and connecting to a
host name without resolving on the caller's thread.

Ported from dotnet/runtime's System.Net.NameResolution functional tests (GetHostAddressesTest.cs,
GetHostEntryTest.cs, GetHostByNameTest.cs, ResolveTest.cs), with a fake resolver (no network) and
"localhost" / loopback literals.  ParamNames are .NET's: the asynchronous forms check their
argument under the inner name ``hostName`` (``ArgumentNullException.ThrowIfNull(hostName)`` in
Dns.cs), the synchronous ones under ``hostNameOrAddress``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    CancellationToken,
    CancellationTokenSource,
    Dns,
    DnsEndPoint,
    FormatException,
    InvalidOperationException,
    IPAddress,
    IPHostEntry,
    OperationCanceledException,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketType,
    TaskCanceledException,
)
from dotnet_sockets.dns import set_resolver

WAIT = 10.0
P = IPAddress.Parse


class Resolver:
    """Answers from a table, filters by family as getaddrinfo does, records the calling thread, and
    can hold a lookup until the test lets it go."""

    def __init__(self) -> None:
        self.forward = {
            "dual.test": ["192.0.2.1", "2001:db8::1"],
            "v4.test": ["192.0.2.7"],
            "loop.test": ["127.0.0.1"],
            "localhost": ["127.0.0.1", "::1"],
            "known.localhost": ["127.0.0.5"],
        }
        self.reverse = {"192.0.2.1": "dual.test", "127.0.0.1": "loop.test"}
        self.threads: list[int] = []
        self.families: list[int] = []
        self.hold: threading.Event | None = None
        self.entered = threading.Event()

    def getaddrinfo(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        self.threads.append(threading.get_ident())
        self.families.append(family)
        self.entered.set()
        if self.hold is not None:
            assert self.hold.wait(WAIT)
        if host not in self.forward:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[int, int, int, str, tuple[Any, ...]]] = []
        for text in self.forward[host]:
            af = socket.AF_INET6 if ":" in text else socket.AF_INET
            if family in (0, af):
                sa: tuple[Any, ...] = (text, 0, 0, 0) if af == socket.AF_INET6 else (text, 0)
                out.append((af, socket.SOCK_STREAM, 0, host if not out else "", sa))
        if not out:
            raise socket.gaierror(socket.EAI_ADDRFAMILY, "Address family for hostname not supported")
        return out

    def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        self.threads.append(threading.get_ident())
        name = self.reverse.get(sockaddr[0])
        if name is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return name, "0"

    def gethostname(self) -> str:
        return "v4.test"


@pytest.fixture
def fake() -> Iterator[Resolver]:
    r = Resolver()
    try:
        with set_resolver(r):
            yield r
    finally:
        if r.hold is not None:
            r.hold.set()


def _end_in_callback(begin: Any, end: Any, *args: Any) -> tuple[Any, Any, bool, int]:
    """Begin with a callback that calls End: (result or exception, state, CompletedSynchronously, thread)."""
    done = threading.Event()
    seen: dict[str, Any] = {}

    def callback(ar: Any) -> None:
        seen["thread"] = threading.get_ident()
        seen["state"] = ar.AsyncState
        try:
            seen["result"] = end(ar)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            seen["result"] = exc
        done.set()

    ar = begin(*args, callback, "state")
    assert done.wait(WAIT)
    return seen["result"], seen["state"], ar.CompletedSynchronously, seen["thread"]


# -- family overloads of the synchronous forms ---------------------------------


def test_get_host_addresses_with_family(fake: Resolver) -> None:
    assert Dns.GetHostAddresses("dual.test") == [P("192.0.2.1"), P("2001:db8::1")]
    assert Dns.GetHostAddresses("dual.test", AddressFamily.InterNetwork) == [P("192.0.2.1")]
    assert Dns.get_host_addresses("dual.test", AddressFamily.InterNetworkV6) == [P("2001:db8::1")]
    assert fake.families == [0, socket.AF_INET, socket.AF_INET6]


def test_literal_of_another_family_gives_no_addresses_without_a_lookup(fake: Resolver) -> None:
    assert Dns.GetHostAddresses("127.0.0.1", AddressFamily.InterNetworkV6) == []
    assert Dns.GetHostAddresses("::1", AddressFamily.InterNetworkV6) == [IPAddress.IPv6Loopback]
    assert fake.families == []


def test_family_that_cannot_be_looked_up(fake: Resolver) -> None:
    with pytest.raises(SocketException) as info:
        Dns.GetHostAddresses("dual.test", AddressFamily.Unix)
    assert info.value.SocketErrorCode == SocketError.AddressFamilyNotSupported


def test_get_host_entry_with_family(fake: Resolver) -> None:
    entry = Dns.GetHostEntry("dual.test", AddressFamily.InterNetworkV6)
    assert entry.HostName == "dual.test" and entry.AddressList == [P("2001:db8::1")]
    reverse = Dns.GetHostEntry("192.0.2.1", AddressFamily.InterNetwork)
    assert reverse.HostName == "dual.test" and reverse.AddressList == [P("192.0.2.1")]


@pytest.mark.parametrize(
    "name", ["invalid", "invalid.", "test.invalid", "test.invalid.", "foo.bar.invalid", "INVALID", "Test.INVALID"]
)
def test_invalid_names_never_resolve(fake: Resolver, name: str) -> None:
    # RFC 6761 section 6.4, as GetHostAddressesTest.DnsGetHostAddresses_InvalidDomain_ThrowsHostNotFound.
    with pytest.raises(SocketException) as info:
        Dns.GetHostAddresses(name)
    assert info.value.SocketErrorCode == SocketError.HostNotFound

    async def main() -> None:
        with pytest.raises(SocketException) as info:
            await Dns.GetHostAddressesAsync(name)
        assert info.value.SocketErrorCode == SocketError.HostNotFound

    asyncio.run(main())
    assert fake.families == []  # no lookup was made


@pytest.mark.parametrize("name", ["foo.localhost", "bar.foo.localhost", "FOO.LOCALHOST", "foo.localhost."])
def test_unknown_localhost_subdomain_is_localhost(fake: Resolver, name: str) -> None:
    # RFC 6761 section 6.3, as GetHostAddressesTest.DnsGetHostAddresses_LocalhostSubdomain_ReturnsLoopback.
    assert Dns.GetHostAddresses(name) == [IPAddress.Loopback, IPAddress.IPv6Loopback]
    assert Dns.GetHostAddresses(name, AddressFamily.InterNetworkV6) == [IPAddress.IPv6Loopback]
    assert Dns.GetHostAddresses("known.localhost") == [P("127.0.0.5")]  # the system's answer comes first

    async def main() -> list[IPAddress]:
        return await Dns.GetHostAddressesAsync(name, AddressFamily.InterNetwork)

    assert asyncio.run(main()) == [IPAddress.Loopback]


# -- Begin/End ------------------------------------------------------------------


def test_begin_get_host_addresses_runs_off_the_callers_thread(fake: Resolver) -> None:
    result, state, sync, thread = _end_in_callback(Dns.BeginGetHostAddresses, Dns.EndGetHostAddresses, "dual.test")
    assert result == [P("192.0.2.1"), P("2001:db8::1")]
    assert state == "state" and not sync
    assert fake.threads and threading.get_ident() not in fake.threads
    assert thread != threading.get_ident()


def test_begin_get_host_addresses_literal_completes_at_once(fake: Resolver) -> None:
    result, _, sync, thread = _end_in_callback(Dns.BeginGetHostAddresses, Dns.EndGetHostAddresses, "192.0.2.9")
    assert result == [P("192.0.2.9")]
    assert sync  # .NET Core 3.1: CompletedSynchronously and IsCompleted both true
    assert thread != threading.get_ident()  # the callback still runs on a completion thread
    assert fake.threads == []


def test_begin_get_host_addresses_bad_name_raises_from_end(fake: Resolver) -> None:
    ar = Dns.BeginGetHostAddresses("nonexistent.test", None, None)
    with pytest.raises(SocketException) as info:
        Dns.EndGetHostAddresses(ar)
    assert info.value.SocketErrorCode == SocketError.HostNotFound


def test_begin_get_host_addresses_too_long_name_raises_from_end(fake: Resolver) -> None:
    # .NET on Linux validates the name inside the task: the error comes from End.
    ar = Dns.BeginGetHostAddresses("a" * 256, None, None)
    with pytest.raises(ArgumentOutOfRangeException) as info:
        Dns.EndGetHostAddresses(ar)
    assert info.value.ParamName == "hostName"


def test_begin_get_host_entry_forms(fake: Resolver) -> None:
    entry, *_ = _end_in_callback(Dns.BeginGetHostEntry, Dns.EndGetHostEntry, "dual.test")
    assert isinstance(entry, IPHostEntry) and entry.AddressList == [P("192.0.2.1"), P("2001:db8::1")]
    by_address, *_ = _end_in_callback(Dns.BeginGetHostEntry, Dns.EndGetHostEntry, P("127.0.0.1"))
    assert by_address.HostName == "loop.test"
    by_literal, *_ = _end_in_callback(Dns.begin_get_host_entry, Dns.end_get_host_entry, "127.0.0.1")
    assert by_literal.HostName == "loop.test"  # a literal is looked up in reverse, as GetHostEntry does


@pytest.mark.parametrize(
    ("call", "exc", "param"),
    [
        (lambda: Dns.BeginGetHostAddresses(None, None, None), ArgumentNullException, "hostName"),
        (lambda: Dns.BeginGetHostEntry(None, None, None), ArgumentNullException, "hostName"),
        (lambda: Dns.BeginGetHostAddresses("0.0.0.0", None, None), ArgumentException, "hostName"),
        (lambda: Dns.BeginGetHostEntry("::", None, None), ArgumentException, "hostName"),
        (lambda: Dns.BeginGetHostEntry(IPAddress.Any, None, None), ArgumentException, "address"),
        (lambda: Dns.BeginGetHostEntry(IPAddress.IPv6Any, None, None), ArgumentException, "address"),
        (lambda: Dns.EndGetHostAddresses(None), ArgumentNullException, "asyncResult"),
        (lambda: Dns.EndGetHostEntry(None), ArgumentNullException, "asyncResult"),
        (lambda: Dns.GetHostAddressesAsync(None), ArgumentNullException, "hostName"),
        (lambda: Dns.GetHostEntryAsync(None), ArgumentNullException, "hostName"),
        (lambda: Dns.GetHostAddressesAsync("0.0.0.0"), ArgumentException, "hostName"),
        (lambda: Dns.GetHostEntryAsync(IPAddress.Any), ArgumentException, "address"),
        (lambda: Dns.GetHostAddresses(None), ArgumentNullException, "hostNameOrAddress"),
        (lambda: Dns.GetHostEntry("a" * 256), ArgumentOutOfRangeException, "hostName"),
    ],
)
def test_argument_checks_raise_from_the_call(fake: Resolver, call: Any, exc: type, param: str) -> None:
    with pytest.raises(exc) as info:  # type: ignore[var-annotated]
        call()
    assert info.value.ParamName == param
    assert fake.threads == []


def test_end_checks_the_result(fake: Resolver) -> None:
    ar = Dns.BeginGetHostAddresses("192.0.2.9", None, None)
    with pytest.raises(ArgumentException) as info:
        Dns.EndGetHostEntry(ar)  # a result of another kind, as current .NET rejects it
    assert info.value.ParamName == "asyncResult"
    assert Dns.EndGetHostAddresses(ar) == [P("192.0.2.9")]
    with pytest.raises(InvalidOperationException):
        Dns.EndGetHostAddresses(ar)
    sock = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    try:
        with pytest.raises(ArgumentException):
            Dns.EndGetHostAddresses(sock.BeginSendTo(b"x", 0, 1, 0, _loopback_sink(sock), None, None))
    finally:
        sock.Close()


def _loopback_sink(sock: Socket) -> Any:
    from dotnet_sockets import IPEndPoint

    return IPEndPoint(IPAddress.Loopback, 9)


def test_obsolete_forms(fake: Resolver) -> None:
    entry, *_ = _end_in_callback(Dns.BeginGetHostByName, Dns.EndGetHostByName, "192.0.2.5")
    assert entry.HostName == "192.0.2.5" and entry.AddressList == [P("192.0.2.5")]
    resolved, *_ = _end_in_callback(Dns.BeginResolve, Dns.EndResolve, "192.0.2.99")
    assert resolved.AddressList == [P("192.0.2.99")]  # no PTR record: the literal itself
    assert Dns.GetHostByAddress("192.0.2.1").HostName == "dual.test"
    assert Dns.GetHostByAddress(P("127.0.0.1")).HostName == "loop.test"
    with pytest.raises(FormatException):
        Dns.GetHostByAddress("not an address")
    with pytest.raises(ArgumentNullException):
        Dns.GetHostByAddress(None)  # type: ignore[call-overload]


# -- awaitable forms ------------------------------------------------------------


def test_awaitable_forms(fake: Resolver) -> None:
    async def main() -> None:
        assert await Dns.GetHostAddressesAsync("dual.test") == [P("192.0.2.1"), P("2001:db8::1")]
        assert await Dns.GetHostAddressesAsync("dual.test", AddressFamily.InterNetworkV6) == [P("2001:db8::1")]
        assert await Dns.GetHostAddressesAsync("dual.test", CancellationToken.None_) == [
            P("192.0.2.1"),
            P("2001:db8::1"),
        ]
        entry = await Dns.GetHostEntryAsync("dual.test", AddressFamily.InterNetwork, CancellationToken.None_)
        assert entry.AddressList == [P("192.0.2.1")]
        assert (await Dns.get_host_entry_async(P("192.0.2.1"))).HostName == "dual.test"
        with pytest.raises(SocketException) as info:
            await Dns.GetHostEntryAsync("nonexistent.test")
        assert info.value.SocketErrorCode == SocketError.HostNotFound
        with pytest.raises(ArgumentOutOfRangeException):
            await Dns.GetHostAddressesAsync("a" * 256)

    asyncio.run(main())
    assert fake.threads and threading.get_ident() not in fake.threads


def test_awaitable_literal_is_answered_without_a_lookup(fake: Resolver) -> None:
    async def main() -> None:
        assert await Dns.GetHostAddressesAsync("192.0.2.9") == [P("192.0.2.9")]
        assert await Dns.GetHostAddressesAsync("192.0.2.9", AddressFamily.InterNetworkV6) == []

    asyncio.run(main())
    assert fake.threads == []


def test_cancelled_token_gives_a_cancelled_task(fake: Resolver) -> None:
    async def main() -> None:
        token = CancellationToken(True)
        for awaitable in (
            Dns.GetHostAddressesAsync("dual.test", token),
            Dns.GetHostAddressesAsync("192.0.2.9", token),  # even a literal, as Task.FromCanceled
            Dns.GetHostEntryAsync("dual.test", AddressFamily.Unspecified, token),
            Dns.GetHostAddressesAsync("0.0.0.0", token),  # cancellation is checked before the address
        ):
            with pytest.raises(TaskCanceledException) as info:
                await awaitable
            assert isinstance(info.value, OperationCanceledException)
            assert info.value.CancellationToken == token

    asyncio.run(main())
    assert fake.threads == []


def test_cancel_while_the_lookup_runs(fake: Resolver) -> None:
    fake.hold = threading.Event()

    async def main() -> None:
        with CancellationTokenSource() as cts:
            task = asyncio.ensure_future(Dns.GetHostAddressesAsync("dual.test", cts.Token))
            assert await asyncio.get_running_loop().run_in_executor(None, fake.entered.wait, WAIT)
            cts.Cancel()
            with pytest.raises(TaskCanceledException):
                await asyncio.wait_for(task, WAIT)
        fake.hold.set()  # the lookup ends later; its result is dropped
        # The loop keeps working and the next lookup is answered.
        fake.hold = None
        assert await asyncio.wait_for(Dns.GetHostAddressesAsync("v4.test"), WAIT) == [P("192.0.2.7")]

    asyncio.run(main())


def test_task_cancel_keeps_its_asyncio_meaning(fake: Resolver) -> None:
    fake.hold = threading.Event()

    async def main() -> None:
        task = asyncio.ensure_future(Dns.GetHostEntryAsync("dual.test"))
        assert await asyncio.get_running_loop().run_in_executor(None, fake.entered.wait, WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_many_lookups_share_a_few_threads(fake: Resolver) -> None:
    async def main() -> None:
        results = await asyncio.wait_for(
            asyncio.gather(*(Dns.GetHostAddressesAsync("v4.test") for _ in range(50))), WAIT
        )
        assert all(r == [P("192.0.2.7")] for r in results)

    asyncio.run(main())
    assert len(set(fake.threads)) <= 4


def test_real_localhost_asynchronously() -> None:
    expected = Dns.GetHostAddresses("localhost")

    async def main() -> None:
        assert await Dns.GetHostAddressesAsync("localhost") == expected
        assert (await Dns.GetHostEntryAsync("localhost")).AddressList == expected

    asyncio.run(main())
    ar = Dns.BeginGetHostAddresses("localhost", None, None)
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    assert Dns.EndGetHostAddresses(ar) == expected


# -- connecting to a host name resolves off the caller's thread -------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        yield srv
    finally:
        srv.close()


def _tcp() -> Socket:
    return Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)


@pytest.mark.parametrize("form", ["dns_endpoint", "host_and_port"])
def test_begin_connect_to_a_host_name_resolves_off_the_callers_thread(
    fake: Resolver, listener: socket.socket, form: str
) -> None:
    port = listener.getsockname()[1]
    fake.hold = threading.Event()
    sock = _tcp()
    try:
        args: tuple[Any, ...] = (DnsEndPoint("loop.test", port),) if form == "dns_endpoint" else ("loop.test", port)
        ar = sock.BeginConnect(*args, None, None)
        assert fake.entered.wait(WAIT)
        assert not ar.IsCompleted  # Begin returned while the lookup was still held
        fake.hold.set()
        sock.EndConnect(ar)
        assert sock.Connected
        assert threading.get_ident() not in fake.threads
    finally:
        sock.Close()


def test_begin_connect_to_an_unknown_host_fails_from_end(fake: Resolver) -> None:
    sock = _tcp()
    try:
        ar = sock.BeginConnect("nonexistent.test", 80, None, None)
        with pytest.raises(SocketException) as info:
            sock.EndConnect(ar)
        assert info.value.SocketErrorCode == SocketError.HostNotFound
    finally:
        sock.Close()


def test_close_while_resolving_aborts_the_connect(fake: Resolver) -> None:
    fake.hold = threading.Event()
    sock = _tcp()
    ar = sock.BeginConnect(DnsEndPoint("loop.test", 9), None, None)
    assert fake.entered.wait(WAIT)
    sock.Close()
    fake.hold.set()
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    with pytest.raises(SocketException) as info:
        sock.EndConnect(ar)
    assert info.value.SocketErrorCode == SocketError.OperationAborted  # as a close during a connect


def test_connect_async_event_args_to_a_host_name_is_pending(fake: Resolver, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    fake.hold = threading.Event()
    sock = _tcp()
    done = threading.Event()
    e = SocketAsyncEventArgs()
    e.RemoteEndPoint = DnsEndPoint("loop.test", port)
    e.Completed += lambda s, args: done.set()
    try:
        assert sock.ConnectAsync(e) is True  # returned before the lookup finished
        fake.hold.set()
        assert done.wait(WAIT)
        assert e.SocketError == SocketError.Success
        assert sock.Connected
    finally:
        sock.Close()


def test_awaited_connect_to_a_host_name_does_not_block_the_loop(fake: Resolver, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    fake.hold = threading.Event()

    async def main() -> None:
        sock = _tcp()
        try:
            task = asyncio.ensure_future(sock.ConnectAsync("loop.test", port))
            # The loop runs while the lookup is held: this await would hang if ConnectAsync blocked it.
            assert await asyncio.get_running_loop().run_in_executor(None, fake.entered.wait, WAIT)
            fake.hold.set()
            await asyncio.wait_for(task, WAIT)
            assert sock.Connected
        finally:
            sock.Close()

    asyncio.run(main())
    assert threading.get_ident() not in fake.threads


@pytest.mark.parametrize("target", ["dual.test", IPAddress.Loopback, "127.0.0.1"])
def test_all_variations_match(fake: Resolver, target: Any) -> None:
    # GetHostEntryTest.DnsGetHostEntry_MachineName_AllVariationsMatch / _Loopback_AllVariationsMatch.
    sync = Dns.GetHostEntry(target)
    apm = Dns.EndGetHostEntry(Dns.BeginGetHostEntry(target, None, None))

    async def main() -> IPHostEntry:
        return await Dns.GetHostEntryAsync(target)

    awaited = asyncio.run(main())
    assert sync.HostName == apm.HostName == awaited.HostName
    assert sync.AddressList == apm.AddressList == awaited.AddressList


@pytest.mark.parametrize("name", ["0.0.1.1", "BadName", "x" * 254 + "."])
def test_bad_names_are_socket_exceptions_in_every_model(fake: Resolver, name: str) -> None:
    # GetHostEntryTest.DnsGetHostEntry_BadName_ThrowsSocketException (an unknown address or name,
    # a long name that is still allowed).
    with pytest.raises(SocketException):
        Dns.GetHostEntry(name)
    with pytest.raises(SocketException):
        Dns.EndGetHostEntry(Dns.BeginGetHostEntry(name, None, None))

    async def main() -> None:
        with pytest.raises(SocketException):
            await Dns.GetHostEntryAsync(name)

    asyncio.run(main())


def test_connect_to_an_unknown_host_in_the_other_models(fake: Resolver) -> None:
    sock = _tcp()
    done = threading.Event()
    e = SocketAsyncEventArgs()
    e.RemoteEndPoint = DnsEndPoint("nonexistent.test", 80)
    e.Completed += lambda s, args: done.set()
    try:
        assert sock.ConnectAsync(e) is True
        assert done.wait(WAIT)
        assert e.SocketError == SocketError.HostNotFound
        assert not sock.Connected
    finally:
        sock.Close()

    async def main() -> None:
        with _tcp() as s:
            with pytest.raises(SocketException) as info:
                await asyncio.wait_for(s.ConnectAsync("nonexistent.test", 80), WAIT)
            assert info.value.SocketErrorCode == SocketError.HostNotFound

    asyncio.run(main())
