"""What serves `TradeExecutor` alone: intent normalisation, market and risk checks, the preview of
what an order will do, and the records of a submission's outcome."""
