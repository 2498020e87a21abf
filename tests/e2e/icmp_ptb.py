#!/usr/bin/env python3
"""Client side of the ICMPv6 test, run in the client namespace.

Opens a TCP connection to [DST]:PORT through faith, learns the router's
next sequence number (TCP_REPAIR on our socket: our rcv_nxt is its snd_nxt),
then sends an ICMPv6 error to DST that quotes a TCP segment from DST:PORT
to us, as a router on the path would.  The quoted source is QSRC (default:
DST itself, a faith address).  Prints the quoted sequence number and keeps
the connection open until stdin closes.
"""
import socket
import struct
import sys

TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ, TCP_RECV_QUEUE = 19, 20, 21, 1


def router_snd_nxt(sock):
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)
    seq = sock.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ)
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)
    return seq & 0xffffffff


def quoted_segment(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18, 65535, 0, 0)
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp) + 1200, 6, 64)
    ip6 += socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    return ip6 + tcp


def main():
    dst, port, icmp_type, mtu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    qsrc = sys.argv[5] if len(sys.argv) > 5 else dst
    conn = socket.create_connection((dst, port), timeout=5)
    conn.recv(200)                                  # the relay's DST line
    me = conn.getsockname()
    seq = router_snd_nxt(conn)
    # type, code, checksum (the kernel fills it in), MTU / pointer / unused
    icmp = struct.pack("!BBHI", icmp_type, 0, 0, mtu) + \
        quoted_segment(qsrc, me[0], port, me[1], seq)
    raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    raw.sendto(icmp, (dst, 0))
    print("sent type %d quoting seq %u from [%s]:%d" % (icmp_type, seq, qsrc, port), flush=True)
    sys.stdin.read()
    conn.close()


if __name__ == "__main__":
    main()
