"""What serves `TradeLogger` alone: the crash-safe JSONL journal (fsync, torn lines, rotation,
retention, a log folder shared by several processes)."""
