"""The client classes are Socket underneath: its telemetry, audit events and tracing see their traffic.

Nothing here is counted, audited or traced by the client classes themselves; these tests show
that TcpClient, TcpListener, NetworkStream and UdpClient reach the same Socket code paths.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from client_helpers import WAIT_MS, pending_connection, run
from dotnet_sockets import IPAddress, IPEndPoint, SocketShutdown, TcpClient, TcpListener, UdpClient
from dotnet_sockets.telemetry import Telemetry

PREFIX = "dotnet_sockets.Socket."
_recording: list[list[tuple[str, Any]]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _recording and event.startswith(PREFIX):
        _recording[-1].append((event[len(PREFIX) :], args[1]))


sys.addaudithook(_hook)  # hooks cannot be removed; this one records only inside the fixture


@pytest.fixture
def audit_events() -> Iterator[list[tuple[str, Any]]]:
    events: list[tuple[str, Any]] = []
    _recording.append(events)
    yield events
    _recording.remove(events)


@pytest.fixture
def trace() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    lg = logging.getLogger("dotnet_sockets")
    handler, old = Keep(level=1), lg.level
    lg.addHandler(handler)
    lg.setLevel(logging.DEBUG)
    yield records
    lg.removeHandler(handler)
    lg.setLevel(old)


def test_tcp_traffic_is_counted_by_socket_telemetry() -> None:
    before = Telemetry.snapshot()
    with TcpListener(IPAddress.Loopback, 0) as listener:
        listener.Start()
        port = listener.LocalEndpoint.Port  # type: ignore[attr-defined]
        with TcpClient("127.0.0.1", port) as client, pending_connection(listener).AcceptTcpClient() as server:
            client.GetStream().Write(b"a" * 1000)
            run(client.GetStream().WriteAsync(b"b" * 500))
            client.Client.Shutdown(SocketShutdown.Send)
            server.ReceiveTimeout = WAIT_MS
            assert len(server.GetStream().read()) == 1500
    d = Telemetry.snapshot() - before
    assert d.outgoing_connections_established == 1 and d.incoming_connections_established == 1
    assert (d.bytes_sent, d.bytes_received) == (1500, 1500)


def test_udp_traffic_is_counted_by_socket_telemetry() -> None:
    before = Telemetry.snapshot()
    with UdpClient(IPEndPoint(IPAddress.Loopback, 0)) as receiver, UdpClient() as sender:
        receiver.Client.ReceiveTimeout = WAIT_MS
        to = receiver.Client.LocalEndPoint
        sender.Send(b"12345", 5, to)
        sender.EndSend(sender.BeginSend(b"678", 3, to, None, None))
        assert receiver.Receive()[0] == b"12345"
        assert receiver.EndReceive(receiver.BeginReceive(None, None))[0] == b"678"
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.datagrams_received) == (2, 2)


def test_audit_events_come_from_socket(audit_events: list[tuple[str, Any]]) -> None:
    with TcpListener(IPAddress.Loopback, 0) as listener:
        listener.Start()
        ep = listener.LocalEndpoint
        with TcpClient() as client:
            client.Connect(ep)  # type: ignore[arg-type]
            with pending_connection(listener).AcceptTcpClient():
                pass
    with UdpClient() as sender:
        sender.Send(b"x", 1, IPEndPoint(IPAddress.Loopback, 9))
    members = [m for m, _ in audit_events]
    assert "Connect" in members and "Bind" in members and "Listen" in members
    assert ("SendTo", IPEndPoint(IPAddress.Loopback, 9)) in audit_events


def test_tracing_comes_from_socket(trace: list[logging.LogRecord]) -> None:
    with TcpListener(IPAddress.Loopback, 0) as listener:
        listener.Start()
        with TcpClient() as client:
            client.Connect(listener.LocalEndpoint)  # type: ignore[arg-type]
            with pending_connection(listener).AcceptTcpClient() as server:
                client.GetStream().Write(b"traced")
                server.ReceiveTimeout = WAIT_MS
                server.GetStream().Read(bytearray(6), 0, 6)
    text = "\n".join(r.getMessage() for r in trace)
    for member in ("Connect", "Accept", "Send", "Receive"):
        assert member in text, f"{member} not traced:\n{text}"
