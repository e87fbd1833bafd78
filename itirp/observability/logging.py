"""Structured logs that never block the event loop.

Two ways in, one way out:
- ordinary `logging` calls: the record is stamped (on the calling thread, where the context
  variables are visible) with the call's user, request id and correlation id, and queued;
- `emit` / `emit_many` for the high-volume lines (one per RPC, one per order state change): the
  line is rendered at once into a string and queued, skipping LogRecord and the handler chain.

One writer thread drains the queue and writes everything that has accumulated with one write and
one flush, so under load the cost per line is a few microseconds and a fraction of a syscall.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Literal

from itirp.observability.context import correlation_id_var, principal_var, request_id_var

__all__ = ["ContextFilter", "JsonFormatter", "LogWriter", "emit", "emit_many", "setup_logging"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}

Format = Literal["json", "text"]


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


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="microseconds")


_dumps = json.JSONEncoder(default=str, separators=(",", ":")).encode


def _render(fmt: Format, ts: str, level: str, name: str, msg: str, fields: dict[str, object]) -> str:
    if fmt == "json":
        return _dumps({"ts": ts, "level": level, "logger": name, "msg": msg, **fields})
    extras = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"{ts} {level} {name}: {msg}" + (f" {extras}" if extras else "")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return _render("json", _iso(record.created), record.levelname, record.name, record.getMessage(), fields)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        text = _render("text", _iso(record.created), record.levelname, record.name, record.getMessage(), fields)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _QueueHandler(logging.Handler):
    """Hands records to the writer: message rendered now (arguments may change later)."""

    def __init__(self, q: queue.SimpleQueue[object]) -> None:
        super().__init__()
        self._q = q

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
        except Exception:  # noqa: BLE001 - a bad log call must not break the code that made it (logging.Handler does the same)
            self.handleError(record)
            return
        self._q.put(record)


class LogWriter:
    """The one thread that writes log output."""

    _STOP = object()

    def __init__(self, stream: IO[str], formatter: logging.Formatter) -> None:
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stream = stream
        self._formatter = formatter
        self._thread = threading.Thread(target=self._run, name="itirp-log-writer", daemon=True)
        self._thread.start()

    def _text(self, item: object) -> str:
        if isinstance(item, str):
            return item
        try:
            # The queue holds str lines and LogRecords; anything else fails here and becomes an error line.
            return self._formatter.format(item)  # type: ignore[arg-type]  # see the line above
        except Exception as exc:  # noqa: BLE001 - a bad record must not kill the writer; it is written as an error line
            return f'{{"level":"ERROR","logger":"itirp.log","msg":"unformattable record: {exc!r}"}}'

    def _run(self) -> None:
        get, get_nowait = self.queue.get, self.queue.get_nowait
        while True:
            items = [get()]
            while len(items) < 4096:
                try:
                    items.append(get_nowait())
                except queue.Empty:
                    break
            stop = any(item is self._STOP for item in items)
            lines = [self._text(item) for item in items if item is not self._STOP]
            if lines:
                try:
                    self._stream.write("\n".join(lines) + "\n")
                    self._stream.flush()
                except (OSError, ValueError):  # stderr closed: nothing sensible left to do
                    pass
            if stop:
                return

    def stop(self) -> None:
        self.queue.put(self._STOP)
        self._thread.join(5)


_writer: LogWriter | None = None
_format: Format = "json"


def emit(logger: logging.Logger, msg: str, fields: dict[str, object], level: int = logging.INFO) -> None:
    """Log one structured line cheaply (falls back to `logger.log` when logging is not set up)."""
    if not logger.isEnabledFor(level):
        return
    writer = _writer
    if writer is None:
        logger.log(level, msg, extra=fields)
        return
    writer.queue.put(_render(_format, _iso(time.time()), logging.getLevelName(level), logger.name, msg, fields))


def emit_many(
    logger: logging.Logger, lines: Iterable[tuple[str, dict[str, object]]], level: int = logging.INFO
) -> None:
    """Several structured lines, queued as one block."""
    if not logger.isEnabledFor(level):
        return
    writer = _writer
    if writer is None:
        for msg, fields in lines:
            logger.log(level, msg, extra=fields)
        return
    now, name, level_name = _iso(time.time()), logger.name, logging.getLevelName(level)
    block = "\n".join(_render(_format, now, level_name, name, msg, fields) for msg, fields in lines)
    if block:
        writer.queue.put(block)


def setup_logging(level: str = "INFO", fmt: Format = "json", stream: IO[str] | None = None) -> LogWriter:
    """Route the root logger through the writer thread; returns it (call `stop()` at exit)."""
    global _writer, _format
    writer = LogWriter(stream or sys.stderr, JsonFormatter() if fmt == "json" else _TextFormatter())
    handler = _QueueHandler(writer.queue)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _writer, _format = writer, fmt
    return writer
