"""Structured logging: one JSON object (or text line) per record, written by one thread; ordinary
records carry the current call's user, request id and correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from _pytest.logging import LogCaptureHandler

import itirp.observability.logging as obslog
from itirp.auth.roles import Role
from itirp.auth.service import Principal
from itirp.observability.context import correlation_id_var, principal_var, request_id_var
from itirp.observability.logging import LogWriter, emit, emit_many, setup_logging

LOGGER = "itirp.test.logging"

Configure = Callable[..., tuple[LogWriter, io.StringIO]]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """`configure(level, fmt)` -> (writer, stream). Afterwards the writers are stopped and the root
    logger gets back its handlers and level (pytest's own per-phase capture handlers come and go
    by themselves), and the module's writer/format globals are restored."""
    root = logging.getLogger()
    saved = [h for h in root.handlers if not isinstance(h, LogCaptureHandler)]
    saved_level = root.level
    monkeypatch.setattr(obslog, "_writer", obslog._writer)
    monkeypatch.setattr(obslog, "_format", obslog._format)
    writers: list[LogWriter] = []

    def setup(level: str = "INFO", fmt: str = "json") -> tuple[LogWriter, io.StringIO]:
        stream = io.StringIO()
        writer = setup_logging(level, fmt, stream=stream)  # type: ignore[arg-type]
        writers.append(writer)
        return writer, stream

    try:
        yield setup
    finally:
        for writer in writers:
            writer.stop()
        for handler in list(root.handlers):
            if isinstance(handler, obslog._QueueHandler):
                root.removeHandler(handler)
        for handler in saved:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)


def json_lines(stream: io.StringIO, logger: str = LOGGER) -> list[dict[str, object]]:
    """Every output line must be one JSON object; returns those of `logger`."""
    text = stream.getvalue()
    assert text.endswith("\n") or text == ""
    records = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(r, dict) for r in records)
    return [r for r in records if r.get("logger") == logger]


def principal() -> Principal:
    return Principal("trader1", "u-trader1", Role.TRADER, "tok-1", 0, 0)


# -- emit / emit_many -----------------------------------------------------------------------------


def test_emit_writes_one_json_object_with_ts_level_logger_msg_and_fields(configure: Configure) -> None:
    # Arrange
    writer, stream = configure("INFO", "json")
    log = logging.getLogger(LOGGER)

    # Act
    emit(log, "order accepted", {"order_id": "o-1", "quantity": 5, "price": Decimal("1.50")})
    writer.stop()

    # Assert
    (record,) = json_lines(stream)
    assert record == {
        "ts": record["ts"],
        "level": "INFO",
        "logger": LOGGER,
        "msg": "order accepted",
        "order_id": "o-1",
        "quantity": 5,
        "price": "1.50",  # anything JSON cannot hold is written as its str()
    }
    ts = datetime.fromisoformat(str(record["ts"]))
    assert ts.tzinfo is not None
    assert ts.utcoffset() == UTC.utcoffset(ts)


def test_emit_many_writes_one_line_per_entry_in_order(configure: Configure) -> None:
    writer, stream = configure()
    log = logging.getLogger(LOGGER)

    emit_many(log, [("ORDER_CREATED", {"sequence": 1}), ("RISK_CHECK_PASSED", {"sequence": 2}), ("X", {})])
    writer.stop()

    records = json_lines(stream)
    assert [(r["msg"], r.get("sequence")) for r in records] == [
        ("ORDER_CREATED", 1),
        ("RISK_CHECK_PASSED", 2),
        ("X", None),
    ]


def test_emit_below_the_configured_level_writes_nothing(configure: Configure) -> None:
    writer, stream = configure("WARNING")
    log = logging.getLogger(LOGGER)

    emit(log, "quiet", {})
    emit_many(log, [("quiet too", {})])
    emit(log, "loud", {}, level=logging.ERROR)
    writer.stop()

    assert [(r["msg"], r["level"]) for r in json_lines(stream)] == [("loud", "ERROR")]


