"""The DNS stub client behind ``DnsResolver``: wire format, transport, and answer parsing.

What .NET 11's managed resolver on Linux does, as its sources show: one question with recursion
desired, over UDP to each server in turn, each asked up to ``ATTEMPTS`` times with a fresh socket
and ``QUERY_TIMEOUT`` seconds each; a truncated answer is asked again over TCP of the same server;
the servers come from ``DnsResolverOptions.Servers`` or else from the ``nameserver`` lines of
``/etc/resolv.conf`` (no ``search``/``ndots``: .NET applies neither), else ``127.0.0.1``.  When every
attempt fails, the last failure is raised: ``TimeoutException``, ``SocketException`` or
``InvalidDataException``.

One difference, on purpose: a datagram with another ID, or one answering another question, is
ignored and the attempt keeps waiting until its deadline (.NET ends the attempt), so a stray or
forged datagram cannot cost an answer.

The exchange is written once, as coroutines over an ``_Io`` object: ``LOOP`` awaits the running
asyncio loop; ``BLOCKING`` does blocking calls with timeouts and never suspends, so
:func:`run_blocking` finishes the coroutine in one step (.NET's ``async: false`` path likewise).
Nothing read from the wire is trusted: every length and pointer is checked against the message,
and a malformed message raises ``InvalidDataException`` (never an ``IndexError``, never a loop).
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
import socket
import struct
import time
from collections.abc import Coroutine, Sequence
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from .addresses import IPAddress, IPEndPoint
from .dnsrecords import (
    AddressRecord,
    CNameRecord,
    DnsResponseCode,
    DnsResult,
    MxRecord,
    NsRecord,
    PtrRecord,
    SrvRecord,
    TxtRecord,
)
from .enums import AddressFamily
from .exceptions import ArgumentException, InvalidDataException, SocketException, TimeoutException

__all__ = ["RESOLV_CONF", "QUERY_TIMEOUT", "ATTEMPTS", "BLOCKING", "LOOP", "run_blocking", "resolve", "arpa_name"]

# Read at each query, so that tests can point them elsewhere (the static Dns.Resolve… included).
RESOLV_CONF = "/etc/resolv.conf"
QUERY_TIMEOUT = 3.0  # seconds, per attempt (.NET: 3 s)
ATTEMPTS = 3  # per server (.NET: one try and two retries)

DNS_PORT = 53  # what a resolv.conf server is asked on
_UDP_RECEIVE: Final = 65535  # any datagram whole: a large answer is taken, not cut at 512 bytes

A: Final = 1
NS: Final = 2
CNAME: Final = 5
SOA: Final = 6
PTR: Final = 12
MX: Final = 15
TXT: Final = 16
AAAA: Final = 28
SRV: Final = 33

_CLASS_IN: Final = 1
_FLAG_QR: Final = 0x8000
_FLAG_TC: Final = 0x0200
_FLAG_RD: Final = 0x0100
_HEADER = struct.Struct("!HHHHHH")
_MAX_NAME_WIRE: Final = 255
_MAX_NAME_TEXT: Final = 253
_MAX_POINTER_HOPS: Final = 16
_LDH: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")

_T = TypeVar("_T")


def _malformed(what: str) -> InvalidDataException:
    return InvalidDataException(f"The DNS response is malformed: {what}.")


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def encode_name(name: str) -> bytes:
    """The wire form of ``name`` (IDNA for non-ASCII, a trailing dot allowed, ``"."`` the root).

    Raises ``ArgumentException`` (``name``) for a name DNS cannot carry: an empty label, a label
    over 63 bytes or with characters other than letters, digits, ``-`` (not first or last) and
    ``_``, or over 255 bytes in all.
    """
    if name == ".":
        return b"\0"
    text = name
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise _invalid_name(name) from None
    if text.endswith("."):
        text = text[:-1]
    if len(text) + 2 > _MAX_NAME_WIRE:
        raise _invalid_name(name)
    out = bytearray()
    for label in text.encode("ascii").split(b"."):
        if not 0 < len(label) <= 63 or label[:1] == b"-" or label[-1:] == b"-" or not _LDH.issuperset(label):
            raise _invalid_name(name)
        out.append(len(label))
        out += label
    out.append(0)
    return bytes(out)


def _invalid_name(name: str) -> ArgumentException:
    shown = name if len(name) <= 80 else name[:77] + "..."
    return ArgumentException(f"'{shown}' is not a valid DNS name.", "name")


def _labels_of(wire: bytes) -> list[bytes]:
    """The lower-cased labels of a name encoded by :func:`encode_name`."""
    labels, at = [], 0
    while wire[at]:
        labels.append(wire[at + 1 : at + 1 + wire[at]].lower())
        at += 1 + wire[at]
    return labels


def _read_labels(data: bytes, offset: int) -> tuple[list[bytes], int]:
    """The labels of the name at ``offset`` and the offset after it (compression pointers followed).

    A pointer must point backwards (so no loop is possible) and at most 16 are followed; the name
    may not exceed 253 characters.
    """
    labels: list[bytes] = []
    end = -1
    hops = 0
    text_length = 0
    at = offset
    size = len(data)
    while True:
        if at >= size:
            raise _malformed("a name runs past the end of the message")
        length = data[at]
        if length & 0xC0 == 0xC0:
            if at + 1 >= size:
                raise _malformed("a compression pointer is cut off")
            if end < 0:
                end = at + 2
            target = ((length & 0x3F) << 8) | data[at + 1]
            hops += 1
            if target >= at or hops > _MAX_POINTER_HOPS:
                raise _malformed("a compression pointer does not point back")
            at = target
            continue
        if length & 0xC0:
            raise _malformed("a label has an unknown type")
        if length == 0:
            return labels, (at + 1 if end < 0 else end)
        if at + 1 + length > size:
            raise _malformed("a label runs past the end of the message")
        text_length += length + (1 if labels else 0)
        if text_length > _MAX_NAME_TEXT:
            raise _malformed("a name is longer than 253 characters")
        labels.append(data[at + 1 : at + 1 + length])
        at += 1 + length


def _name_text(labels: list[bytes]) -> str:
    """The dotted form, no trailing dot (``"."`` for the root); IDNA labels shown in Unicode."""
    if not labels:
        return "."
    text = ".".join(label.decode("ascii", "replace") for label in labels)
    if any(label[:4].lower() == b"xn--" for label in labels):
        try:
            return text.encode("ascii").decode("idna")
        except UnicodeError:
            return text
    return text


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The dotted name at ``offset`` and the offset after it."""
    labels, end = _read_labels(data, offset)
    return _name_text(labels), end


