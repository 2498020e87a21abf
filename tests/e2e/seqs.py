#!/usr/bin/env python3
"""The sequence numbers each end of a relayed connection uses.

seqs.py serve ADDR PORT: accept one connection; read a byte, print, send a
  byte, read a byte, close.
seqs.py client ADDR PORT: connect; send a byte, read a byte, print, send a
  byte, wait for the close.
What each prints, "snd SND rcv RCV", is the next sequence number its socket
sends and the next it expects (read with TCP_REPAIR, which needs
CAP_NET_ADMIN), at a point where the client's first byte is acknowledged
and the server's second byte unsent: through a relay that leaves sequence
numbers alone, the client's snd is the server's rcv and the client's rcv
the server's snd + 1.
"""
import socket
import struct
import sys

TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
TCP_RECV_QUEUE, TCP_SEND_QUEUE = 1, 2


def queue_seq(s, queue):
    s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, queue)
    return struct.unpack('I', s.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]


def report(s):
    s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    snd = queue_seq(s, TCP_SEND_QUEUE)
    rcv = queue_seq(s, TCP_RECV_QUEUE)
    s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)
    print(f'snd {snd} rcv {rcv}', flush=True)


def main():
    what, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    if what == 'serve':
        ls = socket.socket(family, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        print('ready', flush=True)
        s, _ = ls.accept()
        s.settimeout(10)
        if s.recv(1) != b'a':
            return 1
        report(s)
        s.sendall(b'b')
        ok = s.recv(1) == b'c'
        s.close()
        return 0 if ok else 1
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((addr, port))
    s.sendall(b'a')
    if s.recv(1) != b'b':
        return 1
    report(s)
    s.sendall(b'c')
    return 0 if s.recv(1) == b'' else 1


if __name__ == '__main__':
    sys.exit(main())
