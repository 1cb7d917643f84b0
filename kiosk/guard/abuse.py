"""The abuse guard of the public check-in form (SECURITY.md R4-R8): a page that texts any typed number is an
SMS-pumping target.

Limits are fixed-window counters in the `counters` table, so every gunicorn worker shares them. A visitor number
is never stored: keys hold a 14-bit keyed tag of it that about 1,220 Norwegian mobile numbers share, and a keyed
hash of its prefix (the number minus its last 4 digits: 10,000 numbers); every row expires within 24 h.

With several locations (issue 16), a tablet's hourly limit is its location's (checkins_per_device_per_hour, an
override of CHECKINS_PER_DEVICE_PER_HOUR), and a location may have a visitor SMS budget of its own, counted apart;
the installation's SMS_BUDGET_PER_HOUR / _PER_DAY stay a cap on all locations together, and a visitor SMS needs room
in both. The number and prefix limits stay installation-wide: they protect a number, whichever office it is typed at.
"""

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import phonenumbers
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlite_utils import Database

from kiosk import metrics
from kiosk.admin.audit import raise_alert
from kiosk.db import now, timestamp, write_transaction
from kiosk.devices.pairing import Device
from kiosk.locations import locations
from kiosk.messaging import notify
from kiosk.phone import PhoneNumber
from kiosk.settings import setting

if TYPE_CHECKING:  # kiosk.walkin.checkin imports this module
    from kiosk.walkin.checkin import CheckIn

logger = logging.getLogger("kiosk.guard.abuse")

FORM_SALT = "velkommen-checkin-form"
PREFIX_BLOCKED = "prefix_blocked"
MAX_ROW_LIFE = timedelta(hours=24)
BUDGET_WINDOWS = {"hour": "this hour", "day": "today"}
HELP_MINUTES = 10
# 2**14 = 16,384 tags over 2 * 10**7 Norwegian mobile numbers (8 digits, first 4 or 9): 1,220 numbers per tag.
NUMBER_TAG_BITS = 14


class Refused(Exception):
    """The guard turned a check-in away. `reason` is for the log and the statistics, never for the visitor."""

    def __init__(self, reason: str, status: int = 429) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Window:
    name: str  # the start of the window: 2026-03-02T09 for an hour, 2026-03-02 for a day (UTC)
    expires_at: str


@dataclass(frozen=True)
class Limit:
    key: str
    window: Window
    most: int
    reason: str


@dataclass(frozen=True)
class Budget(Limit):
    """A cap on visitor SMS per hour or day: the installation's (location None), or one location's own."""

    period: str  # "hour" or "day"
    location: locations.Location | None

    def used_up(self) -> str:
        """The admins' alert (admin alerts are in English)."""
        of = f" of {self.location.name}" if self.location else ""
        return (f"The visitor SMS budget{of} for {BUDGET_WINDOWS[self.period]} is used up: visitors get no "
                f"confirmation SMS until it ends. Hosts are still notified.")


def hour_window() -> Window:
    start = now().replace(minute=0, second=0, microsecond=0)
    return Window(start.strftime("%Y-%m-%dT%H"), timestamp(start + timedelta(hours=1)))


def day_window() -> Window:
    start = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(start.date().isoformat(), timestamp(start + timedelta(days=1)))


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of `value`: equal in every worker, and useless for testing guessed values without the secret."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    key = hmac.new(secret, b"abuse-guard", hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def number_tag(e164: str) -> str:
    """A NUMBER_TAG_BITS-bit keyed tag of a phone number: so short that about 1,220 of Norway's 20 million mobile
    numbers share each tag, so even someone holding the database and the key cannot tell which number was counted
    (k-anonymity, issue 9 item 3; the arithmetic is in tests/test_abuse.py and the README)."""
    return f"{int(keyed_hash(e164)[:8], 16) % 2 ** NUMBER_TAG_BITS:04x}"


def prefix_of(e164: str) -> str:
    """The number minus its last 4 digits: pumping rings rent consecutive numbers of one range (R5)."""
    return e164[:-4]


def masked_prefix(e164: str) -> str:
    """+4741234567 -> +47 41**: enough for an admin to recognise the range, not a number."""
    number = phonenumbers.parse(e164)
    return f"+{number.country_code} {str(number.national_number)[:2]}**"


# Form token, nonce and honeypot (R8)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_SALT)


def form_token() -> str:
    """A signed single-use token for one showing of the form, with the time it was shown. A form shown again after a
    mistake gets a new time too: otherwise one wait, then a bad and a good POST in turn, would make every check-in
    after it instant (issue 9, item 5a)."""
    return _serializer().dumps({"nonce": secrets.token_urlsafe(16), "shown_at": time.time()})


