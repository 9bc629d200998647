"""Free TCP ports on localhost, for the servers the tests and benches start."""

from __future__ import annotations

import socket


def free_ports(n: int) -> list[int]:
    """n distinct free ports (all bound at once, so none repeats); free again when this returns."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]
