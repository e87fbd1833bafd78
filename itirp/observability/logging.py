"""Structured logs that never block the event loop.

Records are handed to a queue on the calling thread (with the call's user, request id and
correlation id attached there, where the context variables are visible) and written to stderr
by a listener thread.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Literal

from itirp.observability.context import correlation_id_var, principal_var, request_id_var

__all__ = ["ContextFilter", "JsonFormatter", "setup_logging"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class ContextFilter(logging.Filter):
    """Stamps each record with the current call's user, request id and correlation id."""

    def filter(self, record: logging.LogRecord) -> bool:
        principal = principal_var.get()
        if principal is not None and not hasattr(record, "user"):
            record.user = principal.username
        rid = request_id_var.get()
        if rid and not hasattr(record, "request_id"):
            record.request_id = rid
        cid = correlation_id_var.get()
        if cid and not hasattr(record, "correlation_id"):
            record.correlation_id = cid
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"))


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = " ".join(
            f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
        )
        return f"{base} {extras}" if extras else base


class _PreparedQueueHandler(logging.handlers.QueueHandler):
    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Keep the record's own fields (extras) intact; only render the message and traceback text
        # here, so that arguments are not mutated by the time the listener formats it.
        record.message = record.getMessage()
        record.msg = record.message
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        return record


def setup_logging(level: str = "INFO", fmt: Literal["json", "text"] = "json") -> logging.handlers.QueueListener:
    """Route the root logger through a queue; returns the started listener (stop it at exit)."""
    sink = logging.StreamHandler(sys.stderr)
    sink.setFormatter(
        JsonFormatter() if fmt == "json" else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    q: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = _PreparedQueueHandler(q)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    listener = logging.handlers.QueueListener(q, sink, respect_handler_level=False)
    listener.start()
    return listener
