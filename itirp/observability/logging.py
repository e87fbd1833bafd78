"""Structured logs that never block the event loop.

Two ways in, one way out:
- ordinary `logging` calls: the record is stamped (on the calling thread, where the context
  variables are visible) with the call's user, request id and correlation id, and queued;
- `emit` / `emit_many` for the high-volume lines (one per RPC, one per order state change): the
  line's parts (time, level, logger, message, fields) are queued as they are, skipping LogRecord
  and the handler chain; the writer renders them. The caller hands its `fields` dict over: it
  must not change it afterwards (every caller builds a fresh one).

The queue is a deque that nobody waits on: queuing a line is one append, with no lock and no
wake-up of another thread (a wake-up per line cost a futex call and a GIL hand-off per RPC). One
writer thread wakes every `LogWriter.interval` seconds (20 ms), renders everything that has
accumulated and writes it with one write and one flush; `stop()` writes what is left.
"""

from __future__ import annotations

import collections
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
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


def _iso_exact(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="microseconds")


_second: tuple[int, str] = (-1, "")  # the last whole second rendered, and its "YYYY-MM-DDTHH:MM:SS."


def _iso(created: float) -> str:
    """`created` as ISO 8601 UTC to the microsecond ("2026-12-02T15:31:23.123456+00:00"), the
    date and time of day rendered once per second."""
    global _second
    seconds, micros = divmod(round(created * 1_000_000), 1_000_000)
    second = _second  # one read: another thread may replace it
    if second[0] != seconds:
        second = _second = (seconds, _iso_exact(seconds)[:20])
    return f"{second[1]}{micros:06d}+00:00"


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


#: The parts of an `emit` line: (time, level name, logger name, message, fields).
_Line = tuple[float, str, str, str, dict[str, object]]
#: What the writer's queue holds: a LogRecord, an `emit` line, or `emit_many`'s block of lines.
_Item = logging.LogRecord | _Line | list[_Line]


class _QueueHandler(logging.Handler):
    """Hands records to the writer: message rendered now (arguments may change later)."""

    def __init__(self, put: Callable[[_Item], None]) -> None:
        super().__init__()
        self._put = put

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
        except Exception:  # noqa: BLE001 - a bad log call must not break the code that made it (logging.Handler does the same)
            self.handleError(record)
            return
        self._put(record)


class LogWriter:
    """The one thread that writes log output."""

    #: How long the writer sleeps between two writes: a line is written within about this long.
    interval = 0.02

    def __init__(self, stream: IO[str], formatter: logging.Formatter, fmt: Format = "json") -> None:
        self._items: collections.deque[_Item] = collections.deque()
        #: Queue one item: a deque append (thread-safe, wakes nobody).
        self.put: Callable[[_Item], None] = self._items.append
        self._stream = stream
        self._formatter = formatter
        self._format = fmt
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="itirp-log-writer", daemon=True)
        self._thread.start()

    def _text(self, item: _Item) -> str:
        try:
            if isinstance(item, tuple):
                created, level, name, msg, fields = item
                return _render(self._format, _iso(created), level, name, msg, fields)
            if isinstance(item, list):
                fmt = self._format
                return "\n".join(_render(fmt, _iso(t), lvl, name, msg, fields) for t, lvl, name, msg, fields in item)
            return self._formatter.format(item)
        except Exception as exc:  # noqa: BLE001 - a bad record must not kill the writer; it is written as an error line
            return f'{{"level":"ERROR","logger":"itirp.log","msg":"unformattable record: {exc!r}"}}'

    def _write_pending(self) -> None:
        items, popleft = self._items, self._items.popleft
        while items:
            lines = [self._text(popleft()) for _ in range(min(len(items), 4096))]
            try:
                self._stream.write("\n".join(lines) + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # stderr closed: nothing sensible left to do
                pass

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self._write_pending()
        self._write_pending()

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._stopping.set()
        self._thread.join(5)


_writer: LogWriter | None = None
_format: Format = "json"
_LEVEL_NAMES = {level: logging.getLevelName(level) for level in (10, 20, 30, 40, 50)}


def emit(logger: logging.Logger, msg: str, fields: dict[str, object], level: int = logging.INFO) -> None:
    """Log one structured line cheaply (falls back to `logger.log` when logging is not set up)."""
    if not logger.isEnabledFor(level):
        return
    writer = _writer
    if writer is None:
        logger.log(level, msg, extra=fields)
        return
    writer.put((time.time(), _LEVEL_NAMES.get(level) or logging.getLevelName(level), logger.name, msg, fields))


def emit_many(
    logger: logging.Logger, lines: Iterable[tuple[str, dict[str, object]]], level: int = logging.INFO
) -> None:
    """Several structured lines with one time stamp, queued as one block."""
    if not logger.isEnabledFor(level):
        return
    writer = _writer
    if writer is None:
        for msg, fields in lines:
            logger.log(level, msg, extra=fields)
        return
    now, name, level_name = time.time(), logger.name, _LEVEL_NAMES.get(level) or logging.getLevelName(level)
    block = [(now, level_name, name, msg, fields) for msg, fields in lines]
    if block:
        writer.put(block)


def setup_logging(level: str = "INFO", fmt: Format = "json", stream: IO[str] | None = None) -> LogWriter:
    """Route the root logger through the writer thread; returns it (call `stop()` at exit)."""
    global _writer, _format
    writer = LogWriter(stream or sys.stderr, JsonFormatter() if fmt == "json" else _TextFormatter(), fmt)
    handler = _QueueHandler(writer.put)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _writer, _format = writer, fmt
    return writer
