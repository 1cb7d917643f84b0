"""Kiosk tablets: one-time pairing codes, and the long-lived device credential a paired tablet holds.

Only SHA-256 hashes of codes and credentials are stored; the credential lives in an HttpOnly cookie.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from kiosk.db import now, query_one, query_value, timestamp, write_transaction
from kiosk.locations.locations import DEFAULT_ID

# No 0/O, 1/I/L: a code is read off one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
LAST_SEEN_EVERY = timedelta(minutes=1)


class PairingError(Exception):
    """The pairing code is unknown, used or expired."""


@dataclass(frozen=True)
class PairingCode:
    code: str
    name: str
    expires_at: str


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None
    location_id: int


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(typed):
    return "".join(c for c in (typed or "").upper() if c in CODE_ALPHABET)


def format_code(code):
    return f"{code[:4]}-{code[4:]}"


def create_pairing_code(db, name, *, location_id=DEFAULT_ID):
    """A code valid for PAIRING_CODE_MINUTES that pairs one tablet under `name`, at location `location_id`."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    created = now()
    expires_at = timestamp(created + timedelta(minutes=current_app.config["PAIRING_CODE_MINUTES"]))
    db["pairing_codes"].insert({"code_hash": _hash(code), "name": name.strip(), "created_at": timestamp(created),
                                "expires_at": expires_at, "location_id": location_id})
    return PairingCode(format_code(code), name.strip(), expires_at)


def pairing_code_name(db, typed):
    """The tablet name a valid code would pair, or None."""
    return query_value(db, "SELECT name FROM pairing_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                       [_hash(normalise_code(typed)), timestamp()])


def pair(db, typed):
    """Use a pairing code once; returns the new Device and its credential (shown to nobody, set as a cookie)."""
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        code_hash = _hash(normalise_code(typed))
        code = query_one(db, "SELECT name, location_id FROM pairing_codes WHERE code_hash = ? AND used_at IS NULL "
                             "AND expires_at > ?", [code_hash, timestamp()])
        if code is None:
            raise PairingError(typed)
        db.execute("UPDATE pairing_codes SET used_at = ? WHERE code_hash = ?", [timestamp(), code_hash])
        device_id = db["devices"].insert({"name": code["name"], "location_id": code["location_id"],
                                          "token_hash": _hash(token), "created_at": timestamp()}).last_pk
    return get_device(db, device_id), token


_COLUMNS = "id, name, created_at, last_seen_at, revoked_at, location_id"


def device_for_token(db, token):
    """The paired, unrevoked device holding this credential, or None; notes when it was last seen."""
    if not token:
        return None
    row = query_one(db, f"SELECT {_COLUMNS} FROM devices WHERE token_hash = ? AND revoked_at IS NULL",  # noqa: S608
                    [_hash(token)])
    if row is None:
        return None
    device = Device(**row)
    if device.last_seen_at is None or device.last_seen_at < timestamp(now() - LAST_SEEN_EVERY):
        db.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?", [timestamp(), device.id])
    return device


def get_device(db, device_id):
    row = query_one(db, f"SELECT {_COLUMNS} FROM devices WHERE id = ?", [device_id])  # noqa: S608
    return Device(**row) if row else None


def list_devices(db, *, location_id=None):
    """Every tablet, or those of one location; revoked ones last."""
    rows = db.query(f"SELECT {_COLUMNS} FROM devices WHERE ? IS NULL OR location_id = ? "  # noqa: S608
                    "ORDER BY revoked_at IS NOT NULL, name", [location_id, location_id])
    return [Device(**row) for row in rows]


def count_by_location(db):
    """The number of unrevoked tablets at each location that has any: {location id: count}."""
    rows = db.query("SELECT location_id, count(*) AS tablets FROM devices WHERE revoked_at IS NULL "
                    "GROUP BY location_id")
    return {row["location_id"]: row["tablets"] for row in rows}


def rename_device(db, device_id, name):
    db.execute("UPDATE devices SET name = ? WHERE id = ?", [name.strip(), device_id])


def revoke_device(db, device_id):
    db.execute("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [timestamp(), device_id])


def purge_expired_codes(db):
    return db.execute("DELETE FROM pairing_codes WHERE expires_at <= ? OR used_at IS NOT NULL",
                      [timestamp()]).rowcount