def arpa_name(address: IPAddress) -> str:
    """The reverse-lookup name of an address: ``4.3.2.1.in-addr.arpa`` or the 32 nibbles of ``ip6.arpa``."""
    raw = address.GetAddressBytes()
    if address.AddressFamily == AddressFamily.InterNetwork:
        return ".".join(str(b) for b in reversed(raw)) + ".in-addr.arpa"
    return "".join(f"{b & 0xF:x}.{b >> 4:x}." for b in reversed(raw)) + "ip6.arpa"


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


def build_query(query_id: int, name_wire: bytes, qtype: int) -> bytes:
    return _HEADER.pack(query_id, _FLAG_RD, 1, 0, 0, 0) + name_wire + struct.pack("!HH", qtype, _CLASS_IN)


class _Record(NamedTuple):
    labels: list[bytes]
    rtype: int
    ttl: int
    start: int  # of the RDATA
    end: int


class _Message(NamedTuple):
    flags: int
    answers: list[_Record]
    authority: list[_Record]
    additional: list[_Record]


def _u16(data: bytes, at: int, end: int) -> int:
    if at + 2 > end:
        raise _malformed("a record's data is too short")
    return (data[at] << 8) | data[at + 1]


def _skip_question(data: bytes, at: int) -> tuple[list[bytes], int, int]:
    labels, at = _read_labels(data, at)
    if at + 4 > len(data):
        raise _malformed("the question is cut off")
    return labels, _u16(data, at, len(data)), at + 4


def _read_records(data: bytes, at: int, count: int) -> tuple[list[_Record], int]:
    records = []
    # Each record takes at least 11 bytes, so a count the message cannot hold fails at once.
    for _ in range(count):
        labels, at = _read_labels(data, at)
        if at + 10 > len(data):
            raise _malformed("a record header is cut off")
        rtype, _rclass, ttl, rdlength = struct.unpack_from("!HHIH", data, at)
        start = at + 10
        at = start + rdlength
        if at > len(data):
            raise _malformed("a record's data runs past the end of the message")
        records.append(_Record(labels, rtype, ttl, start, at))
    return records, at


def parse_message(data: bytes) -> _Message:
    """Every section of a message, checked against its length; raises ``InvalidDataException``."""
    if len(data) < _HEADER.size:
        raise _malformed("shorter than a header")
    _id, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    at = _HEADER.size
    for _ in range(qdcount):
        _labels, _qtype, at = _skip_question(data, at)
    answers, at = _read_records(data, at, ancount)
    authority, at = _read_records(data, at, nscount)
    additional, _ = _read_records(data, at, arcount)
    return _Message(flags, answers, authority, additional)


