"""Issue 13: backups with Litestream that respect deletion. A real litestream binary replicates a real instance to a
file replica on a shortened schedule; what the app deletes must leave the replica within the schedule's bound, and a
restore must give back every row."""

import subprocess
import time
from datetime import timedelta

import pytest

from kiosk import backup, create_app
from kiosk.db import WIPE_WAL_SECONDS, get_db, probe_write
from kiosk.hosts import directory
from kiosk.schools import consent
from kiosk.schools import visits as schools
from tests.helpers import create_host, create_school_visit, files_under

CANARIES = (b"Kanarifugl", b"kanarifugl", b"98765432")
# Litestream's schedule, made 1,800 times shorter than the real one (snapshots hourly, kept 21 hours) so the test
# can wait it out: deleted data must leave the replica within retention + 2 snapshot intervals.
SHORT = backup.Schedule(retention=timedelta(seconds=6), snapshot_interval=timedelta(seconds=2),
                        levels=(timedelta(milliseconds=500), timedelta(seconds=1), timedelta(seconds=2)),
                        l0_retention=timedelta(seconds=1), checkpoint_interval=timedelta(seconds=2))


def holding_canaries(folder):
    return sorted(str(path.relative_to(folder)) for path in files_under(folder) if _holds_canary(path))


def _holds_canary(path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # Litestream compacted it away between the listing and the read
        return False
    return any(canary in data for canary in CANARIES)


def wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def instance(tmp_path):
    folder = tmp_path / "instance"
    replica = tmp_path / "replica"
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(folder / "kiosk.db"),
                      "BACKUP_REPLICA": f"file://{replica}"})
    config = tmp_path / "litestream.yml"
    config.write_text(backup.litestream_config(app.config["DATABASE"], f"file://{replica}", SHORT))
    return app, folder, replica, config


@pytest.fixture
def litestream(instance, tmp_path):
    _, _, _, config = instance
    with open(tmp_path / "litestream.log", "wb") as log:
        process = subprocess.Popen([backup.litestream_binary(), "replicate", "-config", str(config)],
                                   stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_r33_a_purged_roster_a_withdrawn_consent_and_a_deleted_host_leave_the_replica_in_time(instance, litestream):
    app, folder, replica, _ = instance
    with app.app_context():
        db = get_db()
        host = create_host(db, name="Kari Kanarifugl Ødegård", phone="+4798765432")
        other = create_host(db, name="Ola Nordmann", phone="+4741234567")
        visit_id = create_school_visit(db, other, people=[schools.Person("Per", "Kanarifugl"),
                                                          schools.Person("Liv", "Lærer", "teacher")])
        consent_id = consent.give(db, name="Siri Kanarifugl", email="siri.kanarifugl@example.no", school="Bjerke",
                                  policy_version=1)
        # The control: the replica does hold the names, so a scan that finds none later means they are gone.
        wait_for(lambda: holding_canaries(replica), 20, "the names to reach the replica")

        started = time.monotonic()
        consent.withdraw(db, consent_id)
        schools.delete_visit(db, visit_id)
        directory.delete_hosts(db, [host.id])
        deleted_at = time.monotonic()
        # Each delete waits at most WIPE_WAL_SECONDS for a WAL Litestream will not let go (it once waited 10 s).
        assert deleted_at - started < 3 * WIPE_WAL_SECONDS + 1

        def gone():
            probe_write(db, timeout=5)  # the kiosk's own small writes go on, as /healthz makes them
            return not holding_canaries(replica)
        wait_for(gone, 60, "the deleted names to leave the replica")
        took = timedelta(seconds=time.monotonic() - deleted_at)
        assert took <= SHORT.longest_kept() + timedelta(seconds=2), took
        # The server's side: the database file, its WAL and Litestream's own folder beside it, within Litestream's
        # checkpoint. Litestream keeps a read open, so the app cannot empty the WAL itself (kiosk/db.py wipe_wal);
        # Litestream's TRUNCATE checkpoint does (backup.TRUNCATE_PAGE_N).
        wait_for(lambda: not holding_canaries(folder), 5 * SHORT.checkpoint_interval.total_seconds(),
                 "the deleted names to leave the database file and its WAL")


def test_a_restore_into_a_fresh_path_gives_back_every_row(instance, litestream, tmp_path):
    app, folder, replica, config = instance
    with app.app_context():
        db = get_db()
        host = create_host(db)
        create_school_visit(db, host)
        wait_for(lambda: (replica / "ltx").exists(), 20, "a first backup")
        time.sleep(2 * SHORT.snapshot_interval.total_seconds())
    litestream.terminate()  # Litestream syncs what is left as it stops
    litestream.wait(timeout=30)
    target = tmp_path / "restored" / "kiosk.db"
    target.parent.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", "restore", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output
    live = backup.row_counts(folder / "kiosk.db")
    assert backup.row_counts(target) == live
    assert live["hosts"] == 1 and live["school_people"] == 3

    check = app.test_cli_runner().invoke(args=["backup", "check"])
    assert check.exit_code == 0, check.output
    assert "FAIL" not in check.output and "Restored" in check.output
    assert "within 23 hours" in check.output  # the default schedule's bound, 21 + 2


def test_backup_check_fails_plainly_without_a_replica_or_with_an_empty_one(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(tmp_path / "kiosk.db")})
    result = app.test_cli_runner().invoke(args=["backup", "check"])
    assert result.exit_code == 1 and "FAIL  No replica: set KIOSK_BACKUP_REPLICA" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    app.config["BACKUP_REPLICA"] = f"file://{empty}"
    result = app.test_cli_runner().invoke(args=["backup", "check"])
    assert result.exit_code == 1 and "FAIL  The replica could not be restored" in result.output
    restore = app.test_cli_runner().invoke(args=["backup", "restore", "--to", str(tmp_path / "kiosk.db")])
    assert restore.exit_code != 0 and "exists already" in restore.output


