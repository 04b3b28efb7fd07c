"""A TcpListener echo server (AcceptTcpClient, GetStream) and a TcpClient client reading lines.

C#'s StreamReader/StreamWriter over a NetworkStream become io.TextIOWrapper over an
io.BufferedReader and an io.BufferedWriter of the stream. Run it alone (server and client on a free loopback port)::

    python examples/tcpclient_echo.py

or as two processes::

    python examples/tcpclient_echo.py server --port 11000 --connections 1
    python examples/tcpclient_echo.py client --port 11000
"""

from __future__ import annotations

import argparse
import io
import sys
import threading

from dotnet_sockets import IPAddress, IPEndPoint, SelectMode, SocketException, TcpClient, TcpListener

MESSAGES = ["hello", "echo me back", "non-ASCII: \u00e9\u00e8"]


def text_over(client: TcpClient) -> tuple[io.TextIOWrapper, io.TextIOWrapper]:
    """A StreamReader and a StreamWriter (AutoFlush at each line): UTF-8 lines over the client's NetworkStream."""
    stream = client.GetStream()
    reader = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8", newline="\n")
    writer = io.TextIOWrapper(io.BufferedWriter(stream), encoding="utf-8", newline="\n", line_buffering=True)
    return reader, writer


def serve(listener: TcpListener, connections: int, timeout_ms: int) -> None:
    for _ in range(connections):
        # Pending()/Poll bound the wait, so the server never hangs when no client comes.
        if not listener.Server.Poll(timeout_ms * 1000, SelectMode.SelectRead):
            raise TimeoutError("no client connected in time")
        with listener.AcceptTcpClient() as client:
            client.ReceiveTimeout = timeout_ms
            print(f"Accepted {client.Client.RemoteEndPoint}\n", end="", flush=True)
            reader, writer = text_over(client)
            while line := reader.readline():  # "" once the client shuts its side down
                writer.write(line)  # line_buffering: sent at its "\n"
    listener.Stop()


def run_client(host: str, port: int, timeout_ms: int) -> None:
    with TcpClient(host, port) as client:  # resolves host and connects, as new TcpClient(host, port)
        client.ReceiveTimeout = timeout_ms
        print(f"Connected to {client.Client.RemoteEndPoint}\n", end="", flush=True)
        reader, writer = text_over(client)
        for message in MESSAGES:
            writer.write(message + "\n")
            echoed = reader.readline().rstrip("\n")
            print(f"Echoed: {echoed!r}\n", end="", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["both", "server", "client"], default="both")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds any wait may take")
    args = parser.parse_args()
    timeout_ms = int(args.timeout * 1000)
    try:
        if args.mode == "client":
            run_client(args.host, args.port, timeout_ms)
            return 0
        listener = TcpListener(IPAddress.Parse(args.host), args.port)
        listener.Start()
        ep = listener.LocalEndpoint
        assert isinstance(ep, IPEndPoint)
        shown = f"[{ep.Address}]" if ":" in str(ep.Address) else str(ep.Address)
        print(f"Listening on {shown}:{ep.Port}\n", end="", flush=True)
        if args.mode == "server":
            serve(listener, args.connections, timeout_ms)
        else:
            server = threading.Thread(target=serve, args=(listener, 1, timeout_ms))
            server.start()
            run_client(args.host, ep.Port, timeout_ms)
            server.join(args.timeout)
    except (SocketException, OSError) as exc:
        print(f"Error: {exc!r}", file=sys.stderr)
        return 1
    print("Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
