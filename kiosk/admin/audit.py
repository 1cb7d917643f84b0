"""What admins did, and alerts for them: the audit log holds actions and ids, never a name or a number.

A target is built from keyword ids, record(db, "host_edited", admin_id=1, host=12) -> "host:12", and only
integers or upper-case keys are accepted, so a host's name cannot slip in by mistake (docs/architecture.md, data map).
"""

import logging
import re
from dataclasses import dataclass

from flask import g, has_app_context

from kiosk.db import query_value, timestamp
from kiosk.locations import locations

logger = logging.getLogger("kiosk.admin.audit")

LATEST = 200
_KEYS = re.compile(r"[A-Z0-9_,]*")


@dataclass(frozen=True)
class AuditEvent:
    at: str
    username: str | None
    action: str
    target: str | None
    location: str | None = None  # the location's name; None: the installation


@dataclass(frozen=True)
class Alert:
    id: int
    at: str
    kind: str
    message: str


def record(db, action, *, admin_id=None, location_id=None, **ids):
    """Store one admin action; `ids` are integers or upper-case setting keys, such as host=12 or keys="A,B". The
    location is the one the action touched (a tablet's, a school visit's), else a location admin's own."""
    target = " ".join(f"{name}:{_checked(value)}" for name, value in ids.items()) or None
    if location_id is None:
        location_id = _admin_location()
    db["audit_events"].insert({"at": timestamp(), "admin_id": admin_id, "action": action, "target": target,
                               "location_id": location_id})
    logger.info("Admin action %s by admin %s on %s at location %s", action, admin_id, target, location_id)


def _admin_location():
    admin = g.get("admin") if has_app_context() else None
    return admin.location_id if admin is not None else None


def _checked(value):
    if isinstance(value, int) or (isinstance(value, str) and _KEYS.fullmatch(value)):
        return value
    raise ValueError("an audit target holds ids and setting keys only")


def latest(db, limit=LATEST, *, location_id=None):
    """The latest events, newest first: every one, or (for a location admin) those at one location."""
    rows = db.query(
        "SELECT e.at, a.username, e.action, e.target, l.name AS location FROM audit_events e "
        "LEFT JOIN admins a ON a.id = e.admin_id LEFT JOIN locations l ON l.id = e.location_id "
        "WHERE ? IS NULL OR e.location_id = ? ORDER BY e.id DESC LIMIT ?",
        [location_id, location_id, limit],
    )
    return [AuditEvent(**row) for row in rows]


# Alerts: raised by the abuse guard and the SMS dispatch, shown in the admin area's banner, resolved by an admin.


def raise_alert(db, kind, message):
    """Show `message` to the admins until one resolves it: to those of the location the app works for (a tablet's,
    a visit's), or with none, to the installation's. It must hold no visitor's name or number."""
    location = locations.current() if has_app_context() else None
    db.execute("INSERT INTO alerts (at, kind, message, location_id) VALUES (?, ?, ?, ?)",
               [timestamp(), kind, message, location.id if location is not None else None])
    logger.warning("ALERT %s: %s", kind, message)


def open_alerts(db, *, location_id=None):
    """The open alerts, newest first: every one, or (for a location admin) those of one location."""
    rows = db.query("SELECT id, at, kind, message FROM alerts WHERE resolved_at IS NULL "
                    "AND (? IS NULL OR location_id = ?) ORDER BY id DESC", [location_id, location_id])
    return [Alert(**row) for row in rows]


def alert_location(db, alert_id):
    """The location an alert was raised for (None: the installation's, or no such alert)."""
    return query_value(db, "SELECT location_id FROM alerts WHERE id = ?", [alert_id])


def resolve_alert(db, alert_id):
    """Mark an alert resolved; False when there is no such open alert."""
    cursor = db.execute("UPDATE alerts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                        [timestamp(), alert_id])
    return cursor.rowcount == 1
