#!/usr/bin/python3
"""The floor for PC/SC round trips: a vpcd card that answers 9000 to every APDU, with
TCP_NODELAY and TCP_QUICKACK re-armed after every receive."""
import socket
import struct
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 35963
ATR = bytes.fromhex("3B80800101")
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            sys.exit(0)
        buf += chunk
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    return buf


while True:
    (length,) = struct.unpack(">H", recv_exact(2))
    msg = recv_exact(length)
    if length == 1:
        if msg[0] == 4:
            s.sendall(struct.pack(">H", len(ATR)) + ATR)
        continue
    s.sendall(b"\x00\x02\x90\x00")
