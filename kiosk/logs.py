"""The app's logs: one line per record, as text or as JSON (KIOSK_LOG_FORMAT), to stderr through Flask's handler.

What is logged is the same in both formats, and holds ids, Twilio SIDs and masked numbers only (R31). A JSON
object escapes line breaks, so a record is always one line, whatever it carries.
"""

import json
import logging
from datetime import UTC, datetime

from flask import Flask
from flask.logging import default_handler

TEXT = logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")  # Flask's own


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} and, for an exception, "exception" with its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    # Flask gives the "kiosk" logger a handler to stderr; our modules log below it ("kiosk.sms", ...).
    app.logger.setLevel(app.config["LOG_LEVEL"])
    # Flask's one handler serves every app of the process (the tests make many): set its format either way.
    default_handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else TEXT)
    # The twilio SDK logs request URLs and headers at INFO; nothing of it belongs in our logs.
    logging.getLogger("twilio").setLevel(logging.WARNING)
