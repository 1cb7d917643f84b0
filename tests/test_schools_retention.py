"""A school visit and its roster go when the visit day ends in Oslo: hidden at once, deleted by the purge (R33)."""

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from kiosk.db import get_db
from kiosk.retention import purge
from kiosk.schools import visits as schools
from kiosk.schools.visits import Person
from tests.helpers import create_host, create_school_visit, get_page, tablet_client

VISIT_DAY = date(2026, 6, 10)
CANARY = "Kanarifugl"


def test_a_visit_expires_at_midnight_oslo_time():
    assert schools.expires_at(VISIT_DAY) == "2026-06-10T22:00:00+00:00"  # summer: UTC+2
    assert schools.expires_at(date(2026, 1, 10)) == "2026-01-10T23:00:00+00:00"  # winter: UTC+1
    assert schools.expires_at(VISIT_DAY, keep_days=2) == "2026-06-12T22:00:00+00:00"


@pytest.fixture
def visited(make_app, tmp_path):
    """A school visit with a canary pupil, checked in on its day; an idle reader keeps the WAL."""
    app = make_app(DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    reader = sqlite3.connect(app.config["DATABASE"])
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    with freeze_time("2026-06-10 07:00:00"), app.app_context():
        db = get_db()
        host = create_host(db)
        visit_id = create_school_visit(db, host, people=[Person("Kari", CANARY), Person("Ola", "Nordmann")])
    yield app, visit_id
    reader.close()


def test_the_visit_is_shown_until_the_day_ends_and_never_after(visited):
    app, visit_id = visited
    client = tablet_client(app)
    with freeze_time("2026-06-10 21:59:00"):
        assert get_page(client, "/kiosk/school/").select(".school-visits a")
        app.extensions["dispatcher"].drain(timeout=10)  # the hourly purge the request started
    with freeze_time("2026-06-10 22:00:01"):
        with app.app_context():
            db = get_db()
            assert schools.list_visits(db) == [] and schools.visits_today(db) == []
            assert schools.get_visit(db, visit_id) is None
            assert db["school_visits"].count == 1  # not purged yet, but hidden
        assert not get_page(client, "/kiosk/school/").select(".school-visits a")
        get_page(client, f"/kiosk/school/{visit_id}", status=404)


def test_purge_deletes_the_visit_and_roster_after_the_day(visited):
    app, _ = visited
    with app.app_context():
        db = get_db()
        with freeze_time("2026-06-10 21:59:00"):
            assert purge(db)["school visits"] == 0
        with freeze_time("2026-06-10 22:00:00"):
            assert purge(db)["school visits"] == 1
        assert db["school_visits"].count == 0 and db["school_people"].count == 0


def test_keep_days_keeps_a_visit_longer(make_app):
    app = make_app(SCHOOL_VISIT_KEEP_DAYS=1)
    with freeze_time("2026-06-10 07:00:00"), app.app_context():
        db = get_db()
        preview = schools.save_preview(db, {"school": "S", "visit_date": "2026-06-10", "host_id": None,
                                            "arrival_time": None, "teacher_phone": None},
                                       schools.Roster(people=[Person("Ola", "N")]), admin_id=1)
        schools.confirm_preview(db, preview, admin_id=1, keep_days=app.config["SCHOOL_VISIT_KEEP_DAYS"])
    with freeze_time("2026-06-11 12:00:00"), app.app_context():
        assert purge(get_db())["school visits"] == 0
    with freeze_time("2026-06-11 22:00:00"), app.app_context():
        assert purge(get_db())["school visits"] == 1


def test_after_the_purge_no_pupil_name_is_left_in_the_database_or_wal(visited, tmp_path):
    app, visit_id = visited
    client = tablet_client(app)
    with freeze_time("2026-06-10 08:00:00"):
        page = get_page(client, f"/kiosk/school/{visit_id}")
        ids = [box["value"] for box in page.select("input[name=person]")]
        client.post(f"/kiosk/school/{visit_id}", data={"csrf_token": page.select_one("input[name=csrf_token]")["value"],
                                                       "person": ids})
        app.extensions["dispatcher"].drain(timeout=10)
    written = [path for path in Path(tmp_path / "instance").rglob("*") if path.is_file()]
    assert [p for p in written if CANARY.encode() in p.read_bytes()], "the scan must see the name before the purge"
    with freeze_time("2026-06-11 00:00:00"), app.app_context():
        purge(get_db())
    written = [path for path in Path(tmp_path / "instance").rglob("*") if path.is_file()]
    assert any(path.name.endswith("-wal") for path in written), "the scan must include the WAL"
    assert [str(p) for p in written if CANARY.encode() in p.read_bytes()] == []


def test_an_expired_preview_is_purged(app):
    with app.app_context():
        db = get_db()
        with freeze_time("2026-06-10 07:00:00"):
            schools.save_preview(db, {}, schools.Roster(people=[Person("Kari", CANARY)]), admin_id=1)
        with freeze_time("2026-06-10 07:16:00"):
            purge(db)
        assert db["school_previews"].count == 0
