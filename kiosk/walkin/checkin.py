"""The walk-in use case: a PII-free visit record, then SMS to the host and (if wanted) the visitor."""

import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlite_utils import Database

from kiosk import db as store
from kiosk import i18n, metrics
from kiosk.devices.pairing import Device
from kiosk.guard import abuse
from kiosk.hosts.directory import Host, get_host
from kiosk.locations import locations
from kiosk.messaging import escalation, inbound, notify, texts
from kiosk.messaging.notify import DELIVERED, FAILED, NOT_DELIVERED, SENDING, SENT, UNDELIVERED, OutgoingSms
from kiosk.phone import PhoneNumber
from kiosk.settings import reception_phone, setting
from kiosk.walkin import board

# "sent" counts as final for the status screen: without status callbacks (no KIOSK_PUBLIC_URL) nothing follows it.
# Twilio's callbacks can still move it on to delivered or undelivered, and the screen keeps listening for that.
FINAL = (SENT, DELIVERED, UNDELIVERED, FAILED)


@dataclass(frozen=True)
class CheckIn:
    """What the visitor typed, already validated. Lives in memory only."""

    name: str = field(repr=False)
    phone: PhoneNumber = field(repr=False)
    host: Host | None  # None: the visitor asked for reception
    confirm: bool = True
    # Any mobile may check in; ALLOWED_COUNTRIES only limits where a confirmation may go (R1).
    country_allowed: bool = True

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def texts_visitor(self) -> bool:
        """Whether an SMS will be sent to the number typed (so the abuse guard counts it)."""
        return self.confirm and self.country_allowed


@dataclass(frozen=True)
class VisitStatus:
    host_name: str | None
    host: str
    visitor: str | None
    reception: str | None
    awaiting_fallback: bool
    host_slow: bool = False  # the host's SMS was not accepted within HOST_ESCALATE_SECONDS
    reasons: dict[str, str] = field(default_factory=dict)  # recipient -> why it failed (notify's reason words)
    coming: bool = False  # the host replied that they are on the way
    coming_minutes: int | None = None  # in about so many minutes, if the reply said

    @property
    def ask_desk(self) -> bool:
        return self.reason is not None

    @property
    def reason(self) -> str | None:
        """Why the visitor is sent to the desk, for the status screen: None, host_failed or host_slow. A host who
        answered is coming, whatever the status of the SMS they answered."""
        if self.coming:
            return None
        if self.host in NOT_DELIVERED:
            return "host_failed"
        return "host_slow" if self.host_slow else None

    @property
    def coming_text(self) -> str | None:
        """"Kari Nordmann is on the way (about 5 minutes).", in the tablet's language, once the host replied."""
        return board.coming_text(self.host_name, self.coming_minutes) if self.coming and self.host_name else None

    @property
    def final(self) -> bool:
        statuses = [s for s in (self.host, self.visitor, self.reception) if s]
        return all(s in FINAL for s in statuses) and not self.awaiting_fallback

    def as_json(self) -> dict[str, str | bool | None]:
        return {
            "host": self.host, "visitor": self.visitor, "reception": self.reception,
            "ask_desk": self.ask_desk, "reason": self.reason, "visitor_reason": self.reasons.get("visitor"),
            "final": self.final, "coming": self.coming_text,
        }


def register(db: Database, checkin: CheckIn, *, kiosk_id: int | None = None) -> str:
    """Record the visit without any personal data and start the SMS; returns the visit id at once."""
    visit_id = secrets.token_urlsafe(16)
    reception = reception_phone()
    host_message = _host_message(visit_id, checkin, reception, place=sms_place(db))
    with force_locale(i18n.default_locale()):  # the budget notice it may send goes to reception
        visitor_sms = checkin.texts_visitor and abuse.allow_visitor_sms(db, reception)
    with store.write_transaction(db):
        created_at = create_visit(db, visit_id, checkin.host.id if checkin.host else None, kiosk_id,
                                  reply_asked=asks_reply(checkin))
        host_message = replace(host_message, message_id=notify.create_message(db, visit_id, "host"))
        confirmation = None
        if visitor_sms:
            confirmation = _confirmation(db, visit_id, checkin)
        elif checkin.confirm:
            # The status page tells the visitor why no confirmation comes: their country (R1) or the budget (R6).
            notify.create_message(db, visit_id, "visitor", status=FAILED,
                                  reason=notify.BUDGET if checkin.country_allowed else notify.COUNTRY_NOT_ALLOWED)
    escalation = fallback = None
    if checkin.host and reception:
        escalation, fallback = texts.reception_messages(visit_id, checkin.name, checkin.host, reception)
    notify.announce(notify.Announcement(host_message, confirmation, escalation, fallback,
                                        alert=partial(texts.unannounced_alert, host=checkin.host, kiosk_id=kiosk_id,
                                                      created_at=created_at)))
    metrics.checked_in("walk-in")
    return visit_id


def create_visit(db: Database, visit_id: str, host_id: int | None, kiosk_id: int | None, *,
                 reply_asked: bool = False) -> str:
    """The PII-free visit record (walk-in or school group); returns its creation time as stored. A visit whose host
    SMS asks for a reply escalates to reception if none comes (kiosk/messaging/escalation.py)."""
    created = store.now()
    created_at = store.timestamp(created)
    db.table("visits").insert({
        "id": visit_id, "host_id": host_id, "kiosk_id": kiosk_id, "created_at": created_at,
        "expires_at": store.timestamp(created + timedelta(days=current_app.config["VISIT_RETENTION_DAYS"])),
        "reply_asked": int(reply_asked), "escalate_at": escalation.escalate_at(created_at) if reply_asked else None,
        "location_id": locations.current_id(),
    })
    return created_at


