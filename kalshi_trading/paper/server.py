"""The paper exchange on loopback: a threaded HTTP/1.1 server in front of the `PaperEngine`.

Why it is built this way: the app talks to paper and production through the same `KalshiClient`, so
the simulator speaks real HTTP with real RSA-PSS signatures. Keep-alive, TCP_NODELAY and writing
each response in one `sendall` keep a signed round trip near a millisecond (no Nagle/delayed-ACK
stall). The engine lock is held per request, so the engine itself needs no further locking.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from ..errors import ExchangeRejection, UserInputError
from ..timeutil import parse_iso, to_iso_z, utc_now
from .auth import KeyRegistry, ensure_paper_key
from .dir_lock import DataDirLock
from .faults import Fault, FaultInjector
from .http_util import Query, bad_parameter, build_response, encode_json, error_body
from .routes import API_PREFIX, CREATE_ORDER_PATH, Call, allowed_methods, match_route

__all__ = ["PaperApp", "Reply", "RunningExchange", "start_paper_exchange", "REPLAY_START_KEY",
           "STATE_FILE"]

logger = logging.getLogger(__name__)

REPLAY_START_KEY = "replay_start"
REPLAY_SPEED_KEY = "replay_speed"
STATE_FILE = "paper.sqlite3"  # the sqlite database in the data dir (plus -wal / -shm beside it)
MAX_BODY_BYTES = 1 << 20
MAX_DRAIN_BYTES = 64 << 20   # a too-large body up to this size is read and discarded, so the client
                             # sees our 400 instead of a connection reset mid-upload
_BODY_METHODS = ("POST", "PUT", "PATCH")
_STDLIB_ERROR_CODES = {400: "invalid_parameters", 404: "not_found", 405: "method_not_allowed",
                       501: "method_not_allowed"}
_TOO_MANY = {"error": "too many requests"}
_FAULT_REPLIES = {
    Fault.INTERNAL_ERROR: (500, error_body("internal_server_error", "internal server error",
                                           "injected fault")),
    Fault.UNAVAILABLE: (503, error_body("service_unavailable", "service unavailable",
                                        "injected fault")),
    Fault.RATE_LIMITED: (429, _TOO_MANY),
}


@dataclass(frozen=True)
class Reply:
    """What to send back; `drop` means close the connection without answering."""

    status: int = 200
    body: Any = None
    drop: bool = False


class PaperApp:
    """Routing, auth, faults and error mapping, independent of the socket layer."""

    def __init__(self, engine: Any, keys: KeyRegistry, faults: FaultInjector) -> None:
        self.engine = engine
        self.keys = keys
        self.faults = faults
        self.closed = False  # set (under the engine lock) once the store is about to close

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes) -> Reply:
        """Serve one request; never raises."""
        fault = self.faults.before_request()
        if fault is Fault.DROP_CONNECTION:
            return Reply(drop=True)
        if fault is not None:
            status, body = _FAULT_REPLIES[fault]
            return Reply(status, body)
        try:
            status, body = self._dispatch(method, target, headers, raw_body)
        except ExchangeRejection as exc:
            return Reply(exc.status, error_body(exc.code, exc.message, exc.details))
        except UserInputError as exc:
            return Reply(400, error_body("invalid_parameters", "invalid parameters", str(exc)))
        except Exception:  # noqa: BLE001 - one bad request must not take the server down
            logger.exception("paper exchange: unhandled error serving %s %s", method,
                             urlsplit(target).path)
            return Reply(500, error_body("internal_server_error", "internal server error"))
        if (status == 201 and method == "POST" and urlsplit(target).path == API_PREFIX + CREATE_ORDER_PATH
                and self.faults.lose_response()):
            logger.debug("paper exchange: dropping the response of a committed order creation")
            return Reply(drop=True)
        return Reply(status, body)

    def _dispatch(self, method: str, target: str, headers: Mapping[str, str],
                  raw_body: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            raise ExchangeRejection(404, "not_found", "not found", "no such endpoint")
        found = match_route(method, path[len(API_PREFIX):] or "/")
        if found is None:
            allowed = allowed_methods(path[len(API_PREFIX):] or "/")
            if allowed:
                raise ExchangeRejection(405, "method_not_allowed", "method not allowed",
                                        f"this endpoint accepts {', '.join(allowed)}")
            raise ExchangeRejection(404, "not_found", "not found", "no such endpoint")
        route, params = found
        user_id = self.keys.authenticate(method, path, headers)
        if route.auth and user_id is None:
            raise ExchangeRejection(401, "authentication_error", "authentication_error",
                                    "this endpoint requires a signed request")
        try:
            query = Query(parse_qs(parts.query, keep_blank_values=True, strict_parsing=False))
        except ValueError:
            raise bad_parameter("malformed query string") from None
        with self.engine.lock:
            if self.closed:
                raise ExchangeRejection(503, "service_unavailable", "service unavailable",
                                        "the paper exchange is shutting down")
            self.engine.advance()
            call = Call(method, path[len(API_PREFIX):], query, raw_body, user_id, params)
            return route.handler(self.engine, call)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the `PaperApp`, writes the answer in one piece."""

    protocol_version = "HTTP/1.1"
    server_version = "kalshi-paper"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: "_PaperHTTPServer"

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
            try:
                size = int(size_line, 16)
            except ValueError:
                raise bad_parameter("malformed chunked body") from None
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


