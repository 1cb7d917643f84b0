"""Admin accounts: Argon2id password hashes (R29), per-account lockout (R30) and server-side sessions (R22).

The browser's session cookie holds a random token; the database holds only its SHA-256, so a copy of the
database signs nobody in, and signing out or expiring a session ends it for every copy of the cookie.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from kiosk.admin import audit
from kiosk.db import now, query_one, timestamp, write_transaction

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
LOCK_FIRST = timedelta(minutes=1)
LOCK_LONGEST = timedelta(hours=1)
_USERNAME = re.compile(r"[a-z0-9._@-]{1,64}")

# OWASP's Argon2id minimum (m=19 MiB, t=2, p=1): a hash takes about 30 ms here, so a sign-in stays quick.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class AccountError(ValueError):
    """An account cannot be created as asked; str(error) says why in plain words."""


@dataclass(frozen=True)
class Admin:
    id: int
    username: str
    location_id: int | None = None  # a location admin's location; None: an installation admin (issue 16)


def normalise_username(username):
    return (username or "").strip().casefold()


def create_admin(db, username, password, *, location_id=None):
    """A new admin account, of the whole installation or (location_id) of one location; raises AccountError for a
    bad or taken username or a short password."""
    username = normalise_username(username)
    _check_username(username)
    _check_password(password)
    with write_transaction(db):
        if db.execute("SELECT 1 FROM admins WHERE username = ?", [username]).fetchone():
            raise AccountError(f"An admin called {username} already exists.")
        admin_id = db["admins"].insert(
            {"username": username, "password_hash": hasher.hash(password), "created_at": timestamp(),
             "location_id": location_id}
        ).last_pk
    return Admin(admin_id, username, location_id)


@dataclass(frozen=True)
class AdminEntry:
    """An admin as the Admins page lists them."""

    id: int
    username: str
    location_id: int | None
    sso: bool  # signs in with the OIDC provider
    last_login_at: str | None


def list_admins(db):
    rows = db.query("SELECT id, username, location_id, oidc_subject IS NOT NULL AS sso, last_login_at FROM admins "
                    "ORDER BY username")
    return [AdminEntry(**{**row, "sso": bool(row["sso"])}) for row in rows]


def set_location(db, username, location_id):
    """Make an admin one location's (location_id) or the whole installation's (None); False for no such admin. Their
    sessions end, so the change holds from their next request."""
    with write_transaction(db):
        row = db.execute("SELECT id FROM admins WHERE username = ?", [username]).fetchone()
        if row is None:
            return False
        db.execute("UPDATE admins SET location_id = ? WHERE id = ?", [location_id, row[0]])
        db.execute("DELETE FROM admin_sessions WHERE admin_id = ?", [row[0]])
    return True


def _check_username(username):
    if not _USERNAME.fullmatch(username):
        raise AccountError("A username is 1 to 64 letters a-z, digits, or the characters . _ @ -")


def _check_password(password):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")


# Signing in


def authenticate(db, username, password):
    """The admin these credentials belong to, or None: unknown user, wrong password and locked look alike.

    Every attempt verifies one hash, real or dummy, so the time taken does not tell whether a username exists. An
    attempt is counted before its password is checked, in the same write transaction that reads the lock, so
    parallel attempts cannot get more than LOGIN_MAX_FAILURES password checks between them (R30).
    """
    attempt = _take_attempt(db, normalise_username(username))
    if attempt is None or attempt.locked:
        _verify(_dummy_hash(), password)
        audit.record(db, "sign_in_refused_locked" if attempt else "sign_in_failed",
                     admin_id=attempt.admin.id if attempt else None)
        return None
    if not _verify(attempt.password_hash, password):
        audit.record(db, "account_locked" if attempt.locks else "sign_in_failed", admin_id=attempt.admin.id)
        return None
    _signed_in(db, attempt.admin.id, attempt.password_hash, password)
    return attempt.admin


@dataclass(frozen=True)
class _Attempt:
    admin: Admin
    password_hash: str = field(repr=False)
    locked: bool  # locked before this attempt: its password is not checked
    locks: bool  # this attempt, if it fails, is the one that locks the account


def _take_attempt(db, username):
    """Count one sign-in attempt as failed until its password proves right; from LOGIN_MAX_FAILURES on, lock for 1
    minute, doubling per failure, at most 1 h. None for an unknown username."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    with write_transaction(db):
        # An admin of the OIDC provider has no password: to this form, such a username does not exist.
        row = db.execute("SELECT id, username, location_id, password_hash, locked_until, failed_logins FROM admins "
                         "WHERE username = ? AND oidc_subject IS NULL", [username]).fetchone()
        if row is None:
            return None
        admin_id, name, location_id, password_hash, locked_until, failures = row
        admin = Admin(admin_id, name, location_id)
        if locked_until and locked_until > timestamp():
            return _Attempt(admin, password_hash, locked=True, locks=False)
        failures += 1
        lock = None
        if failures >= limit:
            lock = timestamp(now() + min(LOCK_FIRST * 2 ** min(failures - limit, 12), LOCK_LONGEST))
        db.execute("UPDATE admins SET failed_logins = ?, locked_until = ? WHERE id = ?", [failures, lock, admin_id])
    return _Attempt(admin, password_hash, locked=False, locks=lock is not None)


