"""Settling what a crash, a hang or a stopped worker left in flight (GOV.UK Notify's timeout_notifications).

A message row still `sending` is settled here when its deadline has passed or the worker process sending it is
gone; a host not reached in time makes reception hear of the visit. That SMS is built from the visit record
alone (host, tablet, time), since the visitor's name and number died with the worker that held them.

Runs on every status poll of a visit, every SWEEP_SECONDS in each worker, in the hourly purge and in
`flask purge`.
"""

import logging
import os
import sqlite3
import threading
from datetime import timedelta
from typing import NamedTuple

from flask import Flask, current_app
from flask_babel import force_locale
from sqlite_utils import Database

from kiosk import db as store
from kiosk import i18n, metrics
from kiosk.admin.audit import raise_alert
from kiosk.locations import locations
from kiosk.messaging import escalation, notify
from kiosk.messaging.delivery import FALLBACK_WINDOW
from kiosk.messaging.notify import FAILED, SENDING, TIMED_OUT, WORKER_STOPPED, OutgoingSms
from kiosk.messaging.texts import unannounced_alert, unannounced_text, visit_facts
from kiosk.settings import reception_phone

logger = logging.getLogger("kiosk.messaging.sweeper")

# A live worker tells reception itself when the host's SMS is slow (it holds the visitor's name); the sweeper
# steps in only this much later, in case that worker is stuck.
BACKSTOP_SECONDS = 30

_IN_FLIGHT = """
    SELECT m.id, m.visit_id, m.recipient, m.deadline, m.owner, v.created_at,
           EXISTS (SELECT 1 FROM messages r WHERE r.visit_id = m.visit_id AND r.recipient = 'reception') AS told
    FROM messages m JOIN visits v ON v.id = m.visit_id
    WHERE m.status = 'sending'
"""
class InFlight(NamedTuple):
    """A message still being sent, with its visit's time and whether reception was told (a row of _IN_FLIGHT)."""

    id: int
    visit_id: str
    recipient: str
    deadline: str | None
    owner: str | None
    created_at: str
    told: int


def sweep(db: Database, *, visit_id: str | None = None) -> int:
    """Settle the messages in flight that need it (of one visit, or all); returns how many it settled. A sweep of
    all also tells reception of hosts silent past their visit's escalate_at (kiosk/messaging/escalation.py).

    Never raises for a database that cannot be written: the next sweep tries again."""
    if visit_id is None:
        try:
            escalation.escalate_silent_hosts(db)
        except sqlite3.Error:
            logger.exception("Escalation failed; the next sweep tries again")
    try:
        if not _candidates(db, visit_id):
            return 0
        with store.write_transaction(db):
            rows = _candidates(db, visit_id)  # again, now under the write lock: another worker may have swept
            messages = []
            for row in rows:
                with locations.at(locations.of_visit(db, row.visit_id)):  # its reception, clock and language
                    messages += _settle(db, row)
    except sqlite3.Error:
        logger.exception("Sweep failed; the next one tries again")
        return 0
    for message in messages:
        current_app.extensions["dispatcher"].submit(_tell_reception, message)
    return len(rows)


def _candidates(db: Database, visit_id: str | None) -> list[InFlight]:
    """Rows past their deadline or owned by a process that is gone, and hosts not reached by the backstop time."""
    now = store.timestamp()
    backstop = store.timestamp(store.now() - timedelta(
        seconds=current_app.config["HOST_ESCALATE_SECONDS"] + BACKSTOP_SECONDS))
    query = _IN_FLIGHT + (" AND m.visit_id = ?" if visit_id else "")
    rows = [InFlight(**row) for row in db.query(query, [visit_id] if visit_id else [])]
    return [row for row in rows
            if _overdue(row, now) or not notify.is_alive(row.owner)
            or (row.recipient == "host" and not row.told and row.created_at <= backstop)]


def _overdue(row: InFlight, now: str) -> bool:
    return row.deadline is None or row.deadline <= now


