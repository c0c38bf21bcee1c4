"""Latency of every proxied call: recorded in memory, flushed to Redis, summarised on demand."""
