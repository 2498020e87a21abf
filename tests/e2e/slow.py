#!/usr/bin/env python3
"""A fast sender and a slow reader through a relay (flow control).

slow.py serve ADDR PORT PAUSE [STUTTER_MS STUTTER_S]: accept one
  connection, read nothing for PAUSE seconds, then read to the end,
  checking every byte against the sender's pattern; with STUTTER_MS, sleep
  that long after every 256 KiB read for the first STUTTER_S seconds of
  reading (a reader slower than the sender, then a fast one).  Prints
  "read N" (bytes, all as sent) or "mismatch at OFFSET".
slow.py client ADDR PORT SECONDS: connect, send as fast as the socket takes
  it for SECONDS, print "held N" (bytes the sender got rid of), then the
  rest: keep sending until 2*N bytes, shut down writing; print "sent N".
The bytes: offset i holds i % 251 (a prime: no power-of-two period, so a
chunk moved or lost shows).
"""
import select
import socket
import sys
import time

PERIOD = 251
CHUNK = 1 << 16
# Any slice [off, off + n) of the stream, n <= 1 MiB, is PATTERN[off % PERIOD:][:n].
PATTERN = bytes(i % PERIOD for i in range(PERIOD)) * ((1 << 20) // PERIOD + 2)


def chunk(off, n):
    start = off % PERIOD
    return PATTERN[start:start + n]


def accept_one(addr, port):
    """Listen on ADDR PORT (IPv4), print "ready", return the first connection."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print('ready', flush=True)
    return ls.accept()[0]


def serve(addr, port, pause, stutter_ms=0.0, stutter_s=0.0):
    conn = accept_one(addr, port)
    time.sleep(pause)
    stutter_end = time.time() + stutter_s
    n = 0
    since = 0
    while True:
        b = conn.recv(1 << 18)
        if not b:
            break
        if b != chunk(n, len(b)):
            want = chunk(n, len(b))
            first = next(i for i in range(len(b)) if b[i] != want[i])
            print('mismatch at %d' % (n + first), flush=True)
            return
        n += len(b)
        since += len(b)
        if stutter_ms and since >= 1 << 18 and time.time() < stutter_end:
            since = 0
            time.sleep(stutter_ms / 1000.0)
    print('read %d' % n, flush=True)


def client(addr, port, seconds):
    s = socket.create_connection((addr, port))
    s.setblocking(False)
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        select.select([], [s], [], 0.05)
        try:
            n += s.send(chunk(n, CHUNK))
        except BlockingIOError:
            pass
    print('held %d' % n, flush=True)
    s.setblocking(True)
    total = 2 * n
    while n < total:
        n += s.send(chunk(n, min(CHUNK, total - n)))
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print('sent %d' % n, flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
              *[float(a) for a in sys.argv[5:7]])
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
