"""Where the paper exchange's markets come from: bundled recordings, live Kalshi, or a folder
(`sources.load_universe`), and the readers that turn each into a `MarketUniverse`."""