def _name_in(data: bytes, at: int, end: int) -> str:
    """A name inside RDATA: its own bytes must end within the RDATA."""
    name, after = read_name(data, at)
    if after > end:
        raise _malformed("a name runs past its record's data")
    return name


def _address(data: bytes, record: _Record) -> IPAddress:
    want = 4 if record.rtype == A else 16
    if record.end - record.start != want:
        raise _malformed("an address record has the wrong length")
    return IPAddress(data[record.start : record.end])


def _strings(data: bytes, record: _Record) -> list[str]:
    values = []
    at = record.start
    while at < record.end:
        length = data[at]
        if at + 1 + length > record.end:
            raise _malformed("a TXT string runs past its record's data")
        values.append(data[at + 1 : at + 1 + length].decode("utf-8", "replace"))
        at += 1 + length
    return values


def _negative_ttl(data: bytes, message: _Message) -> datetime.timedelta:
    for record in message.authority:
        if record.rtype == SOA:
            _mname, at = read_name(data, record.start)
            _rname, at = read_name(data, at)
            if at + 20 > record.end:
                raise _malformed("an SOA record is too short")
            (minimum,) = struct.unpack_from("!I", data, at + 16)
            return datetime.timedelta(seconds=min(record.ttl, minimum))
    return datetime.timedelta(0)


def _ttl(record: _Record) -> datetime.timedelta:
    return datetime.timedelta(seconds=record.ttl)


def _record_of(data: bytes, qtype: int, record: _Record, glue: dict[str, list[AddressRecord]]) -> Any:
    start, end = record.start, record.end
    if qtype in (A, AAAA):
        return AddressRecord(_address(data, record), _ttl(record))
    if qtype == CNAME:
        return CNameRecord(_name_in(data, start, end), _ttl(record))
    if qtype == PTR:
        return PtrRecord(_name_in(data, start, end), _ttl(record))
    if qtype == NS:
        return NsRecord(_name_in(data, start, end), _ttl(record))
    if qtype == MX:
        return MxRecord(_name_in(data, start + 2, end), _u16(data, start, end), _ttl(record))
    if qtype == TXT:
        return TxtRecord(_strings(data, record), _ttl(record))
    priority, weight, port = _u16(data, start, end), _u16(data, start + 2, end), _u16(data, start + 4, end)
    target = _name_in(data, start + 6, end)
    return SrvRecord(target, port, priority, weight, _ttl(record), glue.get(target.lower(), ()))


def _glue(data: bytes, message: _Message) -> dict[str, list[AddressRecord]]:
    glue: dict[str, list[AddressRecord]] = {}
    for record in message.additional:
        if record.rtype in (A, AAAA):
            owner = _name_text(record.labels).lower()
            glue.setdefault(owner, []).append(AddressRecord(_address(data, record), _ttl(record)))
    return glue


def parse_answer(data: bytes, qtype: int) -> DnsResult[Any]:
    """The ``DnsResult`` of an accepted answer: the answer section's records of ``qtype`` (a CNAME
    chain's own records are left out unless CNAME was asked), or the negative answer."""
    message = parse_message(data)
    code = DnsResponseCode(message.flags & 0xF)
    if code != DnsResponseCode.NoError:
        return DnsResult(code, (), _negative_ttl(data, message))
    glue = _glue(data, message) if qtype == SRV else {}
    records = [_record_of(data, qtype, r, glue) for r in message.answers if r.rtype == qtype]
    negative = _negative_ttl(data, message) if not records else datetime.timedelta(0)
    return DnsResult(DnsResponseCode.NoError, records, negative)


def merge_addresses(a: DnsResult[AddressRecord], aaaa: DnsResult[AddressRecord]) -> DnsResult[AddressRecord]:
    """``ResolveAddresses`` for both families: A's records then AAAA's; when both are empty, NXDOMAIN
    if either said so, else the first error, with the smaller non-zero negative TTL."""
    if a.Records or aaaa.Records:
        return DnsResult(DnsResponseCode.NoError, a.Records + aaaa.Records)
    if DnsResponseCode.NxDomain in (a.ResponseCode, aaaa.ResponseCode):
        code = DnsResponseCode.NxDomain
    else:
        code = a.ResponseCode if a.ResponseCode != DnsResponseCode.NoError else aaaa.ResponseCode
    ttls = [t for t in (a.NegativeCacheTtl, aaaa.NegativeCacheTtl) if t > datetime.timedelta(0)]
    return DnsResult(code, (), min(ttls, default=datetime.timedelta(0)))


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