def _settle(db: Database, row: InFlight) -> list[OutgoingSms]:
    """Settle one row inside the sweep's transaction; returns the reception SMS it calls for."""
    overdue, orphan = _overdue(row, store.timestamp()), not notify.is_alive(row.owner)
    if row.recipient == "reception":
        if overdue or reception_phone() is None:
            _fail(db, row, TIMED_OUT)
            _alert(db, row.visit_id)
            return []
        if orphan:  # its worker stopped: this one sends it, worded without the visitor's name
            db.execute("UPDATE messages SET owner = ? WHERE id = ?", [notify.this_worker(), row.id])
            return [_reception_sms(db, row.visit_id, row.id)]
        return []
    if overdue or orphan:
        _fail(db, row, TIMED_OUT if overdue else WORKER_STOPPED)
        return _escalate(db, row.visit_id) if row.recipient == "host" else []
    return _escalate(db, row.visit_id)  # a host SMS past the backstop time, its worker alive but silent


def _fail(db: Database, row: InFlight, reason: str) -> None:
    logger.warning("Message %s of visit %s settled as failed: %s", row.id, row.visit_id, reason)
    if db.execute("UPDATE messages SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status = ?",
                  [FAILED, reason, store.timestamp(), row.id, SENDING]).rowcount:
        metrics.sms_settled(row.recipient, FAILED)


def _escalate(db: Database, visit_id: str) -> list[OutgoingSms]:
    """Tell reception about a visit whose host was not reached, once per visit; or alert the admins."""
    if db.execute("SELECT 1 FROM messages WHERE visit_id = ? AND recipient = 'reception'", [visit_id]).fetchone():
        return []
    created_at = store.query_value(db, "SELECT created_at FROM visits WHERE id = ?", [visit_id])
    if reception_phone() is None or created_at <= store.timestamp(store.now() - FALLBACK_WINDOW):
        _alert(db, visit_id)
        return []
    message_id = notify.create_message(db, visit_id, "reception")
    logger.warning("Host of visit %s not reached; telling reception", visit_id)
    metrics.escalated("sweeper")
    return [_reception_sms(db, visit_id, message_id)]


def _reception_sms(db: Database, visit_id: str, message_id: int) -> OutgoingSms:
    with force_locale(i18n.default_locale()):
        body = unannounced_text(db, *visit_facts(db, visit_id))
    reception = reception_phone()
    assert reception is not None  # both callers checked, and setting() keeps its values for the app context
    return OutgoingSms(visit_id, "reception", reception.e164, body, message_id)


def _alert(db: Database, visit_id: str) -> None:
    raise_alert(db, "visitor_unannounced", unannounced_alert(db, *visit_facts(db, visit_id)))


def _tell_reception(message: OutgoingSms) -> None:
    """Send a reception SMS the sweep made; if reception cannot be texted either, the admin area hears of it."""
    notify.send_with_retries(message, on_failure=lambda: notify.write(lambda db: _alert(db, message.visit_id)))


def count_overdue(db: Database) -> int:
    """Messages still in flight past their deadline: more than zero means no sweep has run for a while."""
    return int(store.query_value(db, "SELECT count(*) FROM messages WHERE status = 'sending' AND deadline <= ?",
                                 [store.timestamp()]))


# Each worker sweeps every SWEEP_SECONDS on a thread of its own, started after gunicorn's fork.


def init_app(app: Flask) -> None:
    app.extensions["sweeper"] = {"pid": None, "lock": threading.Lock()}
    if app.config["SWEEP_SECONDS"] > 0:
        # current_app is a LocalProxy, which mypy sees as the Flask it stands for.
        app.before_request(lambda: start(current_app._get_current_object()))  # type: ignore[attr-defined]


def start(app: Flask) -> None:
    """Start this process's sweeper thread, once. gunicorn's post_worker_init hook calls this, so a worker sweeps
    even before its first request; other servers start it with their first request."""
    state = app.extensions["sweeper"]
    with state["lock"]:
        if state["pid"] == os.getpid() or app.config["SWEEP_SECONDS"] <= 0:
            return
        state["pid"] = os.getpid()
    threading.Thread(target=_tick, args=(app,), name="sweeper", daemon=True).start()


def _tick(app: Flask) -> None:
    dispatcher = app.extensions["dispatcher"]
    while not dispatcher.sleep(app.config["SWEEP_SECONDS"]):
        with app.app_context():
            try:
                sweep(store.get_db())
            except Exception:  # the thread must outlive any one bad sweep
                logger.exception("Sweep crashed; the next one tries again")
