"""The paper exchange on loopback: a threaded HTTP/1.1 server in front of the `PaperEngine`.

Why it is built this way: the app talks to paper and production through the same `KalshiClient`, so
the simulator speaks real HTTP with real RSA-PSS signatures. `PaperApp` (faults, routing, auth,
error mapping) knows nothing of sockets; http_server.py is the socket side. The engine lock is held
per request, so the engine itself needs no further locking.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

import requests

from ..errors import ExchangeRejection, UserInputError
from ..timeutil import parse_iso, to_iso_z, utc_now
from .auth import KeyRegistry, ensure_paper_key
from .dir_lock import DataDirLock
from .engine import PaperEngine
from .faults import Fault, FaultInjector
from .http_server import PaperHTTPServer, Reply, shutdown_promptly
from .http_util import Query, bad_parameter, error_body
from .market_data.live import LiveRefresher
from .market_data.sources import PROD_PUBLIC_URL, load_universe, start_live_refresh
from .routes import API_PREFIX, CREATE_ORDER_PATH, Call, allowed_methods, match_route
from .store import Store
from .universe import MarketUniverse

__all__ = ["PaperApp", "Reply", "RunningExchange", "start_paper_exchange", "REPLAY_START_KEY",
           "ACCOUNT_ID_KEY", "STATE_FILE"]

logger = logging.getLogger(__name__)

REPLAY_START_KEY = "replay_start"
REPLAY_SPEED_KEY = "replay_speed"
# Names this paper account's state for good: made with the state, so `paper-reset` (which deletes
# the state) gives the next account a new one, and the app keeps each account's trail apart.
ACCOUNT_ID_KEY = "account_id"
STATE_FILE = "paper.sqlite3"  # the sqlite database in the data dir (plus -wal / -shm beside it)
_TOO_MANY = {"error": "too many requests"}
_FAULT_REPLIES = {
    Fault.INTERNAL_ERROR: (500, error_body("internal_server_error", "internal server error",
                                           "injected fault")),
    Fault.UNAVAILABLE: (503, error_body("service_unavailable", "service unavailable",
                                        "injected fault")),
    Fault.RATE_LIMITED: (429, _TOO_MANY),
}


class PaperApp:
    """Routing, auth, faults and error mapping, independent of the socket layer."""

    def __init__(self, engine: PaperEngine, keys: KeyRegistry, faults: FaultInjector) -> None:
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


@dataclass(eq=False)
class RunningExchange:
    """A paper exchange serving in a background thread; `stop()` (or `with`) ends it."""

    base_url: str
    engine: PaperEngine
    data_dir: Path
    key_id: str | None = field(default=None, repr=False)
    private_key_path: Path | None = field(default=None, repr=False)
    key_created: bool = False
    account_id: str | None = None          # the state's own id (store meta); a reset makes a new one
    _server: PaperHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    _dir_lock: DataDirLock | None = field(default=None, repr=False)
    live_refresh: LiveRefresher | None = field(default=None, repr=False)   # on live data only

    @property
    def port(self) -> int:
        return int(self.base_url.split(":")[2].split("/")[0])

    def banner_line(self) -> str:
        """How the app's banner describes an exchange running inside the app itself."""
        return "Paper exchange: runs inside this session only; it stops when you leave"

    def stop(self) -> None:
        """Stop serving, end open connections, close the store. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        if self.live_refresh is not None:
            self.live_refresh.stop()
        shutdown_promptly(server)
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


def _open_state(data_dir: Path, *, market_data: str, universe: MarketUniverse | None, speed: float,
                clock: Callable[[], datetime], on_notice: Callable[[str], None],
                live_base_url: str | None,
                live_session: requests.Session | None = None) -> tuple[Store, PaperEngine]:
    """Open the store, pin the replay start in its meta, load the market data, build the engine."""

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
            universe = load_universe(market_data, start=replay_start, speed=speed, now=clock(),
                                     on_notice=on_notice, live_base_url=live_base_url or PROD_PUBLIC_URL,
                                     session=live_session)
        engine = PaperEngine(universe, store, clock=clock)
    except BaseException:
        store.close()
        raise
    return store, engine


def _account_id(store: Store) -> str:
    """The state's account id, made the first time (also for state from before ids existed)."""
    saved = store.get_meta(ACCOUNT_ID_KEY)
    if saved:
        return saved
    made = uuid.uuid4().hex
    store.set_meta(ACCOUNT_ID_KEY, made)
    return made


def _pinned_speed(store: Store, requested: float, on_notice: Callable[[str], None]) -> float:
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
                         market_data: str = "bundled", universe: MarketUniverse | None = None,
                         public_keys: Mapping[str, bytes] | None = None,
                         fail_rate: float = 0.0, lose_response_rate: float = 0.0,
                         seed: int | None = None, speed: float = 1.0,
                         clock: Callable[[], datetime] | None = None,
                         max_clock_skew_s: float = 30,
                         on_notice: Callable[[str], None] | None = None,
                         live_base_url: str | None = None, live_session: requests.Session | None = None,
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
        try:
            account_id = _account_id(store)
        except BaseException:
            store.close()
            raise
    except BaseException:
        dir_lock.release()
        raise
    try:
        server = PaperHTTPServer((host, port), PaperApp(engine, keys, faults))
    except BaseException:
        store.close()
        dir_lock.release()
        raise
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
        key_created=bool(paper_key and paper_key.created), account_id=account_id,
        _server=server, _thread=thread, _store=store, _dir_lock=dir_lock, live_refresh=refresher)
    logger.info("paper exchange serving on %s:%s", bound_host, bound_port)
    return running

