#!/usr/bin/env python3
"""A forged source keeping a half-open connection busy.

forge.py SRC DST PORT SECONDS: from SRC (an address of this host whose
incoming segments are dropped, so that it never answers the SYN-ACK), send
a SYN to [DST]:PORT offering window scale 14, then for SECONDS a data byte
every 0.2 s in sequence after it, each with a random acknowledgment number
(what a forger knows: its own numbers, not the server's).  Prints the
source port used.  Needs CAP_NET_RAW.
"""
import random
import socket
import struct
import sys
import time

IPV6_CHECKSUM = 7


def segment(sport, dport, seq, ack, flags, payload=b'', options=b''):
    doff = (20 + len(options)) // 4
    head = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4, flags,
                       65535, 0, 0)
    return head + options + payload


def main():
    src, dst, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)	# the kernel sums
    s.bind((src, 0))
    sport = random.randrange(20000, 60000)
    isn = random.getrandbits(32)
    wscale = bytes([1, 3, 3, 14])		# NOP, window scale 14
    s.sendto(segment(sport, port, isn, 0, 0x02, options=wscale), (dst, 0))
    print(sport, flush=True)
    seq = (isn + 1) & 0xffffffff
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        s.sendto(segment(sport, port, seq, random.getrandbits(32), 0x18, b'x'), (dst, 0))
        seq = (seq + 1) & 0xffffffff
    return 0


if __name__ == '__main__':
    sys.exit(main())