def check_form(db: Database, device: Device, token: str | None, honeypot: str | None) -> None:
    """Refuse a bot's submission: a filled honeypot, a bad or reused token, a form sent too fast or too late."""
    if honeypot:
        raise _refuse(db, device, "honeypot", status=400)
    try:
        data = _serializer().loads(token or "")
        nonce, shown_at = str(data["nonce"]), float(data["shown_at"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _refuse(db, device, "bad_token", status=400) from None
    age = time.time() - shown_at
    if age < current_app.config["FORM_MIN_SECONDS"]:
        raise _refuse(db, device, "too_fast", status=400)
    if age > current_app.config["FORM_MAX_SECONDS"]:
        raise _refuse(db, device, "form_expired", status=400)
    if not _use_nonce(db, nonce, shown_at):
        raise _refuse(db, device, "token_reused", status=400)


def _use_nonce(db: Database, nonce: str, shown_at: float) -> bool:
    """True the first time a nonce is used. It is kept until its token is refused for age anyway (and 24 h at most)."""
    too_old = datetime.fromtimestamp(shown_at, UTC) + timedelta(seconds=current_app.config["FORM_MAX_SECONDS"] + 60)
    expires_at = timestamp(min(too_old, now() + MAX_ROW_LIFE))
    with write_transaction(db):
        _delete_expired(db)  # every submission passes here: a cheap, opportunistic purge
        return _mark_once(db, f"nonce:{keyed_hash(nonce)}", Window("-", expires_at))


# Per device, per number and per prefix (R4, R5, R7)


def check_checkin(db: Database, device: Device, checkin: "CheckIn") -> None:
    """Count a valid check-in against the tablet, number and prefix limits, or raise Refused and count only the
    refusal. Number and prefix limits apply when an SMS will go to the typed number: without one (unticked, or a
    country we do not text) the device limit still caps host SMS."""
    with write_transaction(db):
        hour = hour_window()
        reason = _blocked_prefix(db, checkin, hour) or _take(db, _checkin_limits(db, device, checkin, hour))
        if reason is None and checkin.texts_visitor:
            _mark_once(db, _seen_key(checkin.phone.e164), hour)
        if reason == PREFIX_BLOCKED:
            _block_prefix(db, checkin.phone.e164, hour)
        if reason:
            _count_refusal(db, reason)
    if reason:
        raise _refusal(device, reason)


def _checkin_limits(db: Database, device: Device, checkin: "CheckIn", hour: Window) -> list[Limit]:
    limits = [Limit(f"device:{device.id}", hour, setting("CHECKINS_PER_DEVICE_PER_HOUR"), "device_limit")]
    if not checkin.texts_visitor:
        return limits
    number = number_tag(checkin.phone.e164)
    limits += [Limit(f"number-hour:{number}", hour, setting("SMS_PER_NUMBER_PER_HOUR"), "number_hour_limit"),
               Limit(f"number-day:{number}", day_window(), setting("SMS_PER_NUMBER_PER_DAY"), "number_day_limit")]
    # The prefix counts distinct numbers: only a number not seen under it this hour adds one.
    if not _exists(db, _seen_key(checkin.phone.e164), hour):
        prefix = keyed_hash(prefix_of(checkin.phone.e164))
        limits.append(Limit(f"prefix:{prefix}", hour, setting("SMS_PREFIX_NUMBERS_PER_HOUR"), PREFIX_BLOCKED))
    return limits


def _seen_key(e164: str) -> str:
    return f"prefix-seen:{keyed_hash(prefix_of(e164))}:{number_tag(e164)}"


def _blocked_prefix(db: Database, checkin: "CheckIn", hour: Window) -> str | None:
    if checkin.texts_visitor and _exists(db, f"prefix-blocked:{keyed_hash(prefix_of(checkin.phone.e164))}", hour):
        return PREFIX_BLOCKED
    return None


def _block_prefix(db: Database, e164: str, hour: Window) -> None:
    """Block the prefix for the rest of the hour; the first block of an hour raises an alert."""
    if _mark_once(db, f"prefix-blocked:{keyed_hash(prefix_of(e164))}", hour):
        raise_alert(db, PREFIX_BLOCKED, f"Many different numbers starting with {masked_prefix(e164)} were typed "
                                         f"within an hour; SMS to that range are blocked until the hour ends.")


def may_ask_for_help(db: Database, device: Device) -> bool:
    """True at most once per tablet per HELP_MINUTES: a refused visitor brings reception one SMS, and a bot that is
    refused again and again brings no more (issue 8)."""
    key = f"help:{device.id}"
    with write_transaction(db):
        db.execute('DELETE FROM counters WHERE key = ? AND expires_at <= ?', [key, timestamp()])
        return _mark_once(db, key, Window("-", timestamp(now() + timedelta(minutes=HELP_MINUTES))))


# The installation's budget of visitor SMS (R6), and each location's own


def allow_visitor_sms(db: Database, reception: PhoneNumber | None = None) -> bool:
    """Count one visitor SMS against the installation's budget and the current location's own, if it has one. False
    when either is used up: then the first refusal of the window raises an alert naming that budget and texts
    `reception` (a PhoneNumber: the location's), once per window and budget."""
    budgets = _budgets(locations.current())
    with write_transaction(db):
        passed = _take(db, budgets)
        if passed is None:
            return True
        budget = next(budget for budget in budgets if budget.reason == passed)
        first = _mark_once(db, f"budget-used-up-{passed}", budget.window)
        if first:
            raise_alert(db, "sms_budget", budget.used_up())
    if first and reception is not None:
        notify.send_notice(reception.e164, _budget_notice(budget.period), ref=f"budget/{passed}/{budget.window.name}")
    return False


def _budgets(location: locations.Location | None) -> list[Budget]:
    """The installation's budgets (keys budget-hour, budget-day), then the location's own (keys naming it)."""
    windows = {"hour": hour_window(), "day": day_window()}
    budgets = [Budget(f"budget-{period}", window, setting(f"SMS_BUDGET_PER_{period.upper()}"), reason=period,
                      period=period, location=None) for period, window in windows.items()]
    if location is None:
        return budgets
    own = {"hour": location.sms_budget_per_hour, "day": location.sms_budget_per_day}
    for period, window in windows.items():
        if (most := own[period]) is not None:
            reason = f"{period}:location-{location.id}"
            budgets.append(Budget(f"budget-{reason}", window, most, reason=reason, period=period, location=location))
    return budgets


def _budget_notice(window: str) -> str:
    if window == "hour":
        return _("The visitor SMS budget of the kiosk is used up for this hour; hosts are still notified.")
    return _("The visitor SMS budget of the kiosk is used up for today; hosts are still notified.")


# Refusals, alerts and counters


def _refuse(db: Database, device: Device | None, reason: str, status: int = 429) -> Refused:
    """Count and log a refusal; returns the Refused to raise."""
    with write_transaction(db):
        _count_refusal(db, reason)
    return _refusal(device, reason, status)


def _refusal(device: Device | None, reason: str, status: int = 429) -> Refused:
    logger.warning("Check-in refused on device %s: %s", device.id if device else None, reason)
    metrics.refused(reason)
    return Refused(reason, status)


def _count_refusal(db: Database, reason: str) -> None:
    """One more refusal for `reason` this hour, at the location the app works for (the tablet's)."""
    db.execute("INSERT INTO refusals (hour, reason, location_id, count) VALUES (?, ?, ?, 1) "
               "ON CONFLICT (hour, reason, location_id) DO UPDATE SET count = count + 1",
               [hour_window().name, reason, locations.current_id()])


def _take(db: Database, limits: Sequence[Limit]) -> str | None:
    """Add one to every counter, or to none if one would pass its limit: returns that limit's reason, else None.
    A refused attempt so uses up nothing, and the day's count stays the number of SMS really sent."""
    db.execute("SAVEPOINT take")
    for limit in limits:
        if _increment(db, limit.key, limit.window) > limit.most:
            db.execute("ROLLBACK TO take")
            db.execute("RELEASE take")
            return limit.reason
    db.execute("RELEASE take")
    return None


def _increment(db: Database, key: str, window: Window) -> int:
    # Atomic across workers: one statement, run inside write_transaction's BEGIN IMMEDIATE.
    # fetchall() steps the statement to its end, so the insert is complete before the transaction goes on.
    [(count,)] = db.execute(
        'INSERT INTO counters (key, "window", count, expires_at) VALUES (?, ?, 1, ?) '
        'ON CONFLICT (key, "window") DO UPDATE SET count = count + 1 RETURNING count',
        [key, window.name, window.expires_at],
    ).fetchall()
    return int(count)


def _mark_once(db: Database, key: str, window: Window) -> bool:
    """Store a marker; True if it was not there yet."""
    cursor = db.execute('INSERT INTO counters (key, "window", count, expires_at) VALUES (?, ?, 1, ?) '
                        "ON CONFLICT DO NOTHING", [key, window.name, window.expires_at])
    return cursor.rowcount == 1


def _exists(db: Database, key: str, window: Window) -> bool:
    return db.execute('SELECT 1 FROM counters WHERE key = ? AND "window" = ? AND expires_at > ?',
                      [key, window.name, timestamp()]).fetchone() is not None


def _delete_expired(db: Database) -> int:
    return db.execute("DELETE FROM counters WHERE expires_at <= ?", [timestamp()]).rowcount


def purge_expired(db: Database) -> int:
    """Delete expired counters, nonces and markers; returns how many went (for `flask purge`)."""
    with write_transaction(db):
        return _delete_expired(db)
