"""How the judge kernel reaches the call server in the student's kernel: the one place that opens their sockets.

- ``unix`` (Linux, macOS): the server listens on a Unix socket at ``path``, in a folder that only the grader (and
  the sandbox's user id) may enter. The default wherever Python has Unix sockets.
- ``tcp`` (Windows, whose Python has no Unix sockets): the server listens on the loopback interface, on a port the
  OS picks, and writes the port and a random token to the file ``path`` (same folder). The judge reads that file,
  connects and sends the token first; the server drops a connection whose first bytes are not the token, so another
  program on the machine, which can reach a loopback port but not read the file, cannot call the student's code.
  On Linux it works only without the sandbox, whose kernel has no network interface at all.

The judge does not need to be told which: :func:`connect` looks at what lies at ``path``.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import socket
import stat

TOKEN_BYTES = 32
ADMIT_TIMEOUT_S = 10.0        # a client has this long to send its token


def default_kind() -> str:
    """``unix`` where this Python has Unix sockets, else ``tcp``."""
    return "unix" if hasattr(socket, "AF_UNIX") else "tcp"


class Listener:
    """The server's listening socket at ``path`` (kind ``unix`` or ``tcp``, see the module docstring)."""

    def __init__(self, path: str, kind: str | None = None):
        kind = kind or default_kind()
        self.token: bytes | None = None                 # None on a Unix socket: no token to check
        if kind == "unix":
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # posix-only: guarded (kind unix)
            self.sock.bind(path)
        elif kind == "tcp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            self.token = secrets.token_bytes(TOKEN_BYTES)
            _write_private(path, json.dumps({"port": self.sock.getsockname()[1], "token": self.token.hex()}))
        else:
            raise ValueError(f"unknown judge transport {kind!r} (unix or tcp)")
        self.sock.listen(16)

    def accept(self) -> socket.socket:
        return self.sock.accept()[0]

    def admit(self, conn: socket.socket) -> bool:
        """Whether ``conn`` may talk to the server: always on a Unix socket; on TCP, once it sent the token."""
        if self.token is None:
            return True
        conn.settimeout(ADMIT_TIMEOUT_S)
        received = b""
        try:
            while len(received) < TOKEN_BYTES:
                chunk = conn.recv(TOKEN_BYTES - len(received))
                if not chunk:
                    return False
                received += chunk
        except OSError:
            return False
        conn.settimeout(None)
        return hmac.compare_digest(received, self.token)


def connect(path: str, timeout: float) -> socket.socket:
    """A connected socket to the server whose listener is at ``path`` (either kind), with ``timeout`` set."""
    if hasattr(socket, "AF_UNIX") and stat.S_ISSOCK(os.stat(path).st_mode):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)   # posix-only: guarded (hasattr above)
        sock.settimeout(timeout)
        sock.connect(path)
        return sock
    with open(path, encoding="utf-8") as f:
        where = json.load(f)
    sock = socket.create_connection(("127.0.0.1", int(where["port"])), timeout=timeout)
    sock.sendall(bytes.fromhex(where["token"]))
    return sock


def _write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, appearing whole (written aside, then renamed)."""
    aside = f"{path}.{os.getpid()}.tmp"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(aside, path)
