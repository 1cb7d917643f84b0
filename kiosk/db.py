"""The SQLite store: one sqlite-utils Database per thread, schema in Migrations, WAL for several workers."""

import fcntl
import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_app_context
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("velkommen")
# The office's clock, for times a person reads (an SMS to reception, a school visit's day).

DEFAULT_TIMEZONE = "Europe/Oslo"  # KIOSK_TIMEZONE's default (kiosk/config.py)

BUSY_TIMEOUT = 10  # seconds a write waits for another worker's
WIPE_WAL_SECONDS = 1.0  # the longest a delete waits to empty the WAL (wipe_wal)
# FTS5's secure-delete option came with SQLite 3.44; older ones need the index merged after a delete instead.
FTS5_SECURE_DELETE = sqlite3.sqlite_version_info >= (3, 44)


def connect(path: str) -> Database:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    # Unicode case folding for SQL (SQLite's lower() folds ASCII only): ØDEGÅRD matches ødegård (kiosk/scim/filters.py).
    conn.create_function("casefold", 1, _casefold, deterministic=True)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    # Overwrite deleted rows with zeros, so purged personal data leaves no bytes behind in the file.
    db.execute("PRAGMA secure_delete = ON")
    return db


def _casefold(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.casefold() if isinstance(value, str) else value


def get_db() -> Database:
    """This thread's connection, kept open across requests.

    A fresh connection per request (flaskr's pattern) starts with an empty page cache and parses the schema
    again; the host type-ahead was then 4x slower than with a kept connection (bench/README.md).
    """
    local = current_app.extensions["db"]
    if getattr(local, "db", None) is None:
        local.db = connect(current_app.config["DATABASE"])
    return local.db


def end_request(exc: BaseException | None = None) -> None:
    """Never leave a transaction open on a kept connection (a view that failed half-way)."""
    db = getattr(current_app.extensions["db"], "db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_db(path: str) -> None:
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


def wipe_wal(db: Database) -> None:
    """Copy the zeroed pages into the database and empty the WAL, where the old pages with deleted rows still are.

    secure_delete zeroes a deleted row in its page, but WAL mode writes that page anew and keeps the old frame
    until a checkpoint. If another worker is in the middle of a read, this cannot finish; the next purge retries.
    It waits WIPE_WAL_SECONDS at most: a TRUNCATE checkpoint that waits holds back every writer, and Litestream
    (docs/backups.md) keeps a read open all the time, so with it this always waits in vain. Litestream's own
    checkpoint then copies the zeroed pages over within its checkpoint interval.
    """
    with busy_timeout(db, WIPE_WAL_SECONDS):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def init_app(app: Flask) -> None:
    init_db(app.config["DATABASE"])
    app.extensions["db"] = threading.local()
    app.teardown_appcontext(end_request)


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
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


def query_one(db: Database, sql: str, params: Sequence[object] = ()) -> dict[str, Any] | None:
    """The first row of a query as a dict of its columns by name, or None. Code reads rows by name, never by index."""
    return next(db.query(sql, params), None)


def query_value(db: Database, sql: str, params: Sequence[object] = ()) -> Any:
    """The one column of a query's first row (a count, a name), or None when there is no row."""
    row = db.execute(sql, params).fetchone()
    return row[0] if row else None


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    return (moment or now()).isoformat(timespec="seconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def office_timezone() -> ZoneInfo:
    """KIOSK_TIMEZONE, or the current location's (kiosk/locations): the office's clock, for every time a person reads
    (SMS, admin pages, a school's day). Outside an app (a script, a test helper) the default, Europe/Oslo."""
    if not has_app_context():
        return _zone(DEFAULT_TIMEZONE)
    location = g.get("location")
    own = location.override("TIMEZONE") if location is not None else None
    return _zone(own or current_app.config["TIMEZONE"])


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def office_time(stored: str) -> datetime:
    """A stored UTC timestamp on the office's clock."""
    return parse_timestamp(stored).astimezone(office_timezone())


def clock_time(stored: str) -> str:
    """10:02: a stored UTC timestamp as the office's wall clock shows it."""
    return office_time(stored).strftime("%H:%M")


def office_datetime(stored: str | None) -> str:
    """2026-03-02 10:02 on the office's clock (the admin pages' `local` filter); "" for no time."""
    return office_time(stored).strftime("%Y-%m-%d %H:%M") if stored else ""


@contextmanager
def busy_timeout(db: Database, seconds: float) -> Iterator[Database]:
    """Wait at most `seconds` for another worker's write lock, instead of BUSY_TIMEOUT."""
    db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield db
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")


def probe_write(db: Database, *, timeout: float) -> None:
    """A cheap write that raises sqlite3.Error when the database cannot be written (read-only, locked, disk full),
    waiting at most `timeout` seconds for another writer."""
    with busy_timeout(db, timeout), write_transaction(db):
        db.execute("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                   [timestamp()])


@contextmanager
def _file_lock(path: str) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@migrations()
def m001_hosts(db: Database) -> None:
    db.table("hosts").create(
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
    db.table("hosts").create_index(["phone"], unique=True)
    db.table("hosts").create_index(["email"])
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
def m002_visits(db: Database) -> None:
    # A visit holds no name and no phone number: see the data map in docs/architecture.md.
    db.table("visits").create(
        {"id": str, "host_id": int, "kiosk_id": str, "created_at": str, "expires_at": str},
        pk="id",
        not_null={"created_at", "expires_at"},
    )
    db.table("visits").create_index(["expires_at"])
    db.table("messages").create(
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
    db.table("messages").create_index(["visit_id"])
    db.table("messages").create_index(["sid"])


@migrations()
def m003_admin_devices_guard(db: Database) -> None:
    """Issue 3: admin accounts and sessions, paired kiosks, abuse counters, webhooks, audit, settings, alerts.
    No table here holds a visitor's name or number; abuse counters hold only keyed tags and hashes
    (docs/architecture.md, data map)."""
    db.table("admins").create(
        {"id": int, "username": str, "password_hash": str, "failed_logins": int, "locked_until": str,
         "last_login_at": str, "created_at": str},
        pk="id", not_null={"username", "password_hash", "created_at"}, defaults={"failed_logins": 0},
    )
    db.table("admins").create_index(["username"], unique=True)
    # Server-side admin sessions: the cookie holds a random token, this table its SHA-256 (R22).
    db.table("admin_sessions").create(
        {"token_hash": str, "admin_id": int, "created_at": str, "last_seen_at": str},
        pk="token_hash", foreign_keys=[("admin_id", "admins", "id")], not_null={"admin_id", "created_at"},
    )
    db.table("devices").create(
        {"id": int, "name": str, "token_hash": str, "created_at": str, "last_seen_at": str, "revoked_at": str},
        pk="id", not_null={"name", "token_hash", "created_at"},
    )
    db.table("devices").create_index(["token_hash"], unique=True)
    db.table("pairing_codes").create(
        {"code_hash": str, "name": str, "created_at": str, "expires_at": str, "used_at": str},
        pk="code_hash", not_null={"name", "created_at", "expires_at"},
    )
    # Fixed-window counters shared by every worker: key is e.g. "dest-hour:<keyed hash>", window the window start.
    db.table("counters").create(
        {"key": str, "window": str, "count": int, "expires_at": str},
        pk=("key", "window"), not_null={"expires_at"}, defaults={"count": 0},
    )
    db.table("counters").create_index(["expires_at"])
    # Refused check-ins by reason, per hour: counts only, for the statistics page.
    db.table("refusals").create({"hour": str, "reason": str, "count": int}, pk=("hour", "reason"),
                                defaults={"count": 0})
    # Webhook deliveries already handled (R13): idempotency token, or MessageSid:MessageStatus.
    db.table("webhook_events").create({"key": str, "received_at": str}, pk="key", not_null={"received_at"})
    db.table("audit_events").create(
        {"id": int, "at": str, "admin_id": int, "action": str, "target": str},
        pk="id", not_null={"at", "action"},
    )
    db.table("settings").create({"key": str, "value": str, "updated_at": str}, pk="key")
    db.table("alerts").create(
        {"id": int, "at": str, "kind": str, "message": str, "resolved_at": str},
        pk="id", not_null={"at", "kind", "message"},
    )
    db.table("messages").add_column("redacted_at", str)
    db.table("hosts").add_column("active", int, not_null_default=1)


@migrations()
def m004_import_previews(db: Database) -> None:
    """Hosts parsed from an uploaded file, waiting up to 15 minutes for the admin's confirmation (never the file)."""
    db.table("import_previews").create(
        {"id": str, "admin_id": int, "hosts": str, "created_at": str, "expires_at": str},
        pk="id", not_null={"admin_id", "hosts", "created_at", "expires_at"},
    )


@migrations()
def m005_schools(db: Database) -> None:
    """Issue 4: school visits and their rosters (names, role, class only; R34), deleted after the visit day."""
    db.table("school_visits").create(
        {"id": int, "school": str, "visit_date": str, "host_id": int, "arrival_time": str, "teacher_phone": str,
         "created_at": str, "expires_at": str},
        pk="id", not_null={"school", "visit_date", "created_at", "expires_at"},
    )
    db.table("school_visits").create_index(["expires_at"])
    db.table("school_people").create(
        {"id": int, "visit_id": int, "first_name": str, "last_name": str, "role": str, "class_name": str,
         "arrived_at": str},
        pk="id", foreign_keys=[("visit_id", "school_visits", "id")], not_null={"visit_id", "first_name", "role"},
    )
    db.table("school_people").create_index(["visit_id"])
    # Apprenticeship consent (docs/architecture.md, data map): 12 months from consent, or deleted at once on withdrawal.
    db.table("consents").create(
        {"id": int, "key": str, "name": str, "email": str, "school": str, "purpose": str, "policy_version": str,
         "given_at": str, "expires_at": str},
        pk="id", not_null={"key", "name", "email", "school", "purpose", "policy_version", "given_at", "expires_at"},
    )
    db.table("consents").create_index(["expires_at"])
    # A parsed roster waiting up to 15 minutes for the admin's confirmation (never the file).
    db.table("school_previews").create(
        {"id": str, "admin_id": int, "data": str, "created_at": str, "expires_at": str},
        pk="id", not_null={"admin_id", "data", "created_at", "expires_at"},
    )


@migrations()
def m006_message_deadlines(db: Database) -> None:
    """Issue 8: a message in flight carries the time by which it must be settled and the worker process sending it,
    so a sweeper can settle what a crash, a hang or a stopped worker left behind. `reason` is a word saying why a
    message failed or was not sent (no personal data). `health` holds one row for the health check's write probe."""
    db.table("messages").add_column("deadline", str)
    db.table("messages").add_column("owner", str)
    db.table("messages").add_column("reason", str)
    db.table("messages").create_index(["status", "deadline"])
    db.table("health").create({"id": int, "at": str}, pk="id")


@migrations()
def m007_search_departments_and_typos(db: Database) -> None:
    """Issue 11: the kiosk search matches departments and joined words (O'Brien as "obrien"), so every host's
    search words are written again; hosts_fts_vocab lists the index's words for the typo-tolerant search."""
    from kiosk.hosts.directory import search_key  # the one definition of a host's search words

    rows = [{"id": row["id"], "search": search_key(row["name"], row["department"])}
            for row in db.query("SELECT id, name, department FROM hosts")]
    db.conn.executemany("UPDATE hosts SET search = :search WHERE id = :id", rows)
    db.execute("CREATE VIRTUAL TABLE hosts_fts_vocab USING fts5vocab(hosts_fts, 'row')")
    # A counter the search words' cache in each worker compares, so it is dropped when the words change, not on every
    # write to the database (a health check writes every few seconds).
    db.executescript(
        """
        CREATE TABLE search_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
        INSERT INTO search_version VALUES (1, 0);
        CREATE TRIGGER hosts_version_ai AFTER INSERT ON hosts BEGIN UPDATE search_version SET n = n + 1; END;
        CREATE TRIGGER hosts_version_ad AFTER DELETE ON hosts BEGIN UPDATE search_version SET n = n + 1; END;
        CREATE TRIGGER hosts_version_au AFTER UPDATE OF search ON hosts BEGIN UPDATE search_version SET n = n + 1; END;
        """
    )


@migrations()
def m008_scim_tokens(db: Database) -> None:
    """Issue 12: bearer tokens of the SCIM API (an identity provider's directory sync). Like a tablet's credential,
    only a token's SHA-256 is stored; the name says which provider holds it. No personal data."""
    db.table("scim_tokens").create(
        {"id": int, "name": str, "token_hash": str, "created_at": str, "last_used_at": str, "revoked_at": str},
        pk="id", not_null={"name", "token_hash", "created_at"},
    )
    db.table("scim_tokens").create_index(["token_hash"], unique=True)


@migrations()
def m009_scim_users(db: Database) -> None:
    """Issue 12: hosts provisioned by an identity provider over SCIM (kiosk/scim/users.py). Such a host may come
    without a usable mobile number: it is then kept inactive, shown as "needs a mobile number", so `phone` may be
    empty. scim_id marks a host as managed by the sync (read-only in the admin area, skipped by imports); user_name,
    external_id and the name as the provider sent it (display name and parts, from which `name` is made) are what
    it matches and compares; scim_active is the active flag it sent, if any (the host is active only when that is
    not false and the host has a mobile number). Hosts only: nothing about a visitor."""
    triggers = [sql for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                              "AND tbl_name = 'hosts'")]
    db.table("hosts").transform(not_null={"phone": False})  # the table is rebuilt: its triggers are made again
    db.executescript("".join(f"{sql};\n" for sql in triggers))
    for column in ("scim_id", "external_id", "user_name", "display_name", "given_name", "family_name",
                   "formatted_name"):
        db.table("hosts").add_column(column, str)
    db.table("hosts").add_column("scim_active", int)
    db.executescript(
        """
        CREATE UNIQUE INDEX hosts_scim_id ON hosts (scim_id);
        CREATE UNIQUE INDEX hosts_user_name ON hosts (user_name COLLATE NOCASE);
        CREATE INDEX hosts_external_id ON hosts (external_id);
        """
    )


@migrations()
def m010_oidc_admins(db: Database) -> None:
    """Issue 12: an admin who signs in with the OIDC provider is known by the provider (issuer) and its id for them
    (subject), never by e-mail, which can change. Such an admin has no usable password; a local admin has NULL here."""
    db.table("admins").add_column("oidc_issuer", str)
    db.table("admins").add_column("oidc_subject", str)
    db.execute("CREATE UNIQUE INDEX admins_oidc ON admins (oidc_issuer, oidc_subject)")


@migrations()
def m011_host_replies(db: Database) -> None:
    """Issue 14: a host's reply to the arrival SMS. The visit keeps only when a reply came and the minutes it gave,
    never its text or the number it came from; reply_asked marks a visit whose host SMS asked for a reply, and
    escalate_at is when a silent host makes reception hear of it (NULL: never). reply_counts counts replies per
    hour and outcome, for the statistics: counts only."""
    for column, kind in (("reply_asked", int), ("escalate_at", str), ("acknowledged_at", str), ("ack_minutes", int)):
        db.table("visits").add_column(column, kind)
    db.executescript(
        """
        CREATE INDEX visits_host_created ON visits (host_id, created_at);
        CREATE INDEX visits_escalate_at ON visits (escalate_at)
            WHERE escalate_at IS NOT NULL AND acknowledged_at IS NULL;
        CREATE INDEX visits_acknowledged_at ON visits (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
        """
    )
    db.table("reply_counts").create({"hour": str, "outcome": str, "count": int}, pk=("hour", "outcome"),
                                    defaults={"count": 0})


@migrations()
def m012_phone_checkin(db: Database) -> None:
    """Issue 15: check-in on the visitor's own phone from the tablet's QR code. A QR token names its tablet and the
    tablet's phone_generation when it was made; a check-in from a phone moves the generation on, which uses up
    every token made before it. No personal data."""
    db.table("devices").add_column("phone_generation", int, not_null_default=0)


@migrations()
def m013_locations(db: Database) -> None:
    """Issue 16: one installation, many offices. A location's own settings (time zone, kiosk language, reception
    phone, welcome text, company display name) override the installation's; an empty one follows them. An upgraded
    single office becomes location 1, with every field empty: it carries today's settings, which stay where they
    are. Tablets, pairing codes and school visits belong to a location; a host belongs to the locations in
    host_locations, or to all while it has none. No visitor data."""
    db.table("locations").create(
        {"id": int, "name": str, "timezone": str, "default_locale": str, "reception_phone": str, "welcome_text": str,
         "company_name": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"name", "created_at"},
    )
    db.execute("CREATE UNIQUE INDEX locations_name ON locations (name COLLATE NOCASE)")
    db.execute("INSERT INTO locations (id, name, created_at) VALUES (1, 'Main office', ?)", [timestamp()])
    for table in ("devices", "pairing_codes", "school_visits"):
        db.table(table).add_column("location_id", int, not_null_default=1)
    db.executescript(
        """
        CREATE TABLE host_locations (
            host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
            location_id INTEGER NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
            PRIMARY KEY (host_id, location_id)
        );
        CREATE INDEX host_locations_location ON host_locations (location_id);
        """
    )


@migrations()
def m014_location_scopes(db: Database) -> None:
    """Issue 16, second slice. A location may offer only its own hosts on its tablets (hosts_only), show its own logo
    (at most 200 KB, kept in the row), cap its tablets per hour and budget its own visitor SMS (NULL: the
    installation's limits alone). An admin with a location_id manages only that location (NULL: the whole
    installation); audit events name the location they touched. Visits and refusals carry their tablet's location
    for the statistics, so they survive the tablet's removal; a consent carries the location of the school visit it
    was given at, for that location's admins. No visitor data."""
    for column, kind in (("logo", bytes), ("logo_type", str), ("checkins_per_device_per_hour", int),
                         ("sms_budget_per_hour", int), ("sms_budget_per_day", int)):
        db.table("locations").add_column(column, kind)
    db.table("locations").add_column("hosts_only", int, not_null_default=0)
    db.table("admins").add_column("location_id", int)
    db.table("audit_events").add_column("location_id", int)
    db.table("visits").add_column("location_id", int, not_null_default=1)
    db.execute("UPDATE visits SET location_id = coalesce((SELECT d.location_id FROM devices d "
               "WHERE d.id = visits.kiosk_id), 1)")
    db.execute("CREATE INDEX visits_location_created ON visits (location_id, created_at)")
    db.table("consents").add_column("location_id", int, not_null_default=1)
    db.table("refusals").add_column("location_id", int, not_null_default=1)
    db.table("refusals").transform(pk=("hour", "reason", "location_id"))


@migrations()
def m015_alert_locations(db: Database) -> None:
    """Issue 16: an alert raised for one location's tablet or visit (a used-up budget, a visitor nobody was told of)
    names that location, so its admins see it and other locations' admins do not; NULL: the whole installation's
    (the SMS provider's configuration, say). No personal data."""
    db.table("alerts").add_column("location_id", int)


@migrations()
def m016_reply_count_locations(db: Database) -> None:
    """Issue 16: an inbound SMS that matched a visit is counted at that visit's location, for the location's
    statistics; one that matched none (a keyword, a stranger, a host with no visit waiting) at location 0, which the
    total alone shows. Counts were the whole installation's until now: they stay at 0. No personal data."""
    db.table("reply_counts").add_column("location_id", int, not_null_default=0)
    db.table("reply_counts").transform(pk=("hour", "outcome", "location_id"))