def parse_resolv_conf(text: str) -> list[IPEndPoint]:
    """The ``nameserver`` lines' addresses, in order, port 53 (what .NET reads; nothing else)."""
    servers = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("nameserver") or line[10:11] not in (" ", "\t"):
            continue
        fields = line[10:].split()
        if fields:
            ok, address = IPAddress.TryParse(fields[0])
            if ok and address is not None:
                servers.append(IPEndPoint(address, DNS_PORT))
    return servers


def system_servers() -> list[IPEndPoint]:
    try:
        with open(RESOLV_CONF, encoding="utf-8", errors="replace") as file:
            servers = parse_resolv_conf(file.read(1 << 20))
    except OSError:
        servers = []
    return servers or [IPEndPoint(IPAddress.Loopback, DNS_PORT)]


class _Server(NamedTuple):
    family: int
    sockaddr: tuple[Any, ...]


def _servers(configured: Sequence[IPEndPoint]) -> list[_Server]:
    out = []
    for endpoint in configured or system_servers():
        port = endpoint.Port or DNS_PORT
        address = endpoint.Address
        if address.AddressFamily == AddressFamily.InterNetwork:
            out.append(_Server(socket.AF_INET, (address._sockaddr_host(), port)))
        else:
            out.append(_Server(socket.AF_INET6, (address._sockaddr_host(), port, 0, address.ScopeId)))
    return out


# --------------------------------------------------------------------------
# Transport
# --------------------------------------------------------------------------


class _Io(Protocol):
    def prepare(self, sock: socket.socket) -> None: ...
    async def connect(self, sock: socket.socket, address: tuple[Any, ...], deadline: float) -> None: ...
    async def send(self, sock: socket.socket, data: bytes, deadline: float) -> None: ...
    async def recv(self, sock: socket.socket, size: int, deadline: float) -> bytes: ...
    async def both(
        self, first: Coroutine[Any, Any, _T], second: Coroutine[Any, Any, _T]
    ) -> tuple[_T, _T]: ...


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _BlockingIo:
    """Blocking calls, each bounded by the attempt's deadline; its coroutines never suspend."""

    def prepare(self, sock: socket.socket) -> None:
        pass

    async def connect(self, sock: socket.socket, address: tuple[Any, ...], deadline: float) -> None:
        sock.settimeout(_remaining(deadline))
        sock.connect(address)

    async def send(self, sock: socket.socket, data: bytes, deadline: float) -> None:
        sock.settimeout(_remaining(deadline))
        sock.sendall(data)

    async def recv(self, sock: socket.socket, size: int, deadline: float) -> bytes:
        sock.settimeout(_remaining(deadline))
        return sock.recv(size)

    async def both(
        self, first: Coroutine[Any, Any, _T], second: Coroutine[Any, Any, _T]
    ) -> tuple[_T, _T]:
        try:
            one = await first
        except BaseException:
            second.close()  # never started: close it so it is not reported as never awaited
            raise
        return one, await second


class _LoopIo:
    """The running asyncio loop's socket calls, each bounded by the attempt's deadline."""

    def prepare(self, sock: socket.socket) -> None:
        sock.setblocking(False)

    async def connect(self, sock: socket.socket, address: tuple[Any, ...], deadline: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, address), _remaining(deadline))

    async def send(self, sock: socket.socket, data: bytes, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_sendall(sock, data), _remaining(deadline))

    async def recv(self, sock: socket.socket, size: int, deadline: float) -> bytes:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.sock_recv(sock, size), _remaining(deadline))

    async def both(
        self, first: Coroutine[Any, Any, _T], second: Coroutine[Any, Any, _T]
    ) -> tuple[_T, _T]:
        # Both at once.  A's failure is raised before AAAA's, as .NET awaits the two tasks in that
        # order; the other query is then cancelled (no TaskGroup: it would wrap the failure in an
        # ExceptionGroup, which no .NET caller expects).
        one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
        try:
            return await one, await two
        except BaseException:
            one.cancel()
            two.cancel()
            await asyncio.gather(one, two, return_exceptions=True)
            raise


BLOCKING: Final[_Io] = _BlockingIo()
LOOP: Final[_Io] = _LoopIo()


def run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Finish a coroutine driven by ``BLOCKING`` in one step (it has nothing to wait for)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a blocking DNS query suspended")  # pragma: no cover - a bug, not an input


_IGNORE: Final = "ignore"
_TRUNCATED: Final = "truncated"
_ACCEPT: Final = "accept"


