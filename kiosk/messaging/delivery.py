"""What Twilio tells us after a send: status callbacks move a message's status forward, a host's SMS that never
arrived makes us tell reception, and a message in a final state can be redacted at Twilio.

SECURITY.md R11 (signatures), R13 (replays are harmless), R14 (answer fast, work off the request thread),
R18 (reception fallback) and R19 (Twilio-side copies are minimised).
"""

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlite_utils import Database
from twilio.request_validator import RequestValidator

from kiosk import db as store
from kiosk import metrics
from kiosk.hosts.directory import Host, get_host
from kiosk.locations import locations
from kiosk.messaging import notify
from kiosk.messaging.notify import DELIVERED, FAILED, NOT_DELIVERED, SENDING, SENT, UNDELIVERED, OutgoingSms
from kiosk.settings import reception_phone
from kiosk.sms import SmsSendError

logger = logging.getLogger("kiosk.messaging.delivery")

REQUIRED = ("MessageSid", "MessageStatus")
# Twilio's message statuses onto ours; "read" (WhatsApp) implies delivered, and we never schedule, so a
# "canceled" message was never sent.
STATUSES = {
    "queued": SENDING, "accepted": SENDING, "scheduled": SENDING, "sending": SENDING,
    "sent": SENT, "delivered": DELIVERED, "read": DELIVERED,
    "undelivered": UNDELIVERED, "failed": FAILED, "canceled": FAILED,
}
# A status moves only up this order; the top rank is final (R13).
RANK = {SENDING: 0, SENT: 1, DELIVERED: 2, UNDELIVERED: 2, FAILED: 2}
FINAL_RANK = 2
# Telling reception about a visitor who left long ago helps no one (a visit notice is time-bound, R18).
FALLBACK_WINDOW = timedelta(hours=1)
# Twilio error 20009: the message cannot be changed yet. Try again once, a minute later (R19).
NOT_FINAL_YET = 20009
REDACT_RETRY_SECONDS = 60
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class Message:
    """A `messages` row whose status a callback has just changed."""

    id: int
    visit_id: str
    recipient: str
    status: str
    sid: str


def can_verify() -> bool:
    """Webhooks are answered only when their signature can be checked: both settings are needed."""
    cfg = current_app.config
    return bool(cfg["PUBLIC_URL"] and cfg["TWILIO_AUTH_TOKEN"])


