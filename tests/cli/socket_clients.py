#!/usr/bin/env python3
"""Raw clients of `tessera-card --listen` (its framing: a 2-byte big-endian length, then the
payload; a 1-byte payload is a control message), written from the framing alone, to drive the
card the way many clients at once would.

  socket_clients.py concurrent ENDPOINT N   two clients, N rounds each, interleaved: every byte
                                            each gets back is checked
  socket_clients.py soak ENDPOINT N PID     N sequential connections; prints the card process's
                                            RSS (kB) and thread count after 1,000 and after N
  socket_clients.py hold ENDPOINT FILE      opens a session (one APDU) and holds it, idle,
                                            until FILE exists or the card closes it
  socket_clients.py stall ENDPOINT FILE     opens a session, then sends half a frame and stalls
                                            until FILE exists or the card closes it
  socket_clients.py siege ENDPOINT N FILE   N idle connections and one that sends half a frame,
                                            kept until FILE exists; reports which the card closed
  socket_clients.py huge ENDPOINT           GET CHALLENGE with Le = 65536 and its GET RESPONSE
"""
import os
import socket
import struct
import sys
import threading
import time


def connect(endpoint):
    if endpoint.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(endpoint[5:])
    else:
        host, port = endpoint[4:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(60)
    return s


def recv_exactly(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("card closed the connection")
        out += chunk
    return out


def exchange(s, payload):
    s.sendall(struct.pack(">H", len(payload)) + payload)
    (n,) = struct.unpack(">H", recv_exactly(s, 2))
    return recv_exactly(s, n)


def fci_with_get_response(s):
    """SELECT the demo application without Le (61xx), then GET RESPONSE: the whole FCI."""
    r = exchange(s, bytes.fromhex("00A4040009F05445535345524110"))
    if r[0] != 0x61:
        raise AssertionError("SELECT answered %s" % r.hex())
    data = exchange(s, bytes([0x00, 0xC0, 0x00, 0x00, r[1]]))
    return data


def concurrent(endpoint, rounds):
    with connect(endpoint) as s:
        expected_fci = fci_with_get_response(s)
    failures = []

    def client(name, verify):
        try:
            with connect(endpoint) as s:
                for i in range(rounds):
                    fci = fci_with_get_response(s)
                    if fci != expected_fci:
                        failures.append("%s round %d: FCI %s" % (name, i, fci.hex()))
                        return
                    if verify and i == 0:
                        r = exchange(s, bytes.fromhex("002000810431323334"))
                        if r != b"\x90\x00":
                            failures.append("%s: VERIFY %s" % (name, r.hex()))
                            return
                    r = exchange(s, bytes.fromhex("00B0810004"))
                    want = bytes.fromhex("64656D6F9000") if verify else bytes.fromhex("6982")
                    if r != want:
                        failures.append("%s round %d: READ BINARY %s" % (name, i, r.hex()))
                        return
        except Exception as e:  # noqa: BLE001 - reported as a failure
            failures.append("%s: %r" % (name, e))

    threads = [threading.Thread(target=client, args=("A", True)),
               threading.Thread(target=client, args=("B", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print("\n".join(failures))
        return 1
    print("both clients got exactly their own bytes, %d rounds each" % rounds)
    return 0


def proc_status(pid):
    rss = threads = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def soak(endpoint, n, pid):
    for i in range(n):
        with connect(endpoint) as s:
            r = exchange(s, bytes.fromhex("00A4000C023F00"))
            if r != b"\x90\x00":
                print("connection %d: %s" % (i, r.hex()))
                return 1
        if i + 1 == 1000:
            rss, threads = proc_status(pid)
            print("after 1000: rss_kb=%d threads=%d" % (rss, threads))
    rss, threads = proc_status(pid)
    print("after %d: rss_kb=%d threads=%d" % (n, rss, threads))
    return 0


def wait_closed_or_file(s, release, limit=600.0):
    """Waits until the card closes `s` (True) or the file `release` exists (False); a bounded
    wait on either condition, never a fixed sleep."""
    deadline = time.monotonic() + limit
    s.settimeout(0.05)
    while time.monotonic() < deadline:
        try:
            if s.recv(1) == b"":
                return True
        except socket.timeout:
            pass
        except OSError:
            return True
        if os.path.exists(release):
            return False
    raise TimeoutError("neither closed by the card nor released within %d s" % limit)


def hold(endpoint, release):
    with connect(endpoint) as s:
        r = exchange(s, bytes.fromhex("00A4000C023F00"))
        print("holding the card (%s)" % r.hex(), flush=True)
        if wait_closed_or_file(s, release):
            print("the card closed the idle session", flush=True)
        else:
            print("released", flush=True)
    return 0


def stall(endpoint, release):
    with connect(endpoint) as s:
        r = exchange(s, bytes.fromhex("00A4000C023F00"))
        if r != b"\x90\x00":
            print("SELECT MF answered %s" % r.hex())
            return 1
        # The length says 7 bytes; only 2 follow.
        s.sendall(struct.pack(">H", 7) + bytes.fromhex("00A4"))
        print("stalled mid-frame, owning the card", flush=True)
        if wait_closed_or_file(s, release):
            print("the card closed the stalled session", flush=True)
        else:
            print("released", flush=True)
    return 0


def siege(endpoint, n, release):
    idle = [connect(endpoint) for _ in range(n)]
    half = connect(endpoint)
    half.sendall(struct.pack(">H", 7) + bytes.fromhex("00A4"))
    print("siege: %d idle connections and one half frame" % n, flush=True)
    if wait_closed_or_file(half, release):
        print("the card closed the half-frame connection", flush=True)
    while not os.path.exists(release):
        time.sleep(0.05)  # polling for the release file: the test's condition, not a delay
    closed = 0
    for s in idle:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    half.close()
    print("idle connections closed by the card: %d of %d" % (closed, n), flush=True)
    return 0


def huge(endpoint):
    with connect(endpoint) as s:
        r = exchange(s, bytes.fromhex("00840000000000"))
        first = len(r) - 2
        sw = r[-2:]
        rest = b""
        if sw[0] == 0x61:
            rest = exchange(s, bytes([0x00, 0xC0, 0x00, 0x00, sw[1]]))
        print("first=%d sw=%s rest=%d final=%s" % (first, sw.hex(), len(rest) - 2,
                                                    rest[-2:].hex() if rest else ""))
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "concurrent":
        return concurrent(sys.argv[2], int(sys.argv[3]))
    if cmd == "soak":
        return soak(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if cmd == "hold":
        return hold(sys.argv[2], sys.argv[3])
    if cmd == "stall":
        return stall(sys.argv[2], sys.argv[3])
    if cmd == "siege":
        return siege(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if cmd == "huge":
        return huge(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