def _verify(password_hash, password):
    try:
        return hasher.verify(password_hash, (password or "")[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash():
    return hasher.hash(secrets.token_urlsafe(16))


def _signed_in(db, admin_id, password_hash, password):
    changes = {"failed_logins": 0, "locked_until": None, "last_login_at": timestamp()}
    # Parameters raised since this password was set: store a hash with today's parameters (R29).
    if hasher.check_needs_rehash(password_hash):
        changes["password_hash"] = hasher.hash(password)
    db["admins"].update(admin_id, changes)
    audit.record(db, "sign_in", admin_id=admin_id)


# Admins of the OIDC provider (kiosk/admin/oidc.py decides who may enter)

UNUSABLE_HASH = "!"  # not an Argon2 hash, so it verifies nothing; authenticate() does not even read these rows
SSO_SUFFIX = " (SSO)"  # a space and brackets: no `admin create` username looks like this
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def oidc_admin(db, issuer, subject, label):
    """The admin this provider account is (the issuer and its subject id: a changed e-mail is the same admin), made
    on its first sign-in; returns (Admin, created). The username is `label` (an e-mail address) + " (SSO)", kept up
    to date, for the admin area's header and audit log; the log records ids only (R31)."""
    label = _CONTROL.sub("", label or "").strip()[:200] or "admin"
    with write_transaction(db):
        row = query_one(db, "SELECT id, location_id FROM admins WHERE oidc_issuer = ? AND oidc_subject = ?",
                        [issuer, subject])
        admin_id = row["id"] if row else None
        username = _free_username(db, label, admin_id)
        moment = timestamp()
        if admin_id is None:
            admin_id = db["admins"].insert(
                {"username": username, "password_hash": UNUSABLE_HASH, "created_at": moment, "last_login_at": moment,
                 "oidc_issuer": issuer, "oidc_subject": subject}
            ).last_pk
        else:
            db["admins"].update(admin_id, {"username": username, "last_login_at": moment})
    return Admin(admin_id, username, row["location_id"] if row else None), row is None


def oidc_admin_id(db, issuer, subject):
    """The id of the admin this provider account is, or None: for the audit log of a refused sign-in."""
    row = query_one(db, "SELECT id FROM admins WHERE oidc_issuer = ? AND oidc_subject = ?", [issuer, subject])
    return row["id"] if row else None


def _free_username(db, label, admin_id):
    """label + " (SSO)", or " (SSO 2)" and on when another admin has it (two accounts of one e-mail address)."""
    for n in range(1, 1000):
        username = f"{label}{SSO_SUFFIX}" if n == 1 else f"{label} (SSO {n})"
        if not db.execute("SELECT 1 FROM admins WHERE username = ? AND id IS NOT ?", [username, admin_id]).fetchone():
            return username
    raise AccountError("Too many admins share this e-mail address.")


# Server-side sessions


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db, admin_id):
    """A new session for this admin; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    moment = timestamp()
    with write_transaction(db):
        # Sessions past their absolute lifetime are never valid again: a sign-in is a good time to drop them.
        db.execute("DELETE FROM admin_sessions WHERE created_at < ?", [_oldest_allowed_start()])
        db["admin_sessions"].insert(
            {"token_hash": _token_hash(token), "admin_id": admin_id, "created_at": moment, "last_seen_at": moment}
        )
    return token


def session_admin(db, token):
    """The admin of a live session, noting the activity; None (and the session ended) when idle or too old."""
    if not token:
        return None
    row = query_one(
        db,
        "SELECT s.admin_id, a.username, a.location_id, s.created_at, s.last_seen_at FROM admin_sessions s "
        "JOIN admins a ON a.id = s.admin_id WHERE s.token_hash = ?",
        [_token_hash(token)],
    )
    if row is None:
        return None
    if row["created_at"] < _oldest_allowed_start() or row["last_seen_at"] < _last_activity_allowed():
        end_session(db, token)
        return None
    db.execute("UPDATE admin_sessions SET last_seen_at = ? WHERE token_hash = ?", [timestamp(), _token_hash(token)])
    return Admin(row["admin_id"], row["username"], row["location_id"])


def end_session(db, token):
    if token:
        db.execute("DELETE FROM admin_sessions WHERE token_hash = ?", [_token_hash(token)])


def _oldest_allowed_start():
    return timestamp(now() - timedelta(hours=current_app.config["ADMIN_SESSION_HOURS"]))


def _last_activity_allowed():
    return timestamp(now() - timedelta(minutes=current_app.config["ADMIN_IDLE_MINUTES"]))


def purge_expired_sessions(db):
    """Delete sessions past their idle or absolute limit; returns how many went."""
    return db.execute("DELETE FROM admin_sessions WHERE created_at < ? OR last_seen_at < ?",
                      [_oldest_allowed_start(), _last_activity_allowed()]).rowcount