class _PaperHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its open connections so `stop()` can end them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: PaperApp) -> None:
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


def _shutdown_promptly(server: _PaperHTTPServer) -> None:
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


@dataclass(eq=False)
class RunningExchange:
    """A paper exchange serving in a background thread; `stop()` (or `with`) ends it."""

    base_url: str
    engine: Any
    data_dir: Path
    key_id: str | None = field(default=None, repr=False)
    private_key_path: Path | None = field(default=None, repr=False)
    key_created: bool = False
    _server: _PaperHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _store: Any = field(default=None, repr=False)
    _dir_lock: Any = field(default=None, repr=False)
    live_refresh: Any = field(default=None, repr=False)   # the LiveRefresher on live data, else None

    @property
    def port(self) -> int:
        return int(self.base_url.split(":")[2].split("/")[0])

    def stop(self) -> None:
        """Stop serving, end open connections, close the store. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        if self.live_refresh is not None:
            self.live_refresh.stop()
        _shutdown_promptly(server)
        server.server_close()
        server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.engine.lock:
            server.app.closed = True
            close = getattr(self._store, "close", None)
            if close is not None:
                close()
        if self._dir_lock is not None:
            self._dir_lock.release()

    def __enter__(self) -> "RunningExchange":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _open_state(data_dir: Path, *, market_data: str, universe: Any, speed: float,
                clock: Callable[[], datetime], on_notice: Callable[[str], None],
                live_base_url: str | None, live_session: Any = None) -> tuple[Any, Any]:
    """Open the store, pin the replay start in its meta, load the market data, build the engine."""
    from .engine import PaperEngine  # imported here: the engine is heavy and the CLI's --help is not
    from .store import Store

    store = Store(data_dir / STATE_FILE)
    try:
        saved = store.get_meta(REPLAY_START_KEY)
        if saved:
            replay_start = parse_iso(saved)
            speed = _pinned_speed(store, speed, on_notice)
        else:
            # kept at the stored (millisecond) precision, so a restart rebuilds the same timeline
            replay_start = parse_iso(to_iso_z(clock()))
            store.set_meta(REPLAY_START_KEY, to_iso_z(replay_start))
            store.set_meta(REPLAY_SPEED_KEY, repr(float(speed)))
        if universe is None:
            from .market_data import PROD_PUBLIC_URL, load_universe

            universe = load_universe(market_data, start=replay_start, speed=speed, now=clock(),
                                     on_notice=on_notice, live_base_url=live_base_url or PROD_PUBLIC_URL,
                                     session=live_session)
        engine = PaperEngine(universe, store, clock=clock)
    except BaseException:
        getattr(store, "close", lambda: None)()
        raise
    return store, engine


def _pinned_speed(store: Any, requested: float, on_notice: Callable[[str], None]) -> float:
    """The replay speed the account was created with: the timeline (when markets open, close and
    settle) is start + recorded time / speed, so another speed would rewrite history under the
    account's orders and settlements. A different request is refused with one notice line."""
    saved = store.get_meta(REPLAY_SPEED_KEY)
    if saved is None:             # an account from before speeds were pinned: pin it now
        store.set_meta(REPLAY_SPEED_KEY, repr(float(requested)))
        return requested
    pinned = float(saved)
    if pinned != float(requested):
        on_notice(f"this paper account replays market data at speed {pinned:g} (set when it was "
                  f"created); ignoring speed {float(requested):g}. `paper-reset` starts over at a new speed.")
    return pinned


