"""How the server logs: one format for gunicorn's lines and the bridge's, with time, level
and logger, or JSON lines (`BRIDGE_LOG_FORMAT=json`) with the journey id on every line
logged while a journey is served.

gunicorn applies `config(...)` (its `logconfig_dict`) in the master and every worker. The
bridge's own loggers propagate to the root, which gunicorn's error log shares: without it
the bridge's lines had no time, no level and no logger, and INFO never appeared.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bridge import journeys

TEXT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATEFMT = "[%Y-%m-%d %H:%M:%S %z]"
FORMATS = ("text", "json")


class Journey(logging.Filter):
    """Puts the journey being served (if any) on the record, as `journey`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "journey", None) is None:
            record.journey = journeys.current.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC offset), level, logger, process,
    message, the journey when there is one, the exception's trace when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if getattr(record, "journey", None):
            line["journey"] = record.journey
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def config(fmt: str, level: str, access: bool = False) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: every line through one handler on stderr (the access
    log, when `access`, on stdout), in `fmt` ("text" or "json") from `level` up."""
    if fmt not in FORMATS:
        raise ValueError(f"BRIDGE_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    formatter: dict[str, Any] = (
        {"()": JsonLines} if fmt == "json" else {"format": TEXT, "datefmt": DATEFMT}
    )
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"journey": {"()": Journey}},
        "formatters": {"bridge": formatter},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "bridge",
                "filters": ["journey"],
                "stream": "ext://sys.stderr",
            },
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "bridge",
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"level": level, "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {  # a line per request only when asked for (BRIDGE_ACCESS_LOG)
                "level": "INFO" if access else "CRITICAL",
                "handlers": ["console"] if access else [],
                "propagate": False,
            },
        },
    }
