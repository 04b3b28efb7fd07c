""".NET 11's typed DNS lookups (``DnsResolver``, ``Dns.Resolve…``) against a fake DNS server on loopback.

The fake server (UDP and TCP on one port of 127.0.0.1, in a thread of this process) answers with
messages built here byte by byte, independently of the package's encoder, so a test checks the
package against the RFC 1035 layout rather than against itself.  Behaviours follow dotnet/runtime's
managed resolver (DnsResolverPal.Managed.cs, DnsResolver.cs, ResolvConf.cs): negative answers are
results with a ``ResponseCode`` and the SOA's negative TTL; a truncated answer is asked again over
TCP; when every attempt fails the last failure is raised.  No test touches the machine's resolver.
"""

from __future__ import annotations

import asyncio
import datetime
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HAS_IPV6
from dotnet_sockets import (
    AddressFamily,
    AddressRecord,
    ArgumentException,
    ArgumentNullException,
    CancellationTokenSource,
    CNameRecord,
    Dns,
    DnsResolver,
    DnsResolverOptions,
    DnsResponseCode,
    DnsResult,
    InvalidDataException,
    IPAddress,
    IPEndPoint,
    MxRecord,
    NsRecord,
    ObjectDisposedException,
    PtrRecord,
    SocketError,
    SocketException,
    SrvRecord,
    TaskCanceledException,
    TimeoutException,
    TxtRecord,
    _dnsquery,
)

WAIT = 5.0  # the bound on every wait here
SECONDS = datetime.timedelta(seconds=1)

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV = 1, 2, 5, 6, 12, 15, 16, 28, 33
AT_QUESTION = b"\xc0\x0c"  # a compression pointer to the question's name


# -- building messages (RFC 1035 section 4), independently of the package ----------------------------


