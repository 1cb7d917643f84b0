"""The walk-in use case: a PII-free visit record, then SMS to the host and (if wanted) the visitor."""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from kiosk import abuse, i18n, notify
from kiosk import db as store
from kiosk.directory import Host, get_host
from kiosk.notify import DELIVERED, FAILED, SENT, UNDELIVERED, OutgoingSms
from kiosk.phone import PhoneNumber
from kiosk.settings import setting

# "sent" counts as final for the status screen: without status callbacks (no KIOSK_PUBLIC_URL) nothing follows it.
# Twilio's callbacks can still move it on to delivered or undelivered, and the screen keeps listening for that.
FINAL = (SENT, DELIVERED, UNDELIVERED, FAILED)
NOT_DELIVERED = (FAILED, UNDELIVERED)


@dataclass(frozen=True)
class CheckIn:
    """What the visitor typed, already validated. Lives in memory only."""

    name: str = field(repr=False)
    phone: PhoneNumber = field(repr=False)
    host: Host | None  # None: the visitor asked for reception
    confirm: bool = True

    @property
    def first_name(self):
        return self.name.split()[0]


@dataclass(frozen=True)
class VisitStatus:
    host_name: str | None
    host: str
    visitor: str | None
    reception: str | None
    awaiting_fallback: bool

    @property
    def ask_desk(self):
        return self.host in NOT_DELIVERED

    @property
    def final(self):
        statuses = [s for s in (self.host, self.visitor, self.reception) if s]
        return all(s in FINAL for s in statuses) and not self.awaiting_fallback

    def as_json(self):
        return {
            "host": self.host, "visitor": self.visitor, "reception": self.reception,
            "ask_desk": self.ask_desk, "final": self.final,
        }


def reception_phone():
    raw = setting("RECEPTION_PHONE")
    return PhoneNumber.parse(raw, region=current_app.config["DEFAULT_REGION"]) if raw else None


def register(db, checkin, *, kiosk_id=None):
    """Record the visit without any personal data and start the SMS; returns the visit id at once."""
    cfg = current_app.config
    visit_id = secrets.token_urlsafe(16)
    created = store.now()
    reception = reception_phone()
    messages = [_host_message(visit_id, checkin, reception)]
    with force_locale(i18n.default_locale()):  # the budget notice it may send goes to reception
        visitor_sms = checkin.confirm and abuse.allow_visitor_sms(db, reception)
    if visitor_sms:
        messages.append(_visitor_message(visit_id, checkin, setting("COMPANY_NAME")))
    with store.write_transaction(db):
        db["visits"].insert({
            "id": visit_id,
            "host_id": checkin.host.id if checkin.host else None,
            "kiosk_id": kiosk_id,
            "created_at": store.timestamp(created),
            "expires_at": store.timestamp(created + timedelta(days=cfg["VISIT_RETENTION_DAYS"])),
        })
        messages = [
            OutgoingSms(visit_id, m.recipient, m.to, m.body, notify.create_message(db, visit_id, m.recipient))
            for m in messages
        ]
        if checkin.confirm and not visitor_sms:
            # Over the kiosk's SMS budget (R6): the status page tells the visitor their confirmation was not sent.
            notify.create_message(db, visit_id, "visitor", status=FAILED)
    fallback = _fallback_message(visit_id, checkin, reception) if checkin.host and reception else None
    notify.dispatch(messages, fallback=fallback)
    return visit_id


def _host_message(visit_id, checkin, reception):
    # Each SMS is in its reader's language: the host's from the directory, reception's the kiosk default.
    if checkin.host:
        with force_locale(i18n.host_locale(checkin.host)):
            body = _("%(visitor)s has arrived at reception and is waiting for you.", visitor=checkin.name)
        return OutgoingSms(visit_id, "host", checkin.host.phone, body)
    with force_locale(i18n.default_locale()):
        body = _("%(visitor)s is at reception and does not know whom to ask for. Please help them.",
                 visitor=checkin.name)
    return OutgoingSms(visit_id, "host", reception.e164, body)


def _visitor_message(visit_id, checkin, company):
    # Built in the check-in request, so in the language the visitor chose on the kiosk.
    if checkin.host:
        body = _("Welcome to %(company)s, %(first_name)s. %(host)s has been told you are here.",
                 company=company, first_name=checkin.first_name, host=checkin.host.name)
    else:
        body = _("Welcome to %(company)s, %(first_name)s. Reception has been told you are here.",
                 company=company, first_name=checkin.first_name)
    return OutgoingSms(visit_id, "visitor", checkin.phone.e164, body)


def _fallback_message(visit_id, checkin, reception):
    with force_locale(i18n.default_locale()):
        body = _("%(visitor)s is at reception to see %(host)s, who could not be reached by SMS. Please help them.",
                 visitor=checkin.name, host=checkin.host.name)
    return OutgoingSms(visit_id, "reception", reception.e164, body)


def get_visit_status(db, visit_id, *, kiosk_id):
    """The SMS status of a visit made on this kiosk that has not expired, or None."""
    visit = db.execute(
        "SELECT host_id FROM visits WHERE id = ? AND kiosk_id IS ? AND expires_at > ?",
        [visit_id, kiosk_id, store.timestamp()],
    ).fetchone()
    if visit is None:
        return None
    statuses = dict(db.execute("SELECT recipient, status FROM messages WHERE visit_id = ?", [visit_id]).fetchall())
    host = get_host(db, visit[0], active_only=False) if visit[0] is not None else None
    return VisitStatus(
        host_name=host.name if host else None,
        host=statuses.get("host", FAILED),
        visitor=statuses.get("visitor"),
        reception=statuses.get("reception"),
        awaiting_fallback=(
            statuses.get("host") == FAILED and host is not None
            and bool(setting("RECEPTION_PHONE")) and "reception" not in statuses
        ),
    )


def purge_expired(db):
    """Delete visit records past their retention; returns how many went."""
    now = store.timestamp()
    with store.write_transaction(db):
        db.execute("DELETE FROM messages WHERE visit_id IN (SELECT id FROM visits WHERE expires_at <= ?)", [now])
        return db.execute("DELETE FROM visits WHERE expires_at <= ?", [now]).rowcount
