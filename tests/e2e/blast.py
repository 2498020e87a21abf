#!/usr/bin/env python3
"""Both peers send as fast as they can and neither reads.

blast.py serve ADDR PORT SECONDS: accept one connection and send for
  SECONDS (or until an error); print "ready" first, then "sent N" or
  "error WHAT after N".
blast.py client ADDR PORT SECONDS: the same, connecting.
"""
import select
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from slow import accept_one  # noqa: E402  (tests/e2e/slow.py, beside this file)


def pump(s, seconds):
    s.setblocking(False)
    buf = b'y' * 65536
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        select.select([], [s], [], 0.05)
        try:
            n += s.send(buf)
        except BlockingIOError:
            pass
        except OSError as e:
            print('error %s after %d' % (e.strerror, n), flush=True)
            return
    print('sent %d' % n, flush=True)


if __name__ == '__main__':
    addr, port, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if sys.argv[1] == 'serve':
        pump(accept_one(addr, port), seconds)
    else:
        pump(socket.create_connection((addr, port)), seconds)