def asks_reply(checkin: CheckIn) -> bool:
    """Whether the host's SMS asks the host to reply: only a host's, and only while replies can reach us."""
    return checkin.host is not None and inbound.replies_enabled()


def sms_place(db: Database) -> str | None:
    """The location a host's SMS names: the tablet's, when the installation has more than one (issue 16)."""
    location = locations.current()
    return location.name if location is not None and locations.several(db) else None


def _host_message(visit_id: str, checkin: CheckIn, reception: PhoneNumber | None, *,
                  place: str | None = None) -> OutgoingSms:
    # Each SMS is in its reader's language: the host's from the directory, reception's the kiosk default.
    if checkin.host:
        with force_locale(i18n.host_locale(checkin.host)):
            if place:
                body = _("%(visitor)s is waiting for you at reception in %(location)s.", visitor=checkin.name,
                         location=place)
            else:
                body = _("%(visitor)s has arrived at reception and is waiting for you.", visitor=checkin.name)
            if asks_reply(checkin):
                body += " " + _("Reply OK when you are on your way, or a number of minutes.")
        return OutgoingSms(visit_id, "host", checkin.host.phone, body)
    with force_locale(i18n.default_locale()):
        body = _("%(visitor)s is at reception and does not know whom to ask for. Please help them.",
                 visitor=checkin.name)
    assert reception is not None  # CheckinForm offers reception only while RECEPTION_PHONE is set
    return OutgoingSms(visit_id, "host", reception.e164, body)


def _confirmation(db: Database, visit_id: str, checkin: CheckIn) -> notify.Confirmation:
    """The visitor's SMS in both wordings, built in the check-in request, so in the language chosen on the kiosk."""
    company = setting("COMPANY_NAME")
    reception_told = _("Welcome to %(company)s, %(first_name)s. Reception has been told you are here.",
                       company=company, first_name=checkin.first_name)
    host_told = reception_told
    if checkin.host:
        host_told = _("Welcome to %(company)s, %(first_name)s. %(host)s has been told you are here.",
                      company=company, first_name=checkin.first_name, host=checkin.host.name)
    return notify.create_confirmation(db, visit_id, checkin.phone.e164, host_told=host_told,
                                      reception_told=reception_told)


def ask_for_help(db: Database, device: Device, host_id: str | None = None) -> bool:
    """A refused check-in (the abuse guard) still brings a person: reception, or else the host picked, gets one SMS
    naming the tablet and the time, at most once per tablet per HELP_EVERY. Nothing goes to the number typed.
    Returns True when someone has been told (now or a few minutes ago)."""
    reception = reception_phone()
    host = get_host(db, int(host_id)) if reception is None and host_id and host_id.isdigit() else None
    to = reception.e164 if reception else host.phone if host else None
    if to is None:
        return False
    if abuse.may_ask_for_help(db, device):
        with force_locale(i18n.default_locale() if reception else i18n.host_locale(host)):
            body = _("Someone at %(tablet)s asked for help at %(time)s.", tablet=device.name,
                     time=store.clock_time(store.timestamp()))
        notify.send_notice(to, body, ref=f"help/{device.id}")
    return True


def get_visit_status(db: Database, visit_id: str, *, kiosk_id: int) -> VisitStatus | None:
    """The SMS status of a visit made on this kiosk that has not expired, or None."""
    visit = db.execute(
        "SELECT host_id, created_at, acknowledged_at, ack_minutes FROM visits "
        "WHERE id = ? AND kiosk_id IS ? AND expires_at > ?",
        [visit_id, kiosk_id, store.timestamp()],
    ).fetchone()
    if visit is None:
        return None
    host_id, created_at, acknowledged_at, ack_minutes = visit
    rows = db.execute("SELECT recipient, status, reason FROM messages WHERE visit_id = ?", [visit_id]).fetchall()
    statuses = {recipient: status for recipient, status, _reason in rows}
    host = get_host(db, host_id, active_only=False) if host_id is not None else None
    escalate_at = store.parse_timestamp(created_at) + timedelta(seconds=current_app.config["HOST_ESCALATE_SECONDS"])
    return VisitStatus(
        host_name=host.name if host else None,
        host=statuses.get("host", FAILED),
        visitor=statuses.get("visitor"),
        reception=statuses.get("reception"),
        awaiting_fallback=(
            statuses.get("host") == FAILED and host is not None
            and bool(setting("RECEPTION_PHONE")) and "reception" not in statuses
        ),
        host_slow=statuses.get("host") == SENDING and store.now() >= escalate_at,
        reasons={recipient: reason for recipient, _status, reason in rows if reason},
        coming=acknowledged_at is not None,
        coming_minutes=ack_minutes,
    )


def purge_expired(db: Database) -> int:
    """Delete visit records past their retention; returns how many went."""
    now = store.timestamp()
    with store.write_transaction(db):
        db.execute("DELETE FROM messages WHERE visit_id IN (SELECT id FROM visits WHERE expires_at <= ?)", [now])
        return db.execute("DELETE FROM visits WHERE expires_at <= ?", [now]).rowcount