def start_paper_exchange(data_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                         market_data: str = "bundled", universe: Any = None,
                         public_keys: Mapping[str, bytes] | None = None,
                         fail_rate: float = 0.0, lose_response_rate: float = 0.0,
                         seed: int | None = None, speed: float = 1.0,
                         clock: Callable[[], datetime] | None = None,
                         max_clock_skew_s: float = 30,
                         on_notice: Callable[[str], None] | None = None,
                         live_base_url: str | None = None, live_session: Any = None,
                         live_refresh_interval: float | None = 5.0) -> RunningExchange:
    """Start the paper exchange in a background thread and return it serving.

    With no `public_keys`, the paper key pair in `data_dir` is used (made on first start); its id and
    private key path are on the result. `universe` overrides `market_data` (tests, benchmarks).
    `on_notice` gets market-data notices such as the live -> bundled fallback (default: a logged
    warning); `live_base_url` points `live` somewhere other than production's public API.
    On live data a `LiveRefresher` keeps the books users care about fresh every
    `live_refresh_interval` seconds (None: never) through `live_session` (default: its own).
    One exchange at a time owns a data dir: a second start on it is a ConfigError.
    """
    clock = clock or utc_now
    data_dir = Path(data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    faults = FaultInjector(fail_rate, lose_response_rate, seed)
    keys = KeyRegistry(public_keys, clock=clock, max_skew_s=max_clock_skew_s)
    notice = on_notice or (lambda text: logger.warning("market data: %s", text))
    dir_lock = DataDirLock.acquire(data_dir)
    try:
        paper_key = None
        if not public_keys:
            paper_key = ensure_paper_key(data_dir)
            keys.register(paper_key.key_id, paper_key.public_pem)
        store, engine = _open_state(data_dir, market_data=market_data, universe=universe, speed=speed,
                                    clock=clock, on_notice=notice, live_base_url=live_base_url,
                                    live_session=live_session)
    except BaseException:
        dir_lock.release()
        raise
    try:
        server = _PaperHTTPServer((host, port), PaperApp(engine, keys, faults))
    except BaseException:
        getattr(store, "close", lambda: None)()
        dir_lock.release()
        raise
    from .market_data import start_live_refresh

    refresher = start_live_refresh(engine, market_data=market_data, universe_given=universe is not None,
                                   live_base_url=live_base_url, session=live_session,
                                   interval=live_refresh_interval, clock=clock)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                              name="paper-exchange", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    running = RunningExchange(
        base_url=f"http://{bound_host}:{bound_port}{API_PREFIX}", engine=engine, data_dir=data_dir,
        key_id=paper_key.key_id if paper_key else None,
        private_key_path=paper_key.private_key_path if paper_key else None,
        key_created=bool(paper_key and paper_key.created),
        _server=server, _thread=thread, _store=store, _dir_lock=dir_lock, live_refresh=refresher)
    logger.info("paper exchange serving on %s:%s", bound_host, bound_port)
    return running