def signed_by_twilio(path: str, params: Mapping[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's for PUBLIC_URL + `path` and these POST params (R11).

    The URL comes from configuration, never from the Host header, which a client or a proxy can set.
    """
    cfg = current_app.config
    url = cfg["PUBLIC_URL"].rstrip("/") + path
    return bool(signature) and RequestValidator(cfg["TWILIO_AUTH_TOKEN"]).validate(url, params, signature)


def missing_fields(form: Mapping[str, str], required: tuple[str, ...] = REQUIRED) -> list[str]:
    """A webhook's required fields that are absent or empty, as messages for its 400 answer."""
    return [f"{name} is required." for name in required if not form.get(name)]


def handle_status_callback(form: Mapping[str, str], idempotency_token: str | None = None) -> None:
    """Apply one signed status callback; the reception SMS and the redaction it may need run on the dispatcher."""
    db = store.get_db()
    with store.write_transaction(db):
        # Without an idempotency token, a status for a SID is news only once.
        if not first_time(db, idempotency_key(f"{form['MessageSid']}:{form['MessageStatus']}", idempotency_token)):
            return
        status = STATUSES.get(form["MessageStatus"])
        message = _advance(db, form["MessageSid"], status, _error_code(form.get("ErrorCode", "")))
        fallback = None
        if message is not None:
            with locations.at(locations.of_visit(db, message.visit_id)):  # its reception and language
                fallback = _reception_fallback(db, message)
    dispatcher = current_app.extensions["dispatcher"]
    if fallback is not None:
        dispatcher.submit(notify.send_with_retries, fallback)
    if message is not None and current_app.config["TWILIO_REDACT"] and RANK[message.status] == FINAL_RANK:
        dispatcher.submit(redact, message.id, message.sid)


def idempotency_key(default: str, idempotency_token: str | None) -> str:
    """What makes a webhook delivery unique: Twilio's retries carry the same idempotency token, else `default`."""
    key = idempotency_token or default
    return key if len(key) <= MAX_KEY_LENGTH else hashlib.sha256(key.encode()).hexdigest()


def first_time(db: Database, key: str) -> bool:
    """Record a webhook delivery's key; False when it was seen before (R13)."""
    cursor = db.execute("INSERT OR IGNORE INTO webhook_events (key, received_at) VALUES (?, ?)",
                        [key, store.timestamp()])
    return cursor.rowcount == 1


def _error_code(raw: str) -> int | None:
    """Twilio's ErrorCode as an int; anything else (absent, 0, not a number) as None."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        return None
    return int(raw) or None


def _advance(db: Database, sid: str, status: str | None, error_code: int | None) -> Message | None:
    """Move the message with this SID forward to `status`; returns it if it changed, else None."""
    row = store.query_one(db, "SELECT id, visit_id, recipient, status FROM messages WHERE sid = ?", [sid])
    # A status we do not know counts as final: never overwrite what we cannot place.
    if row is None or status is None or RANK[status] <= RANK.get(row["status"], FINAL_RANK):
        return None
    db.execute("UPDATE messages SET status = ?, error_code = coalesce(?, error_code), updated_at = ? WHERE id = ?",
               [status, error_code, store.timestamp(), row["id"]])
    logger.info("Message %s of visit %s is now %s (error code %s)", row["id"], row["visit_id"], status, error_code)
    if RANK[status] == FINAL_RANK:  # Twilio accepted it, so its "failed" too means it never reached the phone
        metrics.sms_settled(row["recipient"], DELIVERED if status == DELIVERED else UNDELIVERED)
    return Message(row["id"], row["visit_id"], row["recipient"], status, sid)


def _reception_fallback(db: Database, message: Message) -> OutgoingSms | None:
    """The host's SMS was accepted but never arrived: a reception SMS to send, once per visit, or None.

    The visitor's name is gone by now (nothing is kept), so this text names only the host.
    """
    if message.recipient != "host" or message.status not in NOT_DELIVERED:
        return None
    host, reception = _recent_host(db, message.visit_id), reception_phone()
    if host is None or reception is None or _reception_told(db, message.visit_id):
        return None
    body = _("A visitor at reception for %(host)s could not be announced: the SMS to %(first_name)s was not "
             "delivered. Please help them.", host=host.name, first_name=host.first_name)
    message_id = notify.create_message(db, message.visit_id, "reception")
    logger.warning("Host SMS for visit %s was not delivered; telling reception", message.visit_id)
    metrics.escalated("host_undelivered")
    return OutgoingSms(message.visit_id, "reception", reception.e164, body, message_id)


def _recent_host(db: Database, visit_id: str) -> Host | None:
    """The host of a visit made within FALLBACK_WINDOW; None for an older visit or one for reception."""
    host_id = store.query_value(db, "SELECT host_id FROM visits WHERE id = ? AND created_at > ?",
                                [visit_id, store.timestamp(store.now() - FALLBACK_WINDOW)])
    return get_host(db, host_id, active_only=False) if host_id is not None else None


def _reception_told(db: Database, visit_id: str) -> bool:
    return db.execute("SELECT 1 FROM messages WHERE visit_id = ? AND recipient = 'reception'",
                      [visit_id]).fetchone() is not None


def redact(message_id: int, sid: str, retry: bool = True) -> None:
    """Blank the message's body at Twilio and note when (R19); runs on the dispatcher, never in a request."""
    try:
        current_app.extensions["sms"].redact(sid)
    except SmsSendError as e:
        if retry and (e.code == NOT_FINAL_YET or e.transient):
            current_app.extensions["dispatcher"].sleep(REDACT_RETRY_SECONDS)
            redact(message_id, sid, retry=False)
        else:
            logger.error("Message %s stays unredacted at Twilio: code=%s status=%s", sid, e.code, e.status)
        return
    store.get_db().table("messages").update(message_id, {"redacted_at": store.timestamp()})
