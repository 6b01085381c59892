"""The paper exchange: a Kalshi-compatible Trade API v2 simulator served on loopback.

server.py, http_server.py, routes.py   the HTTP layer: framing, routing, auth and faults
auth.py, faults.py                     RSA-PSS signature checks and the key registry; fault injection
engine.py and its parts                accounts, orders, matching (matching.py, integer units),
                                       trading, lifecycle, settlement; answers in API-shaped dicts
store.py, dir_lock.py                  SQLite (WAL) persistence, one transaction per write; one
                                       exchange per data folder
universe.py, market_data/              the markets it trades on, and their loaders (bundled
                                       recordings, live public endpoints, a folder of responses)
shared_exchange.py, leases.py          one exchange per folder shared by the app's sessions: start
                                       or join it, leases, the last session out stops it
cli.py                                 `paper-server` and `paper-reset`
"""
