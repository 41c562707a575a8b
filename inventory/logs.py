"""Logging: one JSON object a line when the output is collected (a container, systemd, a file), plain text
on a terminal (``SHANGYUN_LOG_FORMAT=json|text`` decides instead of the terminal check).

Every record carries the id of the HTTP request it belongs to (``request_id``, also in the response's
``X-Request-ID`` and in the audit rows the request writes), so one request can be followed from the access
log to the 档案库. ``logging_config`` is a ``logging.config.dictConfig`` dict, so ``uvicorn`` applies the same
configuration in each worker process it starts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any, TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("shangyun_request_id", default=None)
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else a caller passed in ``extra=`` is written as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id",
                                                                            "color_message"}  # uvicorn's ANSI copy


def request_id_for(given: str | None) -> str:
    """The client's ``X-Request-ID`` when it is a sane token (≤ 64 of ``A-Za-z0-9._-``), else a new one."""
    return given if given and _GIVEN_ID.match(given) else uuid.uuid4().hex[:16]


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None)}
        entry |= {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain text for a person at a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request = getattr(record, "request_id", None)
        return f"{text} [{request}]" if request else text


def use_json(log_format: str, stream: TextIO | None = None) -> bool:
    """Whether to write JSON: ``json``/``text`` decide; ``auto`` writes JSON unless ``stream`` is a terminal."""
    if log_format in ("json", "text"):
        return log_format == "json"
    stream = stream or sys.stderr
    return not (hasattr(stream, "isatty") and stream.isatty())


def logging_config(json_lines: bool, level: str = "INFO") -> dict[str, Any]:
    """The dictConfig for Shangyun's and uvicorn's loggers, all through one stderr handler."""
    formatter = "inventory.logs.JsonFormatter" if json_lines else "inventory.logs.TextFormatter"
    one = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "inventory.logs.RequestIdFilter"}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "default", "filters": ["request_id"]}},
        "loggers": {"shangyun": one, "uvicorn": one, "uvicorn.error": {"level": level},
                    "uvicorn.access": one, "apscheduler": {**one, "level": "WARNING"}},
    }


def configure_logging(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """Apply (and return) the configuration for ``log_format`` (``auto`` | ``json`` | ``text``)."""
    import logging.config

    config = logging_config(use_json(log_format), level)
    logging.config.dictConfig(config)
    return config