def wire(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa(owner: bytes, ttl: int, minimum: int) -> bytes:
    return rr(owner, SOA, ttl, wire("ns.test") + wire("admin.test") + struct.pack("!IIIII", 1, 2, 3, 4, minimum))


@dataclass
class Query:
    raw: bytes
    transport: str
    peer: Any = None

    @property
    def id(self) -> int:
        return int(struct.unpack_from("!H", self.raw)[0])

    @property
    def question(self) -> bytes:
        """The question section as sent: name, type, class."""
        at = 12
        while self.raw[at]:
            at += 1 + self.raw[at]
        return self.raw[12 : at + 5]

    @property
    def name(self) -> str:
        labels, at = [], 12
        while self.raw[at]:
            labels.append(self.raw[at + 1 : at + 1 + self.raw[at]].decode("ascii"))
            at += 1 + self.raw[at]
        return ".".join(labels)

    @property
    def qtype(self) -> int:
        return int(struct.unpack_from("!H", self.question, len(self.question) - 4)[0])

    def reply(
        self,
        answers: list[bytes] = (),  # type: ignore[assignment]
        authority: list[bytes] = (),  # type: ignore[assignment]
        additional: list[bytes] = (),  # type: ignore[assignment]
        *,
        rcode: int = 0,
        tc: bool = False,
        qid: int | None = None,
        question: bytes | None = None,
    ) -> bytes:
        flags = 0x8180 | rcode | (0x0200 if tc else 0)
        header = struct.pack(
            "!HHHHHH", self.id if qid is None else qid, flags, 1, len(answers), len(authority), len(additional)
        )
        body = self.question if question is None else question
        return header + body + b"".join(answers) + b"".join(authority) + b"".join(additional)


Handler = Callable[[Query], list[bytes]]


class FakeDns:
    """A DNS server on 127.0.0.1 (or ::1): UDP and TCP on one port; ``handler`` gives the replies."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.queries: list[Query] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(20):  # a UDP port whose TCP twin is free too
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.udp.bind((host, 0))
            port = self.udp.getsockname()[1]
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                self.tcp.bind((host, port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        else:  # pragma: no cover
            raise RuntimeError("no free UDP+TCP port pair")
        self.tcp.listen(8)
        self.endpoint = IPEndPoint(IPAddress.Parse(host), port)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)
        self._thread.start()

    def _answer(self, query: Query) -> list[bytes]:
        self.queries.append(query)
        return self.handler(query)

    def _serve(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.udp, selectors.EVENT_READ)
            sel.register(self.tcp, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in sel.select(0.05):
                    if key.fileobj is self.udp:
                        data, peer = self.udp.recvfrom(65535)
                        for out in self._answer(Query(data, "udp", peer)):
                            self.udp.sendto(out, peer)
                    else:
                        self._serve_tcp()

    def _serve_tcp(self) -> None:
        conn, _ = self.tcp.accept()
        with conn:
            conn.settimeout(WAIT)
            head = conn.recv(2, socket.MSG_WAITALL)
            if len(head) < 2:
                return
            data = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
            for out in self._answer(Query(data, "tcp")):
                conn.sendall(out)

    def resolver(self) -> DnsResolver:
        return DnsResolver(DnsResolverOptions([self.endpoint]))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive()
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeDns]]:
    servers: list[FakeDns] = []

    def start(handler: Handler, host: str = "127.0.0.1") -> FakeDns:
        servers.append(FakeDns(handler, host))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dnsquery, "QUERY_TIMEOUT", 0.3)
    monkeypatch.setattr(_dnsquery, "ATTEMPTS", 2)


def run(coro: Any) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, WAIT)

    return asyncio.run(bounded())


def both(resolver: DnsResolver, method: str, *args: Any) -> list[Any]:
    """The blocking and the awaitable form's results, which must be equal."""
    blocking = getattr(resolver, method)(*args)
    awaited = run(getattr(resolver, method + "Async")(*args))
    assert blocking == awaited
    return [blocking, awaited]


# -- every record type ----------------------------------------------------------------------------


ANSWERS: dict[int, list[bytes]] = {
    A: [rr(AT_QUESTION, A, 60, bytes([192, 0, 2, 1]))],
    AAAA: [rr(AT_QUESTION, AAAA, 70, IPAddress.Parse("2001:db8::5").GetAddressBytes())],
    MX: [rr(AT_QUESTION, MX, 80, struct.pack("!H", 10) + wire("mail.example.test"))],
    TXT: [rr(AT_QUESTION, TXT, 90, b"\x05hello\x00\x06w\xc3\xb6rld")],
    CNAME: [rr(AT_QUESTION, CNAME, 100, wire("real.example.test"))],
    PTR: [rr(AT_QUESTION, PTR, 110, wire("host.example.test"))],
    NS: [rr(AT_QUESTION, NS, 120, wire("ns1.example.test"))],
    SRV: [rr(AT_QUESTION, SRV, 130, struct.pack("!HHH", 1, 5, 5060) + wire("sip.example.test"))],
}

EXPECTED: list[tuple[str, int, Any]] = [
    ("ResolveMx", MX, MxRecord("mail.example.test", 10, 80)),
    ("ResolveTxt", TXT, TxtRecord(["hello", "", "wörld"], 90)),
    ("ResolveCName", CNAME, CNameRecord("real.example.test", 100)),
    ("ResolvePtr", PTR, PtrRecord("host.example.test", 110)),
    ("ResolveNs", NS, NsRecord("ns1.example.test", 120)),
    ("ResolveSrv", SRV, SrvRecord("sip.example.test", 5060, 1, 5, 130)),
]


def by_type(query: Query) -> list[bytes]:
    return [query.reply(ANSWERS[query.qtype])]


@pytest.mark.parametrize(("method", "qtype", "record"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_record_type_blocking_and_awaited(
    serve: Callable[..., FakeDns], method: str, qtype: int, record: Any
) -> None:
    server = serve(by_type)
    for result in both(server.resolver(), method, "example.test"):
        assert result.ResponseCode == DnsResponseCode.NoError
        assert result.Records == (record,)
        assert result.NegativeCacheTtl == datetime.timedelta(0)
    assert [(q.transport, q.qtype, q.name) for q in server.queries] == [("udp", qtype, "example.test")] * 2
    assert all(q.raw[2:4] == b"\x01\x00" for q in server.queries)  # recursion desired, one question


def test_addresses_by_family_and_both(serve: Callable[..., FakeDns]) -> None:
    resolver = serve(by_type).resolver()
    v4 = AddressRecord(IPAddress.Parse("192.0.2.1"), 60)
    v6 = AddressRecord(IPAddress.Parse("2001:db8::5"), 70)
    assert both(resolver, "ResolveAddresses", "example.test", AddressFamily.InterNetwork)[0].Records == (v4,)
    assert both(resolver, "ResolveAddresses", "example.test", AddressFamily.InterNetworkV6)[0].Records == (v6,)
    assert both(resolver, "ResolveAddresses", "example.test")[0].Records == (v4, v6)  # A's, then AAAA's
    token = CancellationTokenSource().Token
    assert run(resolver.ResolveAddressesAsync("example.test", token)).Records == (v4, v6)
    assert resolver.ResolveAddresses("example.test").Records[0].Ttl == 60 * SECONDS


def test_the_awaitable_form_asks_for_both_families_at_once(serve: Callable[..., FakeDns]) -> None:
    held: list[Query] = []

    def handler(query: Query) -> list[bytes]:
        # The A question is answered only once the AAAA question has come: asked one after the
        # other, the A query would time out first.
        if query.qtype == A:
            held.append(query)
            return []
        for a in held:
            server.udp.sendto(a.reply(ANSWERS[A]), a.peer)
        return [query.reply(ANSWERS[AAAA])]

    server = serve(handler)
    result = run(server.resolver().ResolveAddressesAsync("example.test"))
    assert [r.Address for r in result.Records] == [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::5")]
    assert [q.qtype for q in server.queries] == [A, AAAA]


def test_srv_takes_its_targets_addresses_from_the_additional_section(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        answers = [
            rr(AT_QUESTION, SRV, 30, struct.pack("!HHH", 10, 60, 443) + wire("a.example.test")),
            rr(AT_QUESTION, SRV, 30, struct.pack("!HHH", 20, 0, 8443) + wire("b.example.test")),
        ]
        glue = [
            rr(wire("A.EXAMPLE.test"), A, 5, bytes([127, 0, 0, 9])),
            rr(wire("a.example.test"), AAAA, 6, bytes(15) + b"\x01"),
            rr(wire("other.test"), A, 7, bytes([127, 0, 0, 8])),
        ]
        return [query.reply(answers, additional=glue)]

    result = serve(handler).resolver().ResolveSrv("_https._tcp.example.test")
    first, second = result.Records
    assert (first.Target, first.Port, first.Priority, first.Weight) == ("a.example.test", 443, 10, 60)
    assert first.Addresses == (AddressRecord(IPAddress.Parse("127.0.0.9"), 5), AddressRecord(IPAddress.IPv6Loopback, 6))
    assert second.Addresses == ()


def test_compressed_names_and_several_answers_in_order(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        # Answer 1 spells "mx1" then points at the question's name; answer 2's exchange points into answer 1's.
        first = rr(AT_QUESTION, MX, 10, struct.pack("!H", 5) + b"\x03mx1" + AT_QUESTION)
        offset_mx1 = 12 + len(query.question) + 2 + 10 + 2  # header, question, owner pointer, fixed, preference
        second = rr(AT_QUESTION, MX, 20, struct.pack("!H", 7) + b"\x06backup" + struct.pack("!H", 0xC000 | offset_mx1))
        third = rr(AT_QUESTION, MX, 30, struct.pack("!H", 9) + AT_QUESTION)
        return [query.reply([first, second, third])]

    result = serve(handler).resolver().ResolveMx("Example.Test")
    assert [(r.Exchange, r.Preference, r.Ttl.seconds) for r in result.Records] == [
        ("mx1.Example.Test", 5, 10),
        ("backup.mx1.Example.Test", 7, 20),
        ("Example.Test", 9, 30),
    ]


def test_a_cname_chain_is_followed_by_the_server_and_reported_by_resolve_cname(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        chain = [
            rr(AT_QUESTION, CNAME, 50, wire("hop.example.test")),
            rr(wire("hop.example.test"), CNAME, 40, wire("end.example.test")),
        ]
        if query.qtype == A:
            chain.append(rr(wire("end.example.test"), A, 30, bytes([127, 0, 0, 7])))
        return [query.reply(chain)]

    resolver = serve(handler).resolver()
    assert resolver.ResolveAddresses("www.example.test", AddressFamily.InterNetwork).Records == (
        AddressRecord(IPAddress.Parse("127.0.0.7"), 30),
    )
    assert resolver.ResolveCName("www.example.test").Records == (
        CNameRecord("hop.example.test", 50),
        CNameRecord("end.example.test", 40),
    )


def test_ptr_of_an_address_asks_for_its_arpa_name(serve: Callable[..., FakeDns]) -> None:
    server = serve(by_type)
    resolver = server.resolver()
    assert both(resolver, "ResolvePtr", IPAddress.Parse("192.0.2.10"))[0].Records == (
        PtrRecord("host.example.test", 110),
    )
    resolver.ResolvePtr(IPAddress.Parse("2001:db8::567:89ab"))
    assert [q.name for q in server.queries] == [
        "10.2.0.192.in-addr.arpa",
        "10.2.0.192.in-addr.arpa",
        "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
    ]


def test_an_international_name_goes_out_as_idna_and_comes_back_in_unicode(serve: Callable[..., FakeDns]) -> None:
    server = serve(lambda q: [q.reply([rr(AT_QUESTION, CNAME, 1, wire("xn--caf-dma.example.test"))])])
    assert server.resolver().ResolveCName("bücher.example.test.").Records == (CNameRecord("café.example.test", 1),)
    assert server.queries[0].name == "xn--bcher-kva.example.test"


# -- negative answers are results ------------------------------------------------------------------


def test_nxdomain_is_a_result_with_the_soa_negative_ttl(serve: Callable[..., FakeDns]) -> None:
    server = serve(lambda q: [q.reply(authority=[soa(wire("example.test"), 300, 60)], rcode=3)])
    for result in both(server.resolver(), "ResolveTxt", "missing.example.test"):
        assert (result.ResponseCode, result.Records) == (DnsResponseCode.NxDomain, ())
        assert result.NegativeCacheTtl == 60 * SECONDS  # min(SOA TTL, SOA MINIMUM), RFC 2308 section 5


def test_nodata_is_noerror_without_records_and_with_the_soa_negative_ttl(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        other_type = rr(AT_QUESTION, A, 9, bytes(4))  # an answer of another type is not a record of this one
        return [query.reply([other_type], authority=[soa(wire("example.test"), 30, 600)])]

    result = serve(handler).resolver().ResolveMx("example.test")
    assert (result.ResponseCode, result.Records, result.NegativeCacheTtl) == (DnsResponseCode.NoError, (), 30 * SECONDS)


@pytest.mark.parametrize(
    ("rcode", "expected"),
    [(2, DnsResponseCode.ServerFailure), (5, DnsResponseCode.Refused), (9, DnsResponseCode(9))],
    ids=["servfail", "refused", "unnamed"],
)
def test_server_errors_are_results_without_records(serve: Callable[..., FakeDns], rcode: int, expected: Any) -> None:
    server = serve(lambda q: [q.reply(rcode=rcode)])
    result = server.resolver().ResolveNs("example.test")
    assert (result.ResponseCode, result.Records, result.NegativeCacheTtl) == (expected, (), datetime.timedelta(0))
    assert int(result.ResponseCode) == rcode
    assert len(server.queries) == 1  # an answer, not a failure: not asked again


def test_both_families_merge_negative_answers(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        if query.qtype == A:
            return [query.reply(authority=[soa(wire("test"), 100, 100)], rcode=3)]
        return [query.reply(authority=[soa(wire("test"), 40, 900)])]

    result = serve(handler).resolver().ResolveAddresses("gone.test")
    assert (result.ResponseCode, result.Records, result.NegativeCacheTtl) == (
        DnsResponseCode.NxDomain,
        (),
        40 * SECONDS,
    )


# -- transport ---------------------------------------------------------------------------------------


def many_txt(query: Query) -> list[bytes]:
    return [rr(AT_QUESTION, TXT, 1, bytes([50]) + b"%02d" % i + b"x" * 48) for i in range(30)]


@pytest.mark.parametrize("awaited", [False, True], ids=["blocking", "awaited"])
def test_a_truncated_answer_is_asked_again_over_tcp(serve: Callable[..., FakeDns], awaited: bool) -> None:
    def handler(query: Query) -> list[bytes]:
        if query.transport == "udp":
            return [query.reply(many_txt(query)[:5], tc=True)]
        return [struct.pack("!H", len(msg)) + msg for msg in [query.reply(many_txt(query))]]

    server = serve(handler)
    resolver = server.resolver()
    result = run(resolver.ResolveTxtAsync("big.test")) if awaited else resolver.ResolveTxt("big.test")
    assert len(result.Records) == 30 and result.Records[29].Values == ("29" + "x" * 48,)
    assert [q.transport for q in server.queries] == ["udp", "tcp"]
    assert server.queries[0].raw == server.queries[1].raw  # the same question, the same ID


def test_a_wrong_id_or_another_question_is_ignored(serve: Callable[..., FakeDns]) -> None:
    def handler(query: Query) -> list[bytes]:
        other = struct.pack("!HH", TXT, 1)
        forged = [rr(AT_QUESTION, MX, 1, struct.pack("!H", 99) + wire("forged.test"))]
        return [
            query.reply(forged, qid=query.id ^ 1),  # another ID
            query.reply(forged, question=wire("other.test") + query.question[-4:]),  # another name
            query.reply(forged, question=query.question[:-4] + other),  # another type
            query.raw[:4] + b"\0\1\0\1\0\0\0\0" + query.question + forged[0],  # not a response (QR clear)
            query.reply(ANSWERS[MX]),
        ]

    server = serve(handler)
    for result in both(server.resolver(), "ResolveMx", "example.test"):
        assert result.Records == (MxRecord("mail.example.test", 10, 80),)
    assert len(server.queries) == 2  # one per form: nothing was asked twice


@pytest.mark.parametrize("awaited", [False, True], ids=["blocking", "awaited"])
def test_no_answer_is_a_timeout_after_every_attempt(serve: Callable[..., FakeDns], awaited: bool) -> None:
    server = serve(lambda q: [])
    resolver = server.resolver()
    start = time.monotonic()
    with pytest.raises(TimeoutException):
        run(resolver.ResolveNsAsync("example.test")) if awaited else resolver.ResolveNs("example.test")
    elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < WAIT  # two attempts of 0.3 s
    assert len(server.queries) == 2
    assert len({q.id for q in server.queries}) == 1  # a retry repeats the same query


def test_the_next_server_is_asked_when_one_is_silent(serve: Callable[..., FakeDns]) -> None:
    silent, good = serve(lambda q: []), serve(by_type)
    resolver = DnsResolver(DnsResolverOptions([silent.endpoint, good.endpoint]))
    assert resolver.ResolveMx("example.test").Records == (MxRecord("mail.example.test", 10, 80),)
    assert (len(silent.queries), len(good.queries)) == (2, 1)


def test_a_refused_port_is_a_socket_exception() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    resolver = DnsResolver(DnsResolverOptions([IPEndPoint(IPAddress.Loopback, port)]))
    with pytest.raises(SocketException) as info:
        resolver.ResolveMx("example.test")
    assert info.value.SocketErrorCode == SocketError.ConnectionRefused
    with pytest.raises(SocketException):
        run(resolver.ResolveMxAsync("example.test"))
    for family in (AddressFamily.Unspecified, AddressFamily.InterNetworkV6):  # both queries at once, or one
        with pytest.raises(SocketException) as both_families:
            run(resolver.ResolveAddressesAsync("example.test", family))
        assert both_families.value.SocketErrorCode == SocketError.ConnectionRefused


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_an_ipv6_server(serve: Callable[..., FakeDns]) -> None:
    server = serve(by_type, "::1")
    assert both(server.resolver(), "ResolveMx", "example.test")[0].Records == (MxRecord("mail.example.test", 10, 80),)


# -- malformed answers -------------------------------------------------------------------------------


def _header(query: Query, an: int = 1) -> bytes:
    return struct.pack("!HHHHHH", query.id, 0x8180, 1, an, 0, 0) + query.question


MALFORMED: dict[str, Callable[[Query], bytes]] = {
    "short header": lambda q: q.raw[:2],
    "no question": lambda q: struct.pack("!HHHHHH", q.id, 0x8180, 0, 0, 0, 0),
    "forward pointer": lambda q: _header(q) + rr(b"\xc0\xff", MX, 1, b"\0\0\0"),
    "self pointer": lambda q: _header(q) + rr(AT_QUESTION, MX, 1, b"\0\1" + b"\xc0" + bytes([len(_header(q)) + 14])),
    "label past the end": lambda q: _header(q) + b"\x3fabc",
    "forward pointer to a good name": lambda q: (
        _header(q) + rr(b"\xc0" + bytes([len(_header(q)) + 14]), MX, 1, b"\0\1" + wire("x.test"))
    ),
    "rdlength past the end": lambda q: _header(q) + AT_QUESTION + struct.pack("!HHIH", MX, 1, 1, 500) + b"\0\1",
    "name past its rdata": lambda q: _header(q) + rr(AT_QUESTION, MX, 1, b"\0\1\x04ab"),
    "more answers than bytes": lambda q: _header(q, an=60000) + rr(AT_QUESTION, MX, 1, b"\0\1\0"),
    "bad label type": lambda q: _header(q) + rr(b"\x80a\0", MX, 1, b"\0\1\0"),
    "mx too short": lambda q: _header(q) + rr(AT_QUESTION, MX, 1, b"\0"),
}


@pytest.mark.parametrize("make", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_is_invalid_data(serve: Callable[..., FakeDns], make: Callable[[Query], bytes]) -> None:
    server = serve(lambda q: [make(q)])
    resolver = server.resolver()
    start = time.monotonic()
    with pytest.raises(InvalidDataException):
        resolver.ResolveMx("example.test")
    with pytest.raises(InvalidDataException):
        run(resolver.ResolveMxAsync("example.test"))
    assert time.monotonic() - start < WAIT


def test_an_address_record_of_the_wrong_length_is_invalid_data(serve: Callable[..., FakeDns]) -> None:
    server = serve(lambda q: [q.reply([rr(AT_QUESTION, A, 1, b"\1\2\3")])])
    with pytest.raises(InvalidDataException):
        server.resolver().ResolveAddresses("example.test", AddressFamily.InterNetwork)


def _question(name: str, qtype: int) -> bytes:
    return wire(name) + struct.pack("!HH", qtype, 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    qtype=st.sampled_from([A, AAAA, MX, TXT, CNAME, PTR, NS, SRV]),
    counts=st.tuples(*[st.integers(0, 70000 if i == 0 else 5) for i in range(3)]),
    rcode=st.integers(0, 15),
    body=st.binary(max_size=600),
)
def test_random_bytes_after_a_valid_question_parse_or_raise_invalid_data(
    qtype: int, counts: tuple[int, int, int], rcode: int, body: bytes
) -> None:
    an, ns, ar = counts
    message = struct.pack("!HHHHHH", 7, 0x8180 | rcode, 1, min(an, 0xFFFF), ns, ar) + _question("a.test", qtype) + body
    try:
        result = _dnsquery.parse_answer(message, qtype)
    except InvalidDataException:
        return
    assert isinstance(result, DnsResult)
    assert result.ResponseCode == rcode


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_datagrams_are_accepted_ignored_or_invalid_data(data: bytes) -> None:
    labels = [b"a", b"test"]
    try:
        verdict = _dnsquery._verdict(data, 7, labels, MX)
    except InvalidDataException:
        return
    assert verdict in ("accept", "ignore", "truncated")


def test_random_answers_from_the_server_never_hang(serve: Callable[..., FakeDns]) -> None:
    import random

    rng = random.Random(11)
    replies = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))) for _ in range(20)]
    server = serve(lambda q: [_header(q, an=rng.randrange(4)) + replies[len(server.queries) % 20]])
    resolver = server.resolver()
    for _ in range(10):
        try:
            resolver.ResolveTxt("a.test")
        except (InvalidDataException, TimeoutException):
            pass


# -- arguments, disposal, cancellation ---------------------------------------------------------------


def test_name_checks_and_their_param_names() -> None:
    resolver = DnsResolver(DnsResolverOptions([IPEndPoint(IPAddress.Loopback, 9)]))
    for method in (
        "ResolveAddresses",
        "ResolveSrv",
        "ResolveMx",
        "ResolveTxt",
        "ResolveCName",
        "ResolvePtr",
        "ResolveNs",
    ):
        for form in (method, method + "Async"):
            with pytest.raises(ArgumentNullException) as null:
                getattr(resolver, form)(None)
            assert null.value.ParamName == "name"
            with pytest.raises(ArgumentException) as empty:
                getattr(resolver, form)("")
            assert type(empty.value) is ArgumentException and empty.value.ParamName == "name"
    resolver.Dispose()
    with pytest.raises(ArgumentNullException):  # the argument is checked before the disposal, as in .NET
        resolver.ResolveMx(None)  # type: ignore[arg-type]
    with pytest.raises(ObjectDisposedException) as disposed:
        resolver.ResolveMx("example.test")
    assert disposed.value.ObjectName == "System.Net.DnsResolver"
    with pytest.raises(ObjectDisposedException):
        resolver.ResolvePtrAsync(IPAddress.Loopback)


@pytest.mark.parametrize(
    "name",
    ["a" * 64 + ".test", ".".join(["abcdefghi"] * 26), "a..test", "-a.test", "a b.test", "bad\0.test", ".test"],
    ids=["label over 63", "over 255", "empty label", "leading hyphen", "space", "nul", "leading dot"],
)
def test_a_name_dns_cannot_carry_is_an_argument_exception_from_the_lookup(
    serve: Callable[..., FakeDns], name: str
) -> None:
    server = serve(by_type)
    resolver = server.resolver()
    with pytest.raises(ArgumentException) as info:
        resolver.ResolveTxt(name)
    assert info.value.ParamName == "name"
    awaitable = resolver.ResolveTxtAsync(name)  # the call does not raise: the awaitable does, as a .NET task
    with pytest.raises(ArgumentException):
        run(awaitable)
    assert server.queries == []


def test_names_at_the_limits_are_asked(serve: Callable[..., FakeDns]) -> None:
    server = serve(by_type)
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters, 255 bytes on the wire
    server.resolver().ResolveTxt(longest + ".")
    server.resolver().ResolveTxt("_sip._udp.x-y.test")
    assert [q.name for q in server.queries] == [longest, "_sip._udp.x-y.test"]


def test_resolver_construction_checks() -> None:
    with pytest.raises(ArgumentNullException) as null:
        DnsResolver(None)  # type: ignore[arg-type]
    assert null.value.ParamName == "options"
    with pytest.raises(ArgumentException) as entry:
        DnsResolver(DnsResolverOptions([None]))  # type: ignore[list-item]
    assert entry.value.ParamName == "options.Servers"
    options = DnsResolverOptions()
    with pytest.raises(ArgumentNullException):
        options.Servers = None  # type: ignore[assignment]
    with pytest.raises(ArgumentException) as family:
        run(DnsResolver(options).ResolveAddressesAsync("a.test", 99))
    assert family.value.ParamName == "addressFamily"


def test_the_resolver_copies_its_servers(serve: Callable[..., FakeDns]) -> None:
    server = serve(by_type)
    endpoint = IPEndPoint(IPAddress.Loopback, server.endpoint.Port)
    options = DnsResolverOptions()
    options.Servers.append(endpoint)
    resolver = DnsResolver(options)
    endpoint.Port = 9
    options.Servers.clear()
    assert resolver.ResolveMx("example.test").Records[0].Preference == 10


def test_port_zero_means_the_dns_port(serve: Callable[..., FakeDns], monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(by_type)
    monkeypatch.setattr(_dnsquery, "DNS_PORT", server.endpoint.Port)
    resolver = DnsResolver(DnsResolverOptions([IPEndPoint(IPAddress.Loopback, 0)]))
    assert resolver.ResolveNs("example.test").Records == (NsRecord("ns1.example.test", 120),)


def test_a_cancelled_token_ends_the_awaitable_before_any_query(serve: Callable[..., FakeDns]) -> None:
    server = serve(by_type)
    source = CancellationTokenSource()
    source.Cancel()
    with pytest.raises(TaskCanceledException) as info:
        run(server.resolver().ResolveMxAsync("example.test", source.Token))
    assert info.value.CancellationToken == source.Token
    assert server.queries == []


@pytest.mark.parametrize("method", ["ResolveMxAsync", "ResolveAddressesAsync"])
def test_cancelling_during_a_query_ends_it_promptly(
    serve: Callable[..., FakeDns], monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setattr(_dnsquery, "QUERY_TIMEOUT", 30.0)
    server = serve(lambda q: [])

    async def scenario() -> float:
        source = CancellationTokenSource()
        task = asyncio.ensure_future(getattr(server.resolver(), method)("example.test", source.Token))
        await asyncio.sleep(0)
        source.CancelAfter(100)
        start = time.monotonic()
        with pytest.raises(TaskCanceledException):
            await asyncio.wait_for(task, WAIT)
        return time.monotonic() - start

    assert run(scenario()) < WAIT / 2
    assert 1 <= len(server.queries) <= 2


# -- the static methods use the system's servers --------------------------------------------------------


def test_static_methods_ask_the_servers_of_resolv_conf(
    serve: Callable[..., FakeDns], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = serve(by_type)
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# comment\n; another\nsearch example.test\noptions ndots:5\nnameserverx 192.0.2.9\n"
        "nameserver not-an-address\n  nameserver\t127.0.0.1  # trailing words are ignored\n"
    )
    monkeypatch.setattr(_dnsquery, "RESOLV_CONF", str(conf))
    monkeypatch.setattr(_dnsquery, "DNS_PORT", server.endpoint.Port)
    assert Dns.ResolveMx("example.test").Records == (MxRecord("mail.example.test", 10, 80),)
    assert Dns.resolve_mx is Dns.ResolveMx
    assert run(Dns.ResolveSrvAsync("example.test")).Records[0].Port == 5060
    assert Dns.ResolvePtr(IPAddress.Parse("127.0.0.1")).Records[0].Name == "host.example.test"
    assert len(Dns.ResolveAddresses("example.test").Records) == 2
    assert run(Dns.ResolveAddressesAsync("example.test", AddressFamily.InterNetwork)).Records[0].Ttl == 60 * SECONDS
    for method in ("ResolveTxt", "ResolveCName", "ResolveNs"):
        assert len(getattr(Dns, method)("example.test").Records) == 1
        assert len(run(getattr(Dns, method + "Async")("example.test")).Records) == 1
    # search/ndots are not applied, as in .NET: the name is asked as given
    assert {q.name for q in server.queries} == {"example.test", "1.0.0.127.in-addr.arpa"}
    with pytest.raises(ArgumentNullException):
        Dns.ResolveTxt(None)  # type: ignore[arg-type]


def test_without_nameserver_lines_the_local_host_is_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.test\n")
    monkeypatch.setattr(_dnsquery, "RESOLV_CONF", str(conf))
    assert _dnsquery.system_servers() == [IPEndPoint(IPAddress.Loopback, 53)]
    monkeypatch.setattr(_dnsquery, "RESOLV_CONF", str(tmp_path / "missing"))
    assert _dnsquery.system_servers() == [IPEndPoint(IPAddress.Loopback, 53)]
    conf.write_text("nameserver ::1\nnameserver 127.0.0.2\n")
    assert _dnsquery.parse_resolv_conf(conf.read_text()) == [
        IPEndPoint(IPAddress.IPv6Loopback, 53),
        IPEndPoint(IPAddress.Parse("127.0.0.2"), 53),
    ]


# -- the value types --------------------------------------------------------------------------------------


def test_records_and_results_are_values() -> None:
    assert MxRecord("m.test", 1, 5) == MxRecord("m.test", 1, 5 * SECONDS)
    assert MxRecord("m.test", 1, 5) != MxRecord("m.test", 2, 5)
    assert len({TxtRecord(["a"], 1), TxtRecord(("a",), 1)}) == 1
    empty: DnsResult[MxRecord] = DnsResult()
    assert (empty.ResponseCode, empty.Records, empty.NegativeCacheTtl) == (
        DnsResponseCode.NoError,
        (),
        datetime.timedelta(0),
    )
    assert str(DnsResponseCode.NxDomain) == "NxDomain" and int(DnsResponseCode.Refused) == 5
    assert "Exchange='m.test'" in repr(MxRecord("m.test", 1, 5))
    assert SrvRecord("t", 1, 2, 3).addresses == () and AddressRecord(IPAddress.Loopback).ttl == datetime.timedelta(0)
    assert str(TimeoutException()) == "The operation has timed out."
    assert isinstance(TimeoutException(), TimeoutError)