def _verdict(data: bytes, query_id: int, labels: list[bytes], qtype: int) -> str:
    """Whether a reply answers the query: accept it, ask again over TCP, or ignore it (another ID,
    not a response, another question); a reply that cannot be read raises ``InvalidDataException``."""
    if len(data) >= 2 and (data[0] << 8 | data[1]) != query_id:
        return _IGNORE
    if len(data) < _HEADER.size:
        raise _malformed("shorter than a header")
    _id, flags, qdcount, _an, _ns, _ar = _HEADER.unpack_from(data)
    if not flags & _FLAG_QR:
        return _IGNORE
    if qdcount != 1:
        raise _malformed("the answer does not repeat the one question")
    got, got_type, _ = _skip_question(data, _HEADER.size)
    if got_type != qtype or [label.lower() for label in got] != labels:
        return _IGNORE
    return _TRUNCATED if flags & _FLAG_TC else _ACCEPT


async def _udp(io: _Io, server: _Server, query: bytes, labels: list[bytes], qtype: int) -> bytes | None:
    """One UDP attempt: the accepted answer, or None when it came truncated."""
    deadline = time.monotonic() + QUERY_TIMEOUT
    query_id = query[0] << 8 | query[1]
    with socket.socket(server.family, socket.SOCK_DGRAM) as sock:
        io.prepare(sock)
        await io.connect(sock, server.sockaddr, deadline)
        await io.send(sock, query, deadline)
        while True:  # bounded by the deadline: every receive raises TimeoutError once it passes
            data = await io.recv(sock, _UDP_RECEIVE, deadline)
            verdict = _verdict(data, query_id, labels, qtype)
            if verdict == _ACCEPT:
                return data
            if verdict == _TRUNCATED:
                return None


async def _recv_exactly(io: _Io, sock: socket.socket, size: int, deadline: float) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = await io.recv(sock, size - len(chunks), deadline)
        if not chunk:
            raise _malformed("the TCP connection closed inside the answer")
        chunks += chunk
    return bytes(chunks)


async def _tcp(io: _Io, server: _Server, query: bytes, labels: list[bytes], qtype: int) -> bytes:
    """The same question over TCP (RFC 1035 section 4.2.2), after a truncated UDP answer."""
    deadline = time.monotonic() + QUERY_TIMEOUT
    query_id = query[0] << 8 | query[1]
    with socket.socket(server.family, socket.SOCK_STREAM) as sock:
        io.prepare(sock)
        await io.connect(sock, server.sockaddr, deadline)
        await io.send(sock, struct.pack("!H", len(query)) + query, deadline)
        (length,) = struct.unpack("!H", await _recv_exactly(io, sock, 2, deadline))
        data = await _recv_exactly(io, sock, length, deadline)
    if _verdict(data, query_id, labels, qtype) != _ACCEPT:
        raise _malformed("the TCP answer does not answer the question")
    return data


async def _exchange(io: _Io, configured: Sequence[IPEndPoint], name: str, qtype: int) -> bytes:
    name_wire = encode_name(name)
    labels = _labels_of(name_wire)
    query = build_query(secrets.randbelow(0x10000), name_wire, qtype)
    last: BaseException | None = None
    for server in _servers(configured):
        for _ in range(max(1, ATTEMPTS)):
            try:
                data = await _udp(io, server, query, labels, qtype)
                if data is None:
                    data = await _tcp(io, server, query, labels, qtype)
                return data
            except TimeoutError:
                last = TimeoutException()
            except InvalidDataException as exc:
                last = exc
            except OSError as exc:
                last = SocketException._from_os_error(exc)
    raise last if last is not None else TimeoutException()


async def resolve(io: _Io, servers: Sequence[IPEndPoint], name: str, qtype: int) -> DnsResult[Any]:
    """Ask for ``qtype`` records of ``name`` and parse the answer."""
    return parse_answer(await _exchange(io, servers, name, qtype), qtype)


async def resolve_addresses(
    io: _Io, servers: Sequence[IPEndPoint], name: str, family: int
) -> DnsResult[AddressRecord]:
    """A, AAAA, or both (at once on the loop, one after the other when blocking), merged."""
    if family == AddressFamily.InterNetwork:
        return await resolve(io, servers, name, A)
    if family == AddressFamily.InterNetworkV6:
        return await resolve(io, servers, name, AAAA)
    if family != AddressFamily.Unspecified:
        raise ArgumentException(
            "The address family must be InterNetwork, InterNetworkV6 or Unspecified.", "addressFamily"
        )
    a, aaaa = await io.both(resolve(io, servers, name, A), resolve(io, servers, name, AAAA))
    return merge_addresses(a, aaaa)
