#!/usr/bin/python3
"""Hold N idle TCP connections: idle.py ADDR PORT N [TIMEOUT [INFLIGHT]].

Opens the connections without blocking, at most INFLIGHT (256) handshakes
at a time (a relay's accept queue is not the thing measured), sends nothing, prints
"ready OPEN FAILED" once every attempt has finished, then waits for SIGTERM
and closes them all with a reset (SO_LINGER 0)
so that no TIME_WAIT sockets are left to skew the next measurement.
"""
import errno
import selectors
import signal
import socket
import struct
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
inflight = int(sys.argv[5]) if len(sys.argv) > 5 else 256
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
sel = selectors.DefaultSelector()
opened, failed, pending, started = [], 0, 0, 0
deadline = time.monotonic() + timeout
linger = struct.pack("ii", 1, 0)

while (started < n or pending) and time.monotonic() < deadline:
    while started < n and pending < inflight:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        started += 1
        e = s.connect_ex((addr, port))
        if e in (0, errno.EINPROGRESS):
            sel.register(s, selectors.EVENT_WRITE)
            pending += 1
        else:
            failed += 1
            s.close()
    for key, _ in sel.select(0.5):
        s = key.fileobj
        sel.unregister(s)
        pending -= 1
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            opened.append(s)
        else:
            failed += 1
            s.close()
failed += pending + (n - started)
print(f"ready {len(opened)} {failed}", flush=True)



class Stop(Exception):
    pass


def stop(*_):
    raise Stop


signal.signal(signal.SIGTERM, stop)
try:
    while True:
        signal.pause()
except Stop:
    pass
for s in opened:
    s.close()