def test_emit_before_setup_falls_back_to_ordinary_logging(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    monkeypatch.setattr(obslog, "_writer", None)
    caplog.set_level(logging.INFO, logger=LOGGER)

    # Act
    emit(logging.getLogger(LOGGER), "fallback", {"order_id": "o-9"})
    emit_many(logging.getLogger(LOGGER), [("one", {"n": 1}), ("two", {"n": 2})])

    # Assert
    assert [(r.getMessage(), getattr(r, "order_id", None), getattr(r, "n", None)) for r in caplog.records] == [
        ("fallback", "o-9", None),
        ("one", None, 1),
        ("two", None, 2),
    ]


# -- ordinary logging calls -----------------------------------------------------------------------


def test_ordinary_records_become_json_with_their_extra_fields(configure: Configure) -> None:
    writer, stream = configure()

    logging.getLogger(LOGGER).warning("hello %s", "world", extra={"order_id": "o-2", "attempt": 3})
    writer.stop()

    (record,) = json_lines(stream)
    fields = (record["level"], record["msg"], record["order_id"], record["attempt"])
    assert fields == ("WARNING", "hello world", "o-2", 3)
    assert {"ts", "level", "logger", "msg"} <= set(record)
    assert "args" not in record  # no LogRecord internals
    assert "levelno" not in record


def test_a_message_with_newlines_is_still_one_line(configure: Configure) -> None:
    writer, stream = configure()

    logging.getLogger(LOGGER).info("first\nsecond", extra={"note": "a\nb"})
    writer.stop()

    (record,) = json_lines(stream)
    assert (record["msg"], record["note"]) == ("first\nsecond", "a\nb")


def test_the_message_is_rendered_when_logged_not_when_written(configure: Configure) -> None:
    # Arrange
    writer, stream = configure()
    state = {"status": "APPROVED"}

    # Act: the argument changes after the call, before the writer formats the record
    logging.getLogger(LOGGER).info("state %s", state)
    state["status"] = "CANCELLED"
    writer.stop()

    # Assert
    (record,) = json_lines(stream)
    assert record["msg"] == "state {'status': 'APPROVED'}"


def test_context_variables_stamp_ordinary_records(configure: Configure) -> None:
    # Arrange
    writer, stream = configure()
    tokens = (
        principal_var.set(principal()),
        request_id_var.set("req-7"),
        correlation_id_var.set("corr-7"),
    )

    # Act: log inside the "call", then leave it before the writer runs
    try:
        logging.getLogger(LOGGER).info("inside a call")
    finally:
        correlation_id_var.reset(tokens[2])
        request_id_var.reset(tokens[1])
        principal_var.reset(tokens[0])
    logging.getLogger(LOGGER).info("outside any call")
    writer.stop()

    # Assert
    inside, outside = json_lines(stream)
    assert (inside["user"], inside["request_id"], inside["correlation_id"]) == ("trader1", "req-7", "corr-7")
    assert not {"user", "request_id", "correlation_id"} & set(outside)


def test_an_explicit_extra_field_wins_over_the_context(configure: Configure) -> None:
    writer, stream = configure()
    token = correlation_id_var.set("from-context")
    try:
        logging.getLogger(LOGGER).info("explicit", extra={"correlation_id": "from-extra"})
    finally:
        correlation_id_var.reset(token)
    writer.stop()

    (record,) = json_lines(stream)
    assert record["correlation_id"] == "from-extra"


def test_exceptions_are_written_with_their_traceback(configure: Configure) -> None:
    writer, stream = configure()

    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger(LOGGER).exception("execution stopped", extra={"order_id": "o-3"})
    writer.stop()

    (record,) = json_lines(stream)
    assert record["level"] == "ERROR"
    assert "Traceback" in str(record["exc"])
    assert "ValueError: boom" in str(record["exc"])


def test_records_below_the_configured_level_are_dropped(configure: Configure) -> None:
    writer, stream = configure("WARNING")
    log = logging.getLogger(LOGGER)

    log.debug("d")
    log.info("i")
    log.warning("w")
    writer.stop()

    assert [r["msg"] for r in json_lines(stream)] == ["w"]


def test_a_logging_call_with_bad_format_arguments_does_not_raise(configure: Configure) -> None:
    writer, _ = configure()
    log = logging.getLogger(LOGGER)

    try:
        log.info("%d orders", "not-a-number")  # must not raise: logging never breaks the caller
    finally:
        writer.stop()


# -- the writer -----------------------------------------------------------------------------------


def test_stop_flushes_everything_queued(configure: Configure) -> None:
    # Arrange
    writer, stream = configure()
    log = logging.getLogger(LOGGER)

    # Act
    for i in range(3_000):
        emit(log, "line", {"i": i})
        if i % 3 == 0:
            log.info("record", extra={"i": i})
    emit_many(log, [("block", {"i": i}) for i in range(500)])
    writer.stop()

    # Assert
    records = json_lines(stream)
    assert sum(1 for r in records if r["msg"] == "line") == 3_000
    assert sum(1 for r in records if r["msg"] == "record") == 1_000
    assert [r["i"] for r in records if r["msg"] == "block"] == list(range(500))


def test_writer_thread_ends_on_stop(configure: Configure) -> None:
    writer, _ = configure()

    writer.stop()

    assert not writer._thread.is_alive()


def test_setup_logging_replaces_the_root_handlers_with_one_queue_handler(configure: Configure) -> None:
    configure()

    queue_handlers = [h for h in logging.getLogger().handlers if isinstance(h, obslog._QueueHandler)]

    assert len(queue_handlers) == 1
    assert logging.getLogger().level == logging.INFO


# -- text format ----------------------------------------------------------------------------------


def test_text_format_writes_ts_level_logger_msg_then_fields(configure: Configure) -> None:
    # Arrange
    writer, stream = configure("INFO", "text")
    log = logging.getLogger(LOGGER)

    # Act
    emit(log, "order accepted", {"order_id": "o-1", "quantity": 5})
    log.info("plain record", extra={"attempt": 2})
    log.info("no fields")
    writer.stop()

    # Assert
    lines = [line for line in stream.getvalue().splitlines() if f" {LOGGER}: " in line]
    assert len(lines) == 3
    ts, rest = lines[0].split(" ", 1)
    datetime.fromisoformat(ts)
    assert rest == f"INFO {LOGGER}: order accepted order_id=o-1 quantity=5"
    assert lines[1].split(" ", 1)[1] == f"INFO {LOGGER}: plain record attempt=2"
    assert lines[2].split(" ", 1)[1] == f"INFO {LOGGER}: no fields"


def test_text_format_records_carry_the_context_too(configure: Configure) -> None:
    writer, stream = configure("INFO", "text")
    token = request_id_var.set("req-text")
    try:
        logging.getLogger(LOGGER).info("in call")
    finally:
        request_id_var.reset(token)
    writer.stop()

    (line,) = [line for line in stream.getvalue().splitlines() if f" {LOGGER}: " in line]
    assert line.endswith(f"{LOGGER}: in call request_id=req-text")
