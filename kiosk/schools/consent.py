"""The apprenticeship consent ledger: a pupil's name, e-mail and school, kept 12 months or until withdrawn.

A consent is given on the kiosk after a school visit; it is withdrawn, and deleted at once, through a signed link
or by an admin. Exports are CSV that opens safely in a spreadsheet (R28).
"""

import secrets
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from kiosk import db as store
from kiosk.db import query_one, timestamp, wipe_wal
from kiosk.locations import locations
from kiosk.spreadsheet import FORMULA_TRIGGERS, write_csv
from kiosk.text import is_email

PURPOSE = "apprenticeship information"
KEEP_MONTHS = 12
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 200
CONSENT_TEXT = _l(
    "%(company)s may keep your name, e-mail address and school for 12 months to tell you about apprenticeships. "
    "We use them for nothing else and share them with no one. You can withdraw your consent at any time, and we "
    "then delete them at once. If you are under 13, ask a parent first."
)
EXPORT_COLUMNS = ("school", "name", "email", "purpose", "policy_version", "given_at", "expires_at", "withdraw_link")


class ConsentError(ValueError):
    """What was typed cannot be kept; str(error) says why."""


@dataclass(frozen=True)
class Consent:
    id: int
    school: str
    name: str = field(repr=False)
    email: str = field(repr=False)
    purpose: str = PURPOSE
    policy_version: str = ""
    given_at: str = ""
    expires_at: str = ""
    key: str = field(default="", repr=False)


def check_name(text):
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    if not text or len(text) > NAME_MAX_LENGTH or any(unicodedata.category(c).startswith("C") for c in text):
        raise ConsentError("name")
    return text


def check_email(text):
    text = (text or "").strip()
    if len(text) > EMAIL_MAX_LENGTH or not is_email(text) or text.startswith(FORMULA_TRIGGERS):
        raise ConsentError("email")
    return text


def expiry(moment):
    """12 calendar months later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + KEEP_MONTHS // 12)
    except ValueError:
        return moment.replace(year=moment.year + KEEP_MONTHS // 12, day=28)


def give(db, *, name, email, school, policy_version):
    """Record one consent; returns its id."""
    moment = store.now()
    return db["consents"].insert({
        "key": secrets.token_urlsafe(16), "name": check_name(name), "email": check_email(email), "school": school,
        "purpose": PURPOSE, "policy_version": str(policy_version), "given_at": timestamp(moment),
        "expires_at": timestamp(expiry(moment)), "location_id": locations.current_id(),
    }).last_pk


_COLUMNS = "id, school, name, email, purpose, policy_version, given_at, expires_at, key"


def list_consents(db, *, location_id=None):
    """Every consent that has not expired (given at one location, for its admin), by school, then name."""
    rows = db.query(f"SELECT {_COLUMNS} FROM consents WHERE expires_at > ? "  # noqa: S608
                    "AND (? IS NULL OR location_id = ?) ORDER BY school, name", [timestamp(), location_id, location_id])
    return [Consent(**row) for row in rows]


def location_of(db, consent_id):
    """The location a consent was given at (its school visit's), or None for no such consent."""
    return store.query_value(db, "SELECT location_id FROM consents WHERE id = ?", [consent_id])


def withdraw(db, consent_id):
    """Delete a consent at once; True if there was one."""
    deleted = db.execute("DELETE FROM consents WHERE id = ?", [consent_id]).rowcount > 0
    wipe_wal(db)
    return deleted


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="consent-withdraw")


def withdraw_token(consent):
    return _serializer().dumps([consent.id, consent.key])


def consent_for_token(db, token):
    """The unexpired consent a withdrawal link names, or None for a bad, stale or forged link."""
    try:
        consent_id, key = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    row = query_one(db, f"SELECT {_COLUMNS} FROM consents WHERE id = ? AND key = ? AND expires_at > ?",  # noqa: S608
                    [consent_id, key, timestamp()])
    return Consent(**row) if row else None


def export_consents(db, stream, link_for, *, location_id=None):
    """Write every unexpired consent (of one location) as safe CSV (R28); `link_for(consent)` gives its withdrawal
    link."""
    consents = list_consents(db, location_id=location_id)
    rows = ([c.school, c.name, c.email, c.purpose, c.policy_version, c.given_at, c.expires_at, link_for(c)]
            for c in consents)
    write_csv(rows, EXPORT_COLUMNS, stream)
    return len(consents)


def purge_expired(db):
    """Delete consents 12 months after they were given; returns how many went."""
    deleted = db.execute("DELETE FROM consents WHERE expires_at <= ?", [timestamp()]).rowcount
    wipe_wal(db)
    return deleted
