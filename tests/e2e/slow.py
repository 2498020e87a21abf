#!/usr/bin/env python3
"""A fast sender and a slow reader through a relay (flow control).

slow.py serve ADDR PORT PAUSE: accept one connection, read nothing for
  PAUSE seconds, then read to the end; print "read N" (bytes) and exit.
slow.py client ADDR PORT SECONDS: connect, send as fast as the socket takes
  it for SECONDS, print "held N" (bytes the sender got rid of), then the
  rest: keep sending until 2*N bytes, shut down writing; print "sent N".
"""
import select
import socket
import sys
import time


def serve(addr, port, pause):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print('ready', flush=True)
    conn, _ = ls.accept()
    time.sleep(pause)
    n = 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        n += len(b)
    print('read %d' % n, flush=True)


def client(addr, port, seconds):
    s = socket.create_connection((addr, port))
    s.setblocking(False)
    buf = b'x' * (1 << 16)
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        select.select([], [s], [], 0.05)
        try:
            n += s.send(buf)
        except BlockingIOError:
            pass
    print('held %d' % n, flush=True)
    s.setblocking(True)
    total = 2 * n
    while n < total:
        n += s.send(buf[:min(len(buf), total - n)])
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print('sent %d' % n, flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
