"""A host's reply to the arrival SMS, from Twilio's signed inbound webhook: it marks the host's latest visit
that asked for a reply as acknowledged, with the minutes the reply gave, so the tablet can say the host is coming.

Only `acknowledged_at` and the minutes are kept, on the visit; never the reply's text or the number it came from
(SECURITY.md R15, R31). Replies from numbers that are no host's, outside any visit's window, or that are Twilio's
keywords are ignored and counted per hour (`reply_counts`), as is every other outcome, for the statistics.
"""

import logging
from collections.abc import Mapping
from datetime import timedelta

from flask import current_app
from sqlite_utils import Database

from kiosk import db as store
from kiosk import metrics
from kiosk.locations import locations
from kiosk.messaging import escalation, replies, texts
from kiosk.messaging.delivery import can_verify, first_time, idempotency_key

logger = logging.getLogger("kiosk.messaging.inbound")

ACKNOWLEDGED, DECLINED, NOT_A_HOST, NO_VISIT, KEYWORD, DUPLICATE = (
    "acknowledged", "declined", "not_a_host", "no_visit", "keyword", "duplicate")
OUTCOMES = (ACKNOWLEDGED, DECLINED, NOT_A_HOST, NO_VISIT, KEYWORD)
REQUIRED = ("MessageSid", "From")


def replies_enabled() -> bool:
    """Whether a host's reply can reach us: Twilio's webhooks are verifiable (KIOSK_PUBLIC_URL and the auth token)
    and the sender is a number, since an alphanumeric sender id (TWILIO_FROM=Velkommen) cannot be answered."""
    return why_replies_are_off() is None


def why_replies_are_off() -> str | None:
    """None when replies work, else which setting keeps them off: for the admin area's settings page."""
    cfg = current_app.config
    if not can_verify():
        return "KIOSK_PUBLIC_URL" if not cfg["PUBLIC_URL"] else "TWILIO_AUTH_TOKEN"
    sender = cfg["TWILIO_FROM"]
    if sender and not sender.lstrip("+").isdigit():
        return "TWILIO_FROM"
    return None


def handle_reply(form: Mapping[str, str]) -> str:
    """Apply one signed inbound SMS; returns its outcome (one of OUTCOMES, or DUPLICATE for a retry).

    A reply is known by its MessageSid, which the signature covers, and not by Twilio's idempotency header, which
    it does not: a replayed reply with a new header must not acknowledge the host's next visit (R13)."""
    db = store.get_db()
    message = None
    with store.write_transaction(db):
        if not first_time(db, idempotency_key(f"inbound:{form['MessageSid']}", None)):
            return DUPLICATE
        outcome, visit_id = _apply(db, form)
        if outcome == DECLINED and visit_id is not None:
            with locations.at(locations.of_visit(db, visit_id)):
                message = escalation.tell(db, visit_id, texts.declined_text, "host_declined")
        count(db, outcome, visit_id)
    if message is not None:
        escalation.send(message, texts.declined_text)
    metrics.replied(outcome)
    return outcome


def _apply(db: Database, form: Mapping[str, str]) -> tuple[str, str | None]:
    reply = replies.understand(form.get("Body", ""), form.get("OptOutType"))
    if reply.kind == replies.KEYWORD:
        return KEYWORD, None
    host_id = store.query_value(db, "SELECT id FROM hosts WHERE phone = ?", [form["From"]])
    if host_id is None:
        return NOT_A_HOST, None
    visit_id = awaiting_reply(db, host_id)
    if visit_id is None:
        logger.info("Reply from host %s matches no visit awaiting one", host_id)
        return NO_VISIT, None
    if reply.kind == replies.DECLINED:
        logger.info("Host %s cannot come to visit %s", host_id, visit_id)
        return DECLINED, visit_id
    db.execute("UPDATE visits SET acknowledged_at = ?, ack_minutes = ? WHERE id = ?",
               [store.timestamp(), reply.minutes, visit_id])
    logger.info("Host %s is on the way to visit %s (minutes: %s)", host_id, visit_id, reply.minutes)
    return ACKNOWLEDGED, visit_id


def awaiting_reply(db: Database, host_id: int) -> str | None:
    """The host's most recent visit within KIOSK_REPLY_WINDOW_MINUTES that asked for a reply and has none."""
    now = store.now()
    since = now - timedelta(minutes=current_app.config["REPLY_WINDOW_MINUTES"])
    return store.query_value(
        db, "SELECT id FROM visits WHERE host_id = ? AND created_at > ? AND reply_asked AND acknowledged_at IS NULL "
            "AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
        [host_id, store.timestamp(since), store.timestamp(now)])


def count(db: Database, outcome: str, visit_id: str | None = None) -> None:
    """One more inbound SMS of this outcome this hour, at the location of the visit it matched (0: none)."""
    db.execute("INSERT INTO reply_counts (hour, outcome, location_id, count) "
               "VALUES (?, ?, coalesce((SELECT location_id FROM visits WHERE id = ?), 0), 1) "
               "ON CONFLICT (hour, outcome, location_id) DO UPDATE SET count = count + 1",
               [store.timestamp()[:13], outcome, visit_id])
