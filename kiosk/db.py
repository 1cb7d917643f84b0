"""The SQLite store: one sqlite-utils Database per thread, schema in Migrations, WAL for several workers."""

import fcntl
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("velkommen")
# The office's clock, for times a person reads (an SMS to reception, a school visit's day).
OFFICE_TIMEZONE = ZoneInfo("Europe/Oslo")


BUSY_TIMEOUT = 10  # seconds a write waits for another worker's
# FTS5's secure-delete option came with SQLite 3.44; older ones need the index merged after a delete instead.
FTS5_SECURE_DELETE = sqlite3.sqlite_version_info >= (3, 44)


def connect(path):
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    # Overwrite deleted rows with zeros, so purged personal data leaves no bytes behind in the file.
    db.execute("PRAGMA secure_delete = ON")
    return db


def get_db() -> Database:
    """This thread's connection, kept open across requests.

    A fresh connection per request (flaskr's pattern) starts with an empty page cache and parses the schema
    again; the host type-ahead was then 4x slower than with a kept connection (bench/README.md).
    """
    local = current_app.extensions["db"]
    if getattr(local, "db", None) is None:
        local.db = connect(current_app.config["DATABASE"])
    return local.db


def end_request(exc=None):
    """Never leave a transaction open on a kept connection (a view that failed half-way)."""
    db = getattr(current_app.extensions["db"], "db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_db(path):
    """Create or upgrade the schema; safe to call from several gunicorn workers at once."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(f"{path}.lock"):
        db = connect(path)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            migrations.apply(db)
            if FTS5_SECURE_DELETE:  # deleted hosts' tokens are then removed from the search index at once
                db.execute("INSERT INTO hosts_fts (hosts_fts, rank) VALUES ('secure-delete', 1)")
        finally:
            db.close()


def wipe_wal(db):
    """Copy the zeroed pages into the database and empty the WAL, where the old pages with deleted rows still are.

    secure_delete zeroes a deleted row in its page, but WAL mode writes that page anew and keeps the old frame
    until a checkpoint. If another worker is in the middle of a read, this cannot finish; the next purge retries.
    """
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def init_app(app):
    init_db(app.config["DATABASE"])
    app.extensions["db"] = threading.local()
    app.teardown_appcontext(end_request)


@contextmanager
def write_transaction(db):
    """A transaction that takes the write lock at BEGIN.

    sqlite-utils' atomic() begins DEFERRED: a transaction that reads and then writes fails at once with
    "database is locked" if another worker wrote in between. BEGIN IMMEDIATE waits for the lock instead.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.execute("COMMIT")


def now():
    return datetime.now(UTC)


def timestamp(moment=None):
    return (moment or now()).isoformat(timespec="seconds")


def parse_timestamp(text):
    return datetime.fromisoformat(text)


def clock_time(stored):
    """10:02: a stored UTC timestamp as the office's wall clock shows it."""
    return parse_timestamp(stored).astimezone(OFFICE_TIMEZONE).strftime("%H:%M")


@contextmanager
def busy_timeout(db, seconds):
    """Wait at most `seconds` for another worker's write lock, instead of BUSY_TIMEOUT."""
    db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield db
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")


def probe_write(db, *, timeout):
    """A cheap write that raises sqlite3.Error when the database cannot be written (read-only, locked, disk full),
    waiting at most `timeout` seconds for another writer."""
    with busy_timeout(db, timeout), write_transaction(db):
        db.execute("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                   [timestamp()])


@contextmanager
def _file_lock(path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@migrations()
def m001_hosts(db):
    db["hosts"].create(
        {
            "id": int,
            "name": str,
            "phone": str,
            "department": str,
            "email": str,
            "language": str,
            "search": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"name", "phone", "search"},
    )
    db["hosts"].create_index(["phone"], unique=True)
    db["hosts"].create_index(["email"])
    db.executescript(
        """
        CREATE VIRTUAL TABLE hosts_fts USING fts5(
            search, content='hosts', content_rowid='id', tokenize='unicode61', prefix='1 2 3'
        );
        CREATE TRIGGER hosts_ai AFTER INSERT ON hosts BEGIN
            INSERT INTO hosts_fts(rowid, search) VALUES (new.id, new.search);
        END;
        CREATE TRIGGER hosts_ad AFTER DELETE ON hosts BEGIN
            INSERT INTO hosts_fts(hosts_fts, rowid, search) VALUES ('delete', old.id, old.search);
        END;
        CREATE TRIGGER hosts_au AFTER UPDATE OF search ON hosts BEGIN
            INSERT INTO hosts_fts(hosts_fts, rowid, search) VALUES ('delete', old.id, old.search);
            INSERT INTO hosts_fts(rowid, search) VALUES (new.id, new.search);
        END;
        """
    )


@migrations()
def m002_visits(db):
    # A visit holds no name and no phone number: see the data map in docs/architecture.md.
    db["visits"].create(
        {"id": str, "host_id": int, "kiosk_id": str, "created_at": str, "expires_at": str},
        pk="id",
        not_null={"created_at", "expires_at"},
    )
    db["visits"].create_index(["expires_at"])
    db["messages"].create(
        {
            "id": int,
            "visit_id": str,
            "recipient": str,
            "status": str,
            "sid": str,
            "error_code": int,
            "attempts": int,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("visit_id", "visits", "id")],
        not_null={"visit_id", "recipient", "status"},
        defaults={"attempts": 0},
    )
    db["messages"].create_index(["visit_id"])
    db["messages"].create_index(["sid"])


@migrations()
def m003_admin_devices_guard(db):
    """Issue 3: admin accounts and sessions, paired kiosks, abuse counters, webhooks, audit, settings, alerts.
    No table here holds a visitor's name or number; abuse counters hold only keyed tags and hashes
    (docs/architecture.md, data map)."""
    db["admins"].create(
        {"id": int, "username": str, "password_hash": str, "failed_logins": int, "locked_until": str,
         "last_login_at": str, "created_at": str},
        pk="id", not_null={"username", "password_hash", "created_at"}, defaults={"failed_logins": 0},
    )
    db["admins"].create_index(["username"], unique=True)
    # Server-side admin sessions: the cookie holds a random token, this table its SHA-256 (R22).
    db["admin_sessions"].create(
        {"token_hash": str, "admin_id": int, "created_at": str, "last_seen_at": str},
        pk="token_hash", foreign_keys=[("admin_id", "admins", "id")], not_null={"admin_id", "created_at"},
    )
    db["devices"].create(
        {"id": int, "name": str, "token_hash": str, "created_at": str, "last_seen_at": str, "revoked_at": str},
        pk="id", not_null={"name", "token_hash", "created_at"},
    )
    db["devices"].create_index(["token_hash"], unique=True)
    db["pairing_codes"].create(
        {"code_hash": str, "name": str, "created_at": str, "expires_at": str, "used_at": str},
        pk="code_hash", not_null={"name", "created_at", "expires_at"},
    )
    # Fixed-window counters shared by every worker: key is e.g. "dest-hour:<keyed hash>", window the window start.
    db["counters"].create(
        {"key": str, "window": str, "count": int, "expires_at": str},
        pk=("key", "window"), not_null={"expires_at"}, defaults={"count": 0},
    )
    db["counters"].create_index(["expires_at"])
    # Refused check-ins by reason, per hour: counts only, for the statistics page.
    db["refusals"].create({"hour": str, "reason": str, "count": int}, pk=("hour", "reason"), defaults={"count": 0})
    # Webhook deliveries already handled (R13): idempotency token, or MessageSid:MessageStatus.
    db["webhook_events"].create({"key": str, "received_at": str}, pk="key", not_null={"received_at"})
    db["audit_events"].create(
        {"id": int, "at": str, "admin_id": int, "action": str, "target": str},
        pk="id", not_null={"at", "action"},
    )
    db["settings"].create({"key": str, "value": str, "updated_at": str}, pk="key")
    db["alerts"].create(
        {"id": int, "at": str, "kind": str, "message": str, "resolved_at": str},
        pk="id", not_null={"at", "kind", "message"},
    )
    db["messages"].add_column("redacted_at", str)
    db["hosts"].add_column("active", int, not_null_default=1)


@migrations()
def m004_import_previews(db):
    """Hosts parsed from an uploaded file, waiting up to 15 minutes for the admin's confirmation (never the file)."""
    db["import_previews"].create(
        {"id": str, "admin_id": int, "hosts": str, "created_at": str, "expires_at": str},
        pk="id", not_null={"admin_id", "hosts", "created_at", "expires_at"},
    )


@migrations()
def m005_schools(db):
    """Issue 4: school visits and their rosters (names, role, class only; R34), deleted after the visit day."""
    db["school_visits"].create(
        {"id": int, "school": str, "visit_date": str, "host_id": int, "arrival_time": str, "teacher_phone": str,
         "created_at": str, "expires_at": str},
        pk="id", not_null={"school", "visit_date", "created_at", "expires_at"},
    )
    db["school_visits"].create_index(["expires_at"])
    db["school_people"].create(
        {"id": int, "visit_id": int, "first_name": str, "last_name": str, "role": str, "class_name": str,
         "arrived_at": str},
        pk="id", foreign_keys=[("visit_id", "school_visits", "id")], not_null={"visit_id", "first_name", "role"},
    )
    db["school_people"].create_index(["visit_id"])
    # Apprenticeship consent (docs/architecture.md, data map): 12 months from consent, or deleted at once on withdrawal.
    db["consents"].create(
        {"id": int, "key": str, "name": str, "email": str, "school": str, "purpose": str, "policy_version": str,
         "given_at": str, "expires_at": str},
        pk="id", not_null={"key", "name", "email", "school", "purpose", "policy_version", "given_at", "expires_at"},
    )
    db["consents"].create_index(["expires_at"])
    # A parsed roster waiting up to 15 minutes for the admin's confirmation (never the file).
    db["school_previews"].create(
        {"id": str, "admin_id": int, "data": str, "created_at": str, "expires_at": str},
        pk="id", not_null={"admin_id", "data", "created_at", "expires_at"},
    )


@migrations()
def m006_message_deadlines(db):
    """Issue 8: a message in flight carries the time by which it must be settled and the worker process sending it,
    so a sweeper can settle what a crash, a hang or a stopped worker left behind. `reason` is a word saying why a
    message failed or was not sent (no personal data). `health` holds one row for the health check's write probe."""
    db["messages"].add_column("deadline", str)
    db["messages"].add_column("owner", str)
    db["messages"].add_column("reason", str)
    db["messages"].create_index(["status", "deadline"])
    db["health"].create({"id": int, "at": str}, pk="id")
