"""What serves `KalshiClient` alone: HTTP transport and retries, RSA-PSS signing, the rate limiter,
cursor pagination, V2 order writes, and the exact wire records (re-exported by `models`)."""
