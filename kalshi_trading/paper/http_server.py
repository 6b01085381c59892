"""The socket side of the paper exchange: reading requests, writing answers, shutting down fast.

Keep-alive, TCP_NODELAY and writing each response in one `sendall` keep a signed round trip near
a millisecond (no Nagle / delayed-ACK stall). Framing problems (no Content-Length, oversized,
non-UTF-8 or chunked bodies, unknown methods) are answered here in Kalshi's error envelope; every
well-framed request goes to a `RequestHandler` (the `PaperApp`), which knows nothing of sockets.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping, Protocol
from urllib.parse import urlsplit

from ..errors import ExchangeRejection
from .http_util import bad_parameter, build_response, encode_json, error_body

__all__ = ["PaperHTTPServer", "Reply", "RequestHandler", "shutdown_promptly", "MAX_BODY_BYTES"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What to send back; `drop` means close the connection without answering."""

    status: int = 200
    body: Any = None
    drop: bool = False


class RequestHandler(Protocol):
    """What the socket layer asks for each well-framed request (`PaperApp` in server.py)."""

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes) -> Reply: ...

MAX_BODY_BYTES = 1 << 20
MAX_DRAIN_BYTES = 64 << 20   # a too-large body up to this size is read and discarded, so the client
                             # sees our 400 instead of a connection reset mid-upload
_BODY_METHODS = ("POST", "PUT", "PATCH")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_STDLIB_ERROR_CODES = {400: "invalid_parameters", 404: "not_found", 405: "method_not_allowed",
                       501: "method_not_allowed"}


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the `RequestHandler`, writes the answer in one piece."""

    protocol_version = "HTTP/1.1"
    server_version = "kalshi-paper"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: "PaperHTTPServer"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("paper exchange: " + format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's error path (malformed request line, oversized headers, unknown method),
        answered in Kalshi's JSON envelope instead of an HTML page, and the connection closed."""
        self.close_connection = True
        logger.debug("paper exchange: %s answered %s", (self.command or "?"), code)
        body = error_body(_STDLIB_ERROR_CODES.get(code, "bad_request"),
                          message or HTTPStatus(code).phrase, explain or "")
        try:
            self._write(code, body)
        except OSError:
            pass

    def _serve(self) -> None:
        try:
            raw_body = self._read_body()
        except ExchangeRejection as exc:
            self.close_connection = True
            self._write(exc.status, error_body(exc.code, exc.message, exc.details))
            return
        reply = self.server.app.handle(self.command, self.path, self.headers, raw_body)
        if reply.drop:
            self._drop()
            return
        logger.debug("paper exchange: %s %s -> %s", self.command, urlsplit(self.path).path,
                     reply.status)
        self._write(reply.status, reply.body)

    # HEAD and OPTIONS get a 405 (no route serves them); HEAD answers carry no body.
    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.command in _BODY_METHODS:
                # HTTP/1.1 frames a body only by length or chunks; whatever follows is unframed.
                raise bad_parameter("Content-Length is required for a request body")
            return b""
        text = length_header.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise bad_parameter("Content-Length is not a number")
        length = int(text)
        if length > MAX_BODY_BYTES:
            self._discard(length)
            raise bad_parameter(f"request body too large (at most {MAX_BODY_BYTES} bytes)")
        body = self.rfile.read(length)
        if len(body) < length:
            raise bad_parameter("request body shorter than its Content-Length")
        return body

    def _discard(self, length: int) -> None:
        """Read and drop a too-large body (up to MAX_DRAIN_BYTES) so the 400 can be read."""
        if length > MAX_DRAIN_BYTES:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            # hex digits only: int(..., 16) also takes "-5" (and read(-5) would wait for EOF), "0x5", "1_0"
            if not (0 < len(size_line) <= 8 and all(c in _HEX_DIGITS for c in size_line)):
                raise bad_parameter("malformed chunked body")
            size = int(size_line, 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise bad_parameter("request body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, status: int, body: Any) -> None:
        payload = encode_json(body)
        self.wfile.write(build_response(status, payload, close=self.close_connection,
                                        omit_body=self.command == "HEAD"))

    def _drop(self) -> None:
        """Close the connection without sending a byte (a lost response, as a client sees it)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class PaperHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its open connections so `stop()` can end them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: RequestHandler) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self._open_lock:
            self._open.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal; anything else is logged, never printed."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            logger.debug("paper exchange: client connection ended early: %s", type(error).__name__)
        else:
            logger.error("paper exchange: error while serving a connection", exc_info=True)

    def close_open_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def shutdown_promptly(server: PaperHTTPServer) -> None:
    """`server.shutdown()` without waiting out the poll interval: poke the listening socket so
    `serve_forever`'s select() wakes up and sees the shutdown request at once."""
    waiter = threading.Thread(target=server.shutdown, daemon=True)
    waiter.start()
    while waiter.is_alive():
        try:
            socket.create_connection(server.server_address[:2], timeout=0.2).close()
        except OSError:
            pass
        waiter.join(0.01)
