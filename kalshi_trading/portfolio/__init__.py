"""What serves `PortfolioTracker` alone: the FIFO ledger, the fill collector, settlement
reconciliation, the report records and their terminal views."""
