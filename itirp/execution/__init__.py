"""Venues and the resilience around them: retry with backoff and jitter, circuit breaker, timeouts."""