def test_the_config_command_writes_the_schedule_the_policy_allows(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(tmp_path / "kiosk.db"),
                      "BACKUP_REPLICA": "s3://velkommen-backups/oslo", "BACKUP_S3_ENDPOINT": "https://s3.example.no"})
    result = app.test_cli_runner().invoke(args=["backup", "config"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "snapshot:\n  interval: 3600s\n  retention: 75600s\n" in text  # hourly, kept 21 hours
    assert "checkpoint-interval: 30s" in text
    assert "truncate-page-n: 1" in text  # every checkpoint empties the WAL, old frames of deleted rows with it
    assert f'path: "{tmp_path / "kiosk.db"}"' in text
    assert 'url: "s3://velkommen-backups/oslo"' in text and 'endpoint: "https://s3.example.no"' in text
    assert "within 23 hours" in text
    no_replica = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(tmp_path / "k.db")})
    assert "Set KIOSK_BACKUP_REPLICA" in no_replica.test_cli_runner().invoke(args=["backup", "config"]).output


@pytest.mark.parametrize(("settings", "problem"), [
    ({"BACKUP_RETENTION_HOURS": 23}, "KIOSK_BACKUP_RETENTION_HOURS must be between 1 and 22"),
    ({"BACKUP_RETENTION_HOURS": 0}, "KIOSK_BACKUP_RETENTION_HOURS must be between 1 and 22"),
    ({"BACKUP_REPLICA": "ftp://backups/velkommen"}, "file:///a/folder or s3://bucket/path"),
    ({"BACKUP_REPLICA": "file://relative/path"}, "absolute path"),
    ({"LOG_FORMAT": "xml"}, "KIOSK_LOG_FORMAT must be text or json"),
])
def test_settings_that_would_break_the_promise_are_refused_at_start(tmp_path, settings, problem):
    from kiosk.config import ConfigError
    with pytest.raises(ConfigError, match=problem):
        create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(tmp_path / "kiosk.db"), **settings})


def test_the_bound_holds_for_the_longest_retention_allowed():
    assert backup.Schedule.hours(backup.max_retention_hours()).longest_kept() <= backup.MAX_KEPT
    assert backup.Schedule.hours(backup.max_retention_hours() + 1).longest_kept() > backup.MAX_KEPT
