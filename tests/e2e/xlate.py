#!/usr/bin/env python3
"""Connections that outlive faithd's hand-off (faithd --datapath translate).

xlate.py serve ADDR PORT LOGFILE: for each connection read a command byte
and a length N (8 bytes, big-endian), then:
  R  read N bytes, send N bytes, wait for one byte 'x', reset (SO_LINGER 0)
  W  read N bytes, send N bytes, then wait: append "reset seen" or
     "eof seen" to LOGFILE
  H  read until EOF (the client's half-close: N bytes expected), then
     send N bytes and close
  I  read N bytes, send N bytes, wait IDLE_S, send a byte and log what
     comes back: "idle end: reset seen", "idle end: eof seen"...
  P  twice: read N bytes, send N bytes; then log "twice: eof seen" (or
     what else ended it)
  D  send N bytes, wait PAUSE_S, send N more, close
  U  read to EOF (2N bytes: the client pauses in the middle), send the
     count read (8 bytes), close
Every byte is checked against a pattern; a mismatch is logged.

xlate.py client ADDR PORT MODE N [PAUSE]: the other side of MODE (R, W, H,
I, P); PAUSE seconds (default 0.5) between the bulk part and the end, for
the hand-off to happen.  Exit 0 if what should happen did.

xlate.py spoof-rst SRC DST DPORT SPORT COUNT: COUNT resets from SRC:SPORT
to DST:DPORT (IPv6 or IPv4, a raw socket) with random sequence numbers:
what a blind attacker who knows the ports sends.
"""
import random
import socket
import struct
import sys
import threading
import time

IDLE_S = 5
PAUSE_S = 1.5
PATTERN = bytes((i * 7 + 13) % 251 for i in range(251 * 256))


def pattern(off, n):
    out = bytearray()
    while n:
        start = off % 251
        chunk = PATTERN[start:start + min(n, len(PATTERN) - start)]
        out += chunk
        off += len(chunk)
        n -= len(chunk)
    return bytes(out)


def send_n(s, n, start=0):
    off = start
    while off < start + n:
        chunk = pattern(off, min(start + n - off, 1 << 16))
        s.sendall(chunk)
        off += len(chunk)


def recv_n(s, n, until_eof=False):
    """Read n bytes (or to EOF), checking the pattern; the count read."""
    off = 0
    while until_eof or off < n:
        data = s.recv(min(1 << 16, n - off) if not until_eof else 1 << 16)
        if not data:
            break
        if data != pattern(off, len(data)):
            raise ValueError('mismatch at byte %d' % off)
        off += len(data)
    return off


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))


def log_line(log, text):
    with open(log, 'a') as f:
        f.write(text + '\n')


def handle(conn, log):
    with conn:
        try:
            head = conn.recv(9, socket.MSG_WAITALL)
            what, n = head[:1], struct.unpack('>Q', head[1:])[0]
            if what == b'U':
                got = recv_n(conn, 2 * n, until_eof=True)
                conn.sendall(struct.pack('>Q', got))
                return
            if what == b'D':
                send_n(conn, n)
                time.sleep(PAUSE_S)
                send_n(conn, n, n)
                return
            if what == b'H':
                got = recv_n(conn, n, until_eof=True)
                if got != n:
                    log_line(log, 'short read: %d of %d' % (got, n))
                    return
                send_n(conn, n)
                return
            if recv_n(conn, n) != n:
                log_line(log, 'short read')
                return
            send_n(conn, n)
            if what == b'R':
                conn.recv(1)
                linger0(conn)
                return
            if what == b'P':
                if recv_n(conn, n) != n:
                    log_line(log, 'twice: short read')
                    return
                send_n(conn, n)
                try:
                    seen = 'eof seen' if conn.recv(1) == b'' else 'data seen'
                except ConnectionResetError:
                    seen = 'reset seen'
                log_line(log, 'twice: ' + seen)
                return
            if what == b'I':
                time.sleep(IDLE_S)
                try:
                    conn.sendall(b'y')
                    seen = 'eof seen' if conn.recv(1) == b'' else 'data seen'
                except (ConnectionResetError, BrokenPipeError):
                    seen = 'reset seen'
                log_line(log, 'idle end: ' + seen)
                return
            try:
                seen = 'eof seen' if conn.recv(1) == b'' else 'data seen'
            except ConnectionResetError:
                seen = 'reset seen'
            log_line(log, seen)
        except (ValueError, OSError) as e:
            log_line(log, 'error: %s' % e)


def serve(addr, port, log):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    print('ready', flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=handle, args=(conn, log), daemon=True).start()


def exchange(s, n):
    """n bytes each way at once; the count received."""
    t = threading.Thread(target=send_n, args=(s, n))
    t.start()
    got = recv_n(s, n)
    t.join()
    return got


def csum16(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def spoof_rst(src, dst, dport, sport, count):
    v6 = ':' in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_TCP)
    if v6:
        # The kernel fills in the checksum at offset 16 of what we send.
        s.setsockopt(socket.IPPROTO_IPV6, 7, 16)  # IPV6_CHECKSUM
    s.bind((src, 0))
    for _ in range(count):
        seg = struct.pack('>HHIIBBHHH', sport, dport, random.getrandbits(32), 0,
                          5 << 4, 0x04, 0, 0, 0)
        if not v6:
            pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
                      struct.pack('>BBH', 0, socket.IPPROTO_TCP, len(seg)))
            seg = seg[:16] + struct.pack('>H', csum16(pseudo + seg)) + seg[18:]
        s.sendto(seg, (dst, 0))
    print('sent %d resets' % count)
    return 0


def client(addr, port, mode, n, pause):
    s = socket.create_connection((addr, port), timeout=20)
    s.sendall(mode.encode() + struct.pack('>Q', n))
    if mode == 'U':
        send_n(s, n)
        time.sleep(PAUSE_S)
        send_n(s, n, n)
        s.shutdown(socket.SHUT_WR)
        got = struct.unpack('>Q', s.recv(8, socket.MSG_WAITALL))[0]
        print('uploaded %d bytes, the server read %d' % (2 * n, got))
        return 0 if got == 2 * n else 1
    if mode == 'D':
        got = recv_n(s, 2 * n, until_eof=True)
        print('downloaded %d bytes' % got)
        return 0 if got == 2 * n else 1
    if mode == 'P':
        got = exchange(s, n)
        time.sleep(pause)
        got2 = exchange(s, n)
        s.close()
        print('exchanged %d and %d bytes' % (got, got2))
        return 0 if got == got2 == n else 1
    if mode == 'H':
        send_n(s, n)
        time.sleep(pause)
        s.shutdown(socket.SHUT_WR)
        got = recv_n(s, n, until_eof=True)
        print('half-close: %d bytes back' % got)
        return 0 if got == n else 1
    # Both ways at once: the server answers as it reads.
    got = exchange(s, n)
    print('exchanged %d bytes' % got)
    if got != n:
        return 1
    time.sleep(pause)
    if mode == 'R':
        s.sendall(b'x')
        try:
            data = s.recv(1)
            print('no reset: got %r' % data)
            return 1
        except ConnectionResetError:
            print('reset seen')
            return 0
    if mode == 'I':
        try:
            s.sendall(b'x')
            data = s.recv(1)
            print('no reset after idling: got %r' % data)
            return 1
        except (ConnectionResetError, BrokenPipeError):
            print('reset seen')
            return 0
    if mode == 'W':
        linger0(s)
    s.close()
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == 'spoof-rst':
        sys.exit(spoof_rst(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                           int(sys.argv[6])))
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
                        float(sys.argv[6]) if len(sys.argv) > 6 else 0.5))
