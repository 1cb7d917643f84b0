"""Check-in on the visitor's own phone: the tablet's QR code, and the pass it gives a phone.

The welcome screen of a paired tablet shows a QR code of KIOSK_PUBLIC_URL + /p/<token>. The token is signed (the
app's secret key), names its tablet and the tablet's `phone_generation`, and is valid for QR_SECONDS. Opening it
gives the phone a pass in its session cookie: that tablet, that generation, and when. A check-in from a phone
moves the tablet's generation on (atomically, so two phones with the same code cannot both check in), which uses
up the code it came from and every pass made from it. The phone's check-in is the tablet's in every other way:
its id on the visit, its limits and the abuse guard.

Nothing about the visitor is in a token, a pass or a URL.
"""

import io
import time
from dataclasses import dataclass

import segno
from flask import current_app, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlite_utils import Database

from kiosk.db import query_value
from kiosk.devices.pairing import Device, get_device
from kiosk.locations import locations

QR_SECONDS = 120  # a code is valid this long after it was made
QR_REFRESH_SECONDS = 60  # the tablet shows a new code this often
PASS_KEY = "phone"  # noqa: S105 (a session key: the pass a valid code gave this phone)
VISIT_KEY = "phone_visit"  # session key: the visit this phone checked in, for its status page


class NoPass(Exception):
    """The phone has no valid pass: no code, an expired or used code, or its tablet was unpaired."""


@dataclass(frozen=True)
class Pass:
    device: Device
    generation: int


def shown() -> bool:
    """Whether tablets show the QR code: only where the phone can reach the kiosk over https."""
    return str(current_app.config["PUBLIC_URL"] or "").startswith("https://")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="phone-checkin")


def generation(db: Database, device_id: int) -> int:
    return int(query_value(db, "SELECT phone_generation FROM devices WHERE id = ?", [device_id]) or 0)


def make_token(db: Database, device: Device) -> str:
    return _serializer().dumps([device.id, generation(db, device.id)])


def qr_url(db: Database, device: Device) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/p/{make_token(db, device)}"


def qr_svg(url: str, title: str) -> bytes:
    """The QR code of `url` as SVG: one path, no script, no style attribute."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=4, xmldecl=False, title=title)
    return buffer.getvalue()


def open_code(db: Database, token: str) -> None:
    """Give this phone a pass from a code it scanned; raises NoPass for a bad, expired or used one."""
    try:
        device_id, made_for = _serializer().loads(token, max_age=QR_SECONDS)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        raise NoPass from None
    _current(db, device_id, made_for)
    session[PASS_KEY] = [device_id, made_for, time.time()]
    session.pop(VISIT_KEY, None)


def current_pass(db: Database) -> Pass:
    """This phone's pass, if still good: opened within FORM_MAX_SECONDS, its code not used up, its tablet paired."""
    try:
        device_id, made_for, opened_at = session[PASS_KEY]
    except (KeyError, TypeError, ValueError):
        raise NoPass from None
    if time.time() - float(opened_at) > current_app.config["FORM_MAX_SECONDS"]:
        raise NoPass
    return Pass(_current(db, device_id, made_for), made_for)


def _current(db: Database, device_id: int, made_for: int) -> Device:
    device = get_device(db, device_id)
    if device is None or device.revoked_at is not None or generation(db, device_id) != made_for:
        raise NoPass
    locations.enter(locations.get_location(db, device.location_id))  # the phone follows its tablet's location
    return device


def use_up(db: Database, phone_pass: Pass) -> bool:
    """Move the tablet's generation on from this pass's; False when another phone did first (its code is used)."""
    return db.execute("UPDATE devices SET phone_generation = phone_generation + 1 WHERE id = ? "
                      "AND phone_generation = ?", [phone_pass.device.id, phone_pass.generation]).rowcount == 1


def end_pass(visit_id: str, device_id: int) -> None:
    """After the check-in: the pass is spent, and the phone may follow this visit's status."""
    session.pop(PASS_KEY, None)
    session[VISIT_KEY] = [visit_id, device_id]


def visit_device(visit_id: str) -> int | None:
    """The tablet of the visit this phone checked in, if `visit_id` is that visit."""
    try:
        checked_in, device_id = session[VISIT_KEY]
    except (KeyError, TypeError, ValueError):
        return None
    return int(device_id) if checked_in == visit_id else None
