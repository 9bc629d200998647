"""A database that hangs, on demand: a TCP relay in front of the test PostgreSQL server.

In "forward" mode it relays bytes both ways. In "hang" mode it stops relaying (connections stay open,
data sent to it is accepted by the kernel and never answered), and new connections are accepted and
never answered: exactly what a stopped (SIGSTOP) or wedged server looks like to a client. Back to
"forward", the held connections resume and new ones go through. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


class HangingRelay:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "forward"
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._listener], [], [], 0.1)
                if not ready:
                    continue
                client, _ = self._listener.accept()
            except OSError:  # closed under us: stopping
                return
            self._sockets.append(client)
            thread = threading.Thread(target=self._pipe, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pipe(self, client: socket.socket) -> None:
        while self.mode == "hang" and not self._stop.is_set():  # accepted, never answered
            self._stop.wait(0.05)
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self._sockets.append(server)
        pair = {client: server, server: client}
        while not self._stop.is_set():
            if self.mode == "hang":
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select(list(pair), [], [], 0.1)
            except (OSError, ValueError):  # closed by the client or by close()
                return
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for s in pair:
                        with contextlib.suppress(OSError):
                            s.close()
                    return
                with contextlib.suppress(OSError):
                    pair[sock].sendall(data)

    def url(self, url: str) -> str:
        """url with its host and port replaced by the relay's."""
        parts = urlsplit(url)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}"))

    def close(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2)


@contextlib.contextmanager
def hanging_relay(url: str) -> Iterator[HangingRelay]:
    parts = urlsplit(url)
    relay = HangingRelay(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        yield relay
    finally:
        relay.close()
