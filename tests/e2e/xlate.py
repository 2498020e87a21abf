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
  O  read N bytes, send N bytes, read one byte, then send N more with IP
     options (which the translation cannot carry): log "reset seen" if
     that fails so, else wait as W does
  Q  as W
Every byte is checked against a pattern; a mismatch is logged.

xlate.py client ADDR PORT MODE N [PAUSE]: the other side of MODE (R, W, H,
I, P, O, Q); PAUSE seconds (default 0.5) between the bulk part and the end,
for the hand-off to happen.  Exit 0 if what should happen did: in O and Q
a reset within 15 s (O: instead of the server's last N bytes; Q: while
waiting).
T: as the client of W, but while the first N bytes go both ways, the
client's process sprays segments with its own addresses and ports,
random sequence numbers and TSvals far ahead: a blind attacker's attempt
to poison the clocks of the hand-off.  Exit 0 if the N bytes came back.

xlate.py spoof-rst SRC DST DPORT SPORT COUNT: COUNT resets from SRC:SPORT
to DST:DPORT (IPv6 or IPv4, a raw socket) with random sequence numbers:
what a blind attacker who knows the ports sends.

xlate.py spoof-jump SRC DST DPORT SPORT COUNT: COUNT times, from a random
X: a byte of data at X and a reset at X + 1, then the same 2^31 further
(one of the two is "ahead" of any point): an attempt to move the
program's end of data and match it with a reset.

xlate.py spoof-ack SRC DST DPORT SPORT SECONDS: ACKs with random numbers
from SRC:SPORT to DST:DPORT, ten a second for SECONDS: an attempt to keep a
finished connection's state alive (each draws a duplicate ACK from the
other peer, at its real numbers).

xlate.py tun-inject SRC DST DPORT SPORT COUNT: COUNT ACKs, 0.2 s apart, from
SRC:SPORT to DST:DPORT (IPv4), written into a tun device made for it:
segments that come in another way than the Ethernet interfaces faithd's
program is on (as a sender repeats what goes astray).
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
            if what == b'O':
                conn.recv(1)
                conn.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b'\x01\x01\x01\x00')
                try:
                    send_n(conn, n, n)
                except ConnectionResetError:
                    log_line(log, 'reset seen')
                    return
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


RST, PSH_ACK, ACK = 0x04, 0x18, 0x10


def raw_socket(src, dst):
    v6 = ':' in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_TCP)
    if v6:
        # The kernel fills in the checksum at offset 16 of what we send.
        s.setsockopt(socket.IPPROTO_IPV6, 7, 16)  # IPV6_CHECKSUM
    s.bind((src, 0))
    return s


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b'', tsval=None):
    """A TCP segment, its checksum set for IPv4 (IPv6: IPV6_CHECKSUM)."""
    opts = b'' if tsval is None else b'\x01\x01\x08\x0a' + struct.pack('>II', tsval, 0)
    seg = struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      (5 + len(opts) // 4) << 4, flags, 0xffff, 0, 0) + opts + payload
    if ':' not in dst:
        pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
                  struct.pack('>BBH', 0, socket.IPPROTO_TCP, len(seg)))
        seg = seg[:16] + struct.pack('>H', csum16(pseudo + seg)) + seg[18:]
    return seg


def spoof_rst(src, dst, dport, sport, count):
    s = raw_socket(src, dst)
    for _ in range(count):
        s.sendto(tcp_segment(src, dst, sport, dport, random.getrandbits(32), 0, RST),
                 (dst, 0))
    print('sent %d resets' % count)
    return 0


def spoof_jump(src, dst, dport, sport, count):
    s = raw_socket(src, dst)
    for _ in range(count):
        x = random.getrandbits(32)
        for seq in (x, x + (1 << 31)):
            s.sendto(tcp_segment(src, dst, sport, dport, seq, random.getrandbits(32),
                                 PSH_ACK, b'j'), (dst, 0))
            s.sendto(tcp_segment(src, dst, sport, dport, seq + 1, 0, RST), (dst, 0))
    print('sent %d jumps' % count)
    return 0


def spoof_ack(src, dst, dport, sport, seconds):
    s = raw_socket(src, dst)
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendto(tcp_segment(src, dst, sport, dport, random.getrandbits(32),
                             random.getrandbits(32), ACK), (dst, 0))
        n += 1
        time.sleep(0.1)
    print('sent %d ACKs' % n)
    return 0


def spray_ts(src, dst, sport, dport, stop):
    """ACKs with random numbers and TSvals far ahead, until stop is set."""
    s = raw_socket(src, dst)
    n = 0
    while not stop.is_set():
        s.sendto(tcp_segment(src, dst, sport, dport, random.getrandbits(32),
                             random.getrandbits(32), ACK,
                             tsval=random.getrandbits(31) | (1 << 31)), (dst, 0))
        n += 1
        time.sleep(0.0005)
    return n


def tun_inject(src, dst, dport, sport, count):
    import fcntl
    import subprocess
    tun = open('/dev/net/tun', 'r+b', buffering=0)
    # TUNSETIFF: IFF_TUN | IFF_NO_PI
    fcntl.ioctl(tun, 0x400454ca, struct.pack('16sH', b'xltun0', 0x0001 | 0x1000))
    subprocess.run(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0',
                    'net.ipv4.conf.xltun0.rp_filter=0'], check=True)
    subprocess.run(['ip', 'link', 'set', 'xltun0', 'up'], check=True)
    for _ in range(count):
        seg = tcp_segment(src, dst, sport, dport, random.getrandbits(32),
                          random.getrandbits(32), ACK)
        ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(seg), 0, 0x4000, 64,
                         socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack('>H', csum16(ip)) + ip[12:]
        tun.write(ip + seg)
        time.sleep(0.2)
    tun.close()
    print('injected %d segments through xltun0' % count)
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
    if mode == 'T':
        stop = threading.Event()
        local, peer = s.getsockname(), s.getpeername()
        sprayer = threading.Thread(target=lambda: print(
            'sprayed %d segments' % spray_ts(local[0], peer[0], local[1], peer[1], stop)))
        sprayer.start()
        got = exchange(s, n)
        time.sleep(pause)
        stop.set()
        sprayer.join()
    else:
        got = exchange(s, n)
    print('exchanged %d bytes' % got)
    if got != n:
        return 1
    time.sleep(pause)
    if mode in ('O', 'Q'):
        s.settimeout(15)
        try:
            if mode == 'O':
                s.sendall(b'o')
                got = recv_n(s, n)
                print('no reset: got all %d bytes' % got)
            else:
                print('no reset: got %r' % s.recv(1))
            return 1
        except ConnectionResetError:
            print('reset seen')
            return 0
        except socket.timeout:
            print('stalled: no reset within 15 s')
            return 1
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
    if mode in ('W', 'T'):
        linger0(s)
    s.close()
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] in ('spoof-rst', 'spoof-jump'):
        spoof = spoof_rst if sys.argv[1] == 'spoof-rst' else spoof_jump
        sys.exit(spoof(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                       int(sys.argv[6])))
    elif sys.argv[1] == 'spoof-ack':
        sys.exit(spoof_ack(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                           float(sys.argv[6])))
    elif sys.argv[1] == 'tun-inject':
        sys.exit(tun_inject(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                            int(sys.argv[6])))
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
                        float(sys.argv[6]) if len(sys.argv) > 6 else 0.5))
