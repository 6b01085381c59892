"""The paper exchange: a Kalshi-compatible Trade API v2 simulator served on loopback.

universe.py     the market data it trades on (what the loaders produce, what the engine consumes)
market_data.py  loaders: bundled real recordings, live public endpoints, a folder of raw responses
matching.py     the YES order book and price-time matching, in integer units
engine.py       accounts, validation, fees, positions, settlement; answers in API-shaped dicts
store.py        SQLite (WAL) persistence, one transaction per API write
auth.py         RSA-PSS signature verification and the key registry
faults.py       fault injection (--fail-rate, --lose-response-rate)
server.py       the threaded HTTP/1.1 server and its routes
"""
