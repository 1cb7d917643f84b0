"""Deleting what the data map (docs/architecture.md) says must go, in one place: `flask purge`, and hourly in each
worker."""

import logging
import threading
from datetime import timedelta
from time import monotonic

from flask import Flask, current_app
from sqlite_utils import Database

from kiosk import metrics
from kiosk.admin import accounts
from kiosk.db import get_db, now, timestamp
from kiosk.devices import pairing as devices
from kiosk.guard import abuse
from kiosk.messaging import sweeper
from kiosk.schools import consent
from kiosk.schools import visits as schools
from kiosk.walkin import checkin

logger = logging.getLogger("kiosk.retention")

PURGE_EVERY_SECONDS = 3600
# Twilio retries a webhook within minutes; a day is ample to recognise a duplicate (R13).
WEBHOOK_RECEIPTS_KEEP = timedelta(days=1)


def purge(db: Database) -> dict[str, int]:
    """Delete everything past its retention; returns {what: how many}."""
    counts = {
        "visit records": checkin.purge_expired(db),
        "abuse counters": abuse.purge_expired(db),
        "pairing codes": devices.purge_expired_codes(db),
        "admin sessions": accounts.purge_expired_sessions(db),
        "webhook receipts": db.execute("DELETE FROM webhook_events WHERE received_at <= ?",
                                       [timestamp(now() - WEBHOOK_RECEIPTS_KEEP)]).rowcount,
        "import previews": db.execute("DELETE FROM import_previews WHERE expires_at <= ?", [timestamp()]).rowcount,
        "school visits": schools.purge_expired(db),
        "apprenticeship consents": consent.purge_expired(db),
        "reply counts": db.execute("DELETE FROM reply_counts WHERE hour < ?", [timestamp(
            now() - timedelta(days=current_app.config["VISIT_RETENTION_DAYS"]))[:13]]).rowcount,
    }
    metrics.purged(counts)
    return counts


def init_app(app: Flask) -> None:
    app.extensions["retention"] = {"last": None, "lock": threading.Lock()}
    app.before_request(_purge_hourly)


def _purge_hourly() -> None:
    """At most once an hour per worker, purge on a dispatcher thread, off the request."""
    state = current_app.extensions["retention"]
    with state["lock"]:
        if state["last"] is not None and monotonic() - state["last"] < PURGE_EVERY_SECONDS:
            return
        state["last"] = monotonic()
    current_app.extensions["dispatcher"].submit(_purge_and_log)


def _purge_and_log() -> None:
    counts = purge(get_db())
    logger.info("Purged %s; settled %s SMS left in flight", ", ".join(f"{n} {what}" for what, n in counts.items()),
                sweeper.sweep(get_db()))
