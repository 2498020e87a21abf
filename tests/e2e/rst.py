#!/usr/bin/env python3
"""Resets through a relay, both ways.

rst.py serve ADDR PORT LOGFILE: for each connection read one byte:
  b'R': reset the connection (SO_LINGER 0, close);
  b'W': wait for the peer; append "reset seen" or "eof seen" to LOGFILE.
rst.py client ADDR PORT server-resets|client-resets: connect and act;
  exit 0 if what should happen did (the client sees ECONNRESET; the client
  resets its end), 1 otherwise.
"""
import socket
import struct
import sys
import threading


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))


def handle(conn, log):
    with conn:
        what = conn.recv(1)
        if what == b'R':
            linger0(conn)
            return
        try:
            seen = 'eof seen' if conn.recv(1) == b'' else 'data seen'
        except ConnectionResetError:
            seen = 'reset seen'
        with open(log, 'a') as f:
            f.write(seen + '\n')


def serve(addr, port, log):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    print('ready', flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=handle, args=(conn, log), daemon=True).start()


def client(addr, port, mode):
    s = socket.create_connection((addr, port), timeout=5)
    if mode == 'server-resets':
        s.sendall(b'R')
        try:
            data = s.recv(1)
            print('no reset: got %r' % data)
            return 1
        except ConnectionResetError:
            print('reset seen')
            return 0
    s.sendall(b'W')
    # Let the relay connect upstream and pass the byte on before the reset.
    threading.Event().wait(0.3)
    linger0(s)
    s.close()
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
