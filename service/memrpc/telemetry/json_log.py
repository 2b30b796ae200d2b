"""JSON logs (`--log-format json`): one JSON object per line, for log
pipelines that parse rather than grep.

Each object has `time` (UTC, ISO 8601 with milliseconds), `level`,
`logger`, `message` and `pid`; a line about a call adds `request_id`, and
with tracing on `trace_id` and `span_id` (hex, as trace back-ends show
them); an access line adds its fields (`method`, `status`, `duration_ms`,
`tenant`); a line with an exception adds `exception`, its traceback as
text. The record attributes are set where the record is made
(`rpc/correlation.py`).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

# The record attributes copied as they are, when set.
CALL_FIELDS = ("request_id", "trace_id", "span_id")
# The record attribute holding an access line's fields.
ACCESS = "access"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in CALL_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        line.update(getattr(record, ACCESS, None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)
