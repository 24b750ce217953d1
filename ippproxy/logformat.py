"""The server's log: one line per record, as text or as JSON (``--log-format json``).

Text: ``2026-12-02 12:00:00,123 INFO ippproxy.x: message``. JSON: one object per line
with ``time`` (ISO 8601 in UTC), ``level``, ``logger`` and ``message``, plus the fields a
record carries in ``extra={"fields": {...}}`` (the job events: ``event``, ``user``,
``queue``, ``job_id``, ``pages``, ``cost``), so that a log shipper reads them without
parsing the message. Alembic's start-up lines (its plug-ins, the migration context) are
kept below INFO: a start shows what the server does, not what its libraries load.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines say nothing to an operator; their warnings still show.
QUIET = ("alembic",)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname, "logger": record.name,
            "message": record.getMessage()}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update({k: v for k, v in fields.items() if k not in out})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: str = "info", fmt: str = "text") -> None:
    """The root logger for ``ippproxy serve`` (replacing any handler set before)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = getattr(logging, level.upper())
    root.setLevel(numeric)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
