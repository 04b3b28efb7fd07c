"""The separate sender process that feeds the UDP receive rows at a fixed rate.

``python benchmarks/feeder.py PORT RATE SECONDS SIZE``: sends SIZE-byte datagrams to
127.0.0.1:PORT at RATE per second (in bursts of 256, paced by the clock) for SECONDS,
or until SIGTERM (run_all.py stops it when the receiver has measured), then prints
``{"sent": n, "rate": achieved}``.  The same feeder serves every side.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time


def main() -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    port, target, seconds, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    addr = ("127.0.0.1", port)
    payload = bytes(size)
    sendto = s.sendto
    clock = time.perf_counter
    burst = 256
    t0 = clock()
    end = t0 + seconds
    sent = 0
    while True:
        now = clock()
        if now >= end or stop:
            break
        due = int((now - t0) * target)
        if sent >= due:
            time.sleep(min(0.0005, end - now))
            continue
        for _ in range(min(burst, due - sent)):
            try:
                sendto(payload, addr)
            except OSError:  # ENOBUFS and the like: the datagram is lost, as on a wire
                pass
            sent += 1
    print(json.dumps({"sent": sent, "rate": sent / (clock() - t0)}))


if __name__ == "__main__":
    main()
