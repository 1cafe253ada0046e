"""A TCP proxy a test can cut: drop the answers of chosen connections, or close every connection."""

from __future__ import annotations

import socket
import threading
from typing import List, Set, Tuple


class TcpProxy:
    def __init__(self, target: Tuple[str, int], drop_answers_of: Set[int] = frozenset()) -> None:
        self._target = target
        self._drop = set(drop_answers_of)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        #: Connections accepted so far.
        self.connections = 0
        self._open: List[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
                upstream = socket.create_connection(self._target)
                self._open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, number in self._drop), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, drop: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if drop:
                    # The server answered; the caller never hears it, as when a link dies mid-answer.
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        """Closes every open connection; new ones are still accepted."""
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        self.cut()
