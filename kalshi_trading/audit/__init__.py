"""What serves `TradeLogger` and the history built on it: the crash-safe JSONL journal (fsync, torn
lines, rotation, retention, a log folder shared by several processes), what each record says in
the trader's terms, the orders the log knows, the cash each fill and settlement moved, the CSV
export, and `TradeHistory`, which syncs the log with the exchange. Also where each account's state
lives: one home per account under the log folder (`account_home`), and the one-time move of an
earlier version's trail into it (`legacy_trail`)."""
