"""Logging, call context and (later) metrics."""
