"""A host who does not answer reaches reception: a visit whose host has not replied "on my way" by its
`escalate_at` (KIOSK_ESCALATE_MINUTES after check-in) makes reception hear of it, once per visit; a host who answers
that they cannot come does so at once. Without a reception number the admin area's banner says it instead.

Both texts are built from the visit record alone (host, tablet, time): the visitor's name is long gone.
Escalation runs in every worker's sweep (kiosk/messaging/sweeper.py), so it needs no worker that saw the check-in.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlite_utils import Database

from kiosk import db as store
from kiosk import i18n, metrics
from kiosk.admin.audit import raise_alert
from kiosk.hosts.directory import Host
from kiosk.locations import locations
from kiosk.messaging import notify, texts
from kiosk.messaging.delivery import FALLBACK_WINDOW
from kiosk.messaging.notify import OutgoingSms
from kiosk.messaging.texts import visit_facts
from kiosk.settings import reception_phone

logger = logging.getLogger("kiosk.messaging.escalation")

Text = Callable[[Database, Host, int | str | None, str], str]


def escalate_at(created_at: str) -> str | None:
    """When a visit made at `created_at` escalates if its host stays silent; None when escalation is off."""
    minutes = current_app.config["ESCALATE_MINUTES"]
    if minutes <= 0:
        return None
    return store.timestamp(store.parse_timestamp(created_at) + timedelta(minutes=minutes))


def due(db: Database) -> list[str]:
    """Visits whose host has been silent past their escalate_at, within the last FALLBACK_WINDOW."""
    now = store.now()
    return [visit_id for (visit_id,) in db.execute(
        "SELECT id FROM visits WHERE escalate_at > ? AND escalate_at <= ? AND acknowledged_at IS NULL",
        [store.timestamp(now - FALLBACK_WINDOW), store.timestamp(now)])]


def escalate_silent_hosts(db: Database) -> int:
    """Tell reception of every visit due (the sweep calls this); returns how many. Each worker may run it at the same
    moment: the write lock and escalate_at, cleared once handled, let only one of them tell reception."""
    if not due(db):
        return 0
    with store.write_transaction(db):
        messages = []
        for visit_id in due(db):
            with locations.at(locations.of_visit(db, visit_id)):  # its reception, clock and language
                messages.append(tell(db, visit_id, texts.silent_host_text, "host_silent"))
    for message in messages:
        if message is not None:
            send(message, texts.silent_host_text)
    return len(messages)


def tell(db: Database, visit_id: str, text: Text, cause: str) -> OutgoingSms | None:
    """Inside a write transaction: settle the visit's escalation and return reception's SMS to send, or None when
    reception already heard of this visit, or there is no reception number (then the admins are alerted)."""
    db.execute("UPDATE visits SET escalate_at = NULL WHERE id = ?", [visit_id])
    host, kiosk_id, created_at = visit_facts(db, visit_id)
    if host is None or db.execute("SELECT 1 FROM messages WHERE visit_id = ? AND recipient = 'reception'",
                                  [visit_id]).fetchone():
        return None
    reception = reception_phone()
    if reception is None:
        _alert(db, visit_id, text)
        return None
    with force_locale(i18n.default_locale()):
        body = text(db, host, kiosk_id, created_at)
    logger.warning("Host %s of visit %s: telling reception (%s)", host.id, visit_id, cause)
    metrics.escalated(cause)
    return OutgoingSms(visit_id, "reception", reception.e164, body, notify.create_message(db, visit_id, "reception"))


def send(message: OutgoingSms, text: Text) -> None:
    """Send reception's SMS off the caller's thread; if reception cannot be texted, the admin area hears of it."""
    current_app.extensions["dispatcher"].submit(_send, message, text)


def _send(message: OutgoingSms, text: Text) -> None:
    def alert() -> None:
        notify.write(lambda db: _alert(db, message.visit_id, text))

    notify.send_with_retries(message, on_failure=alert)


def _alert(db: Database, visit_id: str, text: Text) -> None:
    host, kiosk_id, created_at = visit_facts(db, visit_id)
    if host is not None:
        raise_alert(db, "host_silent", texts.in_english(text, db, host, kiosk_id, created_at))
