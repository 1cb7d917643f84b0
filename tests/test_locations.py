"""Locations (issue 16, first slice): an upgraded single office becomes one location that carries today's settings;
a tablet's screens and the SMS about its visits follow its location's own settings (company name, welcome text,
kiosk language, reception phone, time zone), and the host's SMS names the location when there are several. The admin
pages are tested in tests/test_locations_admin.py."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils
from freezegun import freeze_time

from kiosk.db import get_db, migrations
from kiosk.locations import locations
from kiosk.messaging import delivery
from tests.helpers import (
    admin_client,
    create_host,
    create_school_visit,
    drain,
    get_page,
    messages,
    pair_tablet,
    post_check_in,
    sweep_now,
)

PUBLIC_URL = "https://kiosk.example.org"
BERGEN_RECEPTION = "+4741000555"
INSTALLATION_RECEPTION = "+4741000000"  # TEST_CONFIG
AT_10_02 = datetime(2026, 12, 3, 9, 2, tzinfo=UTC)  # 10:02 in Oslo, 09:02 in London


@pytest.fixture
def bergen(db):
    return locations.get_location(db, locations.save_location(db, None, {
        "name": "Bergen", "company_name": "Velkommen Vest", "welcome_text": "Velkommen til Bryggen!",
        "reception_phone": BERGEN_RECEPTION, "default_locale": "sv", "timezone": "Europe/London"}))


@pytest.fixture
def bergen_tablet(app, db, bergen):
    """A test client on a tablet paired at Bergen."""
    client = app.test_client()
    device, _ = pair_tablet(app, client, name="Bergen tablet")
    db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [bergen.id, device.id])
    client.device = device
    return client


@pytest.fixture
def host(db):
    return create_host(db, name="Kari Nordmann", phone="+4741234567", language="en")


# Upgrading today's single office


def test_an_upgraded_office_becomes_one_location_carrying_its_settings(tmp_path):
    path = tmp_path / "kiosk.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m013_locations")
    old["settings"].insert_all([{"key": "COMPANY_NAME", "value": '"Fjord AS"', "updated_at": "2026"},
                                {"key": "RECEPTION_PHONE", "value": '"+4741000777"', "updated_at": "2026"}])
    old["devices"].insert({"id": 7, "name": "Lobby", "token_hash": "x" * 64, "created_at": "2026"})
    old["hosts"].insert({"id": 3, "name": "Kari Nordmann", "phone": "+4741234567", "search": "kari nordmann"})
    old["school_visits"].insert({"id": 5, "school": "Bjerke", "visit_date": "2026-12-03", "host_id": 3,
                                 "created_at": "2026", "expires_at": "2100"})
    before = {table: old[table].count for table in old.table_names()
              if not table.startswith(("hosts_fts", "_sqlite_migrations"))}
    old.close()

    new = sqlite_utils.Database(path)
    migrations.apply(new)
    assert [dict(row) for row in new.query("SELECT id, name, timezone, default_locale, reception_phone, "
                                           "welcome_text, company_name FROM locations")] == [
        {"id": 1, "name": "Main office", "timezone": None, "default_locale": None, "reception_phone": None,
         "welcome_text": None, "company_name": None}]
    assert new.execute("SELECT location_id FROM devices WHERE id = 7").fetchone() == (1,)
    assert new.execute("SELECT location_id FROM school_visits WHERE id = 5").fetchone() == (1,)
    assert {table: new[table].count for table in before} == before  # nothing lost
    assert new["settings"].count == 2


def test_upgrading_a_database_with_locations_gives_its_visits_their_tablets_location(tmp_path):
    # A database made by main before m014 (the first slice of issue 16): two locations, a tablet at the second.
    path = tmp_path / "kiosk.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m014_location_scopes")
    old["locations"].insert({"id": 2, "name": "Bergen", "created_at": "2026"})
    old["devices"].insert_all([{"id": 7, "name": "Lobby", "token_hash": "x" * 64, "created_at": "2026",
                                "location_id": 1},
                               {"id": 8, "name": "Bryggen", "token_hash": "y" * 64, "created_at": "2026",
                                "location_id": 2}])
    old["visits"].insert_all([{"id": "a", "kiosk_id": "7", "created_at": "2026", "expires_at": "2100"},
                              {"id": "b", "kiosk_id": "8", "created_at": "2026", "expires_at": "2100"},
                              {"id": "c", "kiosk_id": None, "created_at": "2026", "expires_at": "2100"}])
    old["refusals"].insert_all([{"hour": "2026-12-03T09", "reason": "too_fast", "count": 3},
                                {"hour": "2026-12-03T09", "reason": "honeypot", "count": 1}])
    old["admins"].insert({"id": 1, "username": "ana", "password_hash": "h", "created_at": "2026"})
    old["reply_counts"].insert({"hour": "2026-12-03T09", "outcome": "acknowledged", "count": 5})
    old.close()

    new = sqlite_utils.Database(path)
    migrations.apply(new)
    assert dict(new.execute("SELECT id, location_id FROM visits").fetchall()) == {"a": 1, "b": 2, "c": 1}
    assert sorted(new.execute("SELECT hour, reason, location_id, count FROM refusals").fetchall()) == [
        ("2026-12-03T09", "honeypot", 1, 1), ("2026-12-03T09", "too_fast", 1, 3)]
    assert new.execute("SELECT location_id FROM admins").fetchone() == (None,)  # an installation admin, as before
    assert new.execute("SELECT outcome, location_id, count FROM reply_counts").fetchall() == [("acknowledged", 0, 5)]
    assert new.execute("SELECT hosts_only, logo FROM locations WHERE id = 2").fetchone() == (0, None)


def test_an_upgraded_tablet_shows_what_it_showed_before(app, db, client):
    db["settings"].insert({"key": "COMPANY_NAME", "value": '"Fjord AS"', "updated_at": "2026"})
    assert get_page(client, "/kiosk/").select_one("h1").text == "Welcome to Fjord AS"


# A tablet follows its location


def test_a_tablet_shows_its_locations_company_welcome_text_and_language(bergen_tablet, client):
    page = get_page(bergen_tablet, "/kiosk/")
    assert page.html["lang"] == "sv"
    assert "Velkommen Vest" in page.select_one("h1").text
    assert "Velkommen til Bryggen!" in page.text
    other = get_page(client, "/kiosk/")  # a tablet at the main office: the installation's settings
    assert (other.html["lang"], other.select_one("h1").text) == ("en", "Welcome to Velkommen")


def test_a_location_without_its_own_value_follows_the_installation(app, db, client):
    locations.save_location(db, None, {"name": "Stavanger"})
    db.execute("UPDATE devices SET location_id = 2")
    page = get_page(client, "/kiosk/")
    assert (page.html["lang"], page.select_one("h1").text) == ("en", "Welcome to Velkommen")


def test_reception_at_a_location_is_its_own_number(app, db, bergen_tablet, sms_outbox):
    response = post_check_in(bergen_tablet, host_id="reception")
    assert response.status_code == 302
    drain(app)
    assert sms_outbox[0].to == BERGEN_RECEPTION


def test_a_failed_host_sms_tells_the_locations_reception(make_app, tmp_path):
    app = make_app(PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN="t" * 32)
    with app.app_context():
        db = get_db()
        bergen = locations.save_location(db, None, {"name": "Bergen", "reception_phone": BERGEN_RECEPTION})
        client = app.test_client()
        device, _ = pair_tablet(app, client)
        db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [bergen, device.id])
        create_host(db, name="Kari Nordmann", phone="+4741234567", language="en")
        post_check_in(client, host_id="1")
        drain(app)
        visit_id = db.execute("SELECT id FROM visits").fetchone()[0]
        with app.test_request_context():
            delivery.handle_status_callback({"MessageSid": messages(db, visit_id)["host"]["sid"],
                                             "MessageStatus": "undelivered"})
        drain(app)
        assert [sms.to for sms in app.extensions["sms"].outbox if sms.to != "+4741234567"][-1] == BERGEN_RECEPTION


def test_a_silent_host_escalates_to_the_locations_reception_on_its_clock(make_app):
    app = make_app(PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN="t" * 32)
    with app.app_context():
        db = get_db()
        bergen = locations.save_location(db, None, {"name": "Bergen", "reception_phone": BERGEN_RECEPTION,
                                                    "timezone": "Europe/London"})
        client = app.test_client()
        device, _ = pair_tablet(app, client, name="Bergen tablet")
        db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [bergen, device.id])
        create_host(db, name="Kari Nordmann", phone="+4741234567", language="en")
        with freeze_time(AT_10_02):
            post_check_in(client, host_id="1")
            drain(app)
        with freeze_time(AT_10_02 + timedelta(minutes=5)):
            sweep_now(app)
    told = [sms for sms in app.extensions["sms"].outbox if sms.to == BERGEN_RECEPTION]
    assert [sms.body for sms in told] == [
        "A visitor for Kari Nordmann has waited since 09:02 on Bergen tablet; Kari has not answered."]


# The host's SMS names the location when there are several


def test_with_one_location_the_host_sms_names_none(app, db, host, client, sms_outbox):
    post_check_in(client, host_id=str(host.id))
    drain(app)
    assert sms_outbox[0].body == "Ragnhild Berg has arrived at reception and is waiting for you."


def test_with_several_locations_the_host_sms_names_the_tablets(app, db, host, bergen_tablet, sms_outbox):
    post_check_in(bergen_tablet, host_id=str(host.id))
    drain(app)
    assert sms_outbox[0].to == host.phone
    assert sms_outbox[0].body == "Ragnhild Berg is waiting for you at reception in Bergen."


def test_the_host_sms_names_the_location_in_the_hosts_language(app, db, bergen_tablet, sms_outbox):
    host = create_host(db, name="Kari Nordmann", phone="+4741234567", language="nb")
    post_check_in(bergen_tablet, host_id=str(host.id))
    drain(app)
    assert sms_outbox[0].body == "Ragnhild Berg venter på deg i resepsjonen i Bergen."


def test_outside_any_location_the_installation_settings_hold(app, db, bergen):
    with app.test_request_context():
        assert locations.current() is None
        with locations.at(bergen):
            from kiosk.settings import setting
            assert setting("RECEPTION_PHONE") == BERGEN_RECEPTION
        assert setting("RECEPTION_PHONE") == INSTALLATION_RECEPTION


def test_a_location_name_is_unique_in_any_case(db, bergen):
    with pytest.raises(locations.LocationError, match="There is a location called BERGEN already."):
        locations.save_location(db, None, {"name": "BERGEN"})


# School visits belong to a location


def test_a_tablet_offers_only_its_locations_school_visits(app, db, host, client, bergen_tablet):
    visit_id = create_school_visit(db, host)
    db.execute("UPDATE school_visits SET location_id = 2 WHERE id = ?", [visit_id])
    assert get_page(bergen_tablet, "/kiosk/").select_one("a[href='/kiosk/school/']") is not None
    assert get_page(client, "/kiosk/").select_one("a[href='/kiosk/school/']") is None  # the main office's tablet
    assert client.get(f"/kiosk/school/{visit_id}").status_code == 404
    assert bergen_tablet.get(f"/kiosk/school/{visit_id}").status_code == 200


def test_the_admin_chooses_a_school_visits_location_only_when_there_are_several(app, db, host):
    admin = admin_client(app)
    assert get_page(admin, "/admin/schools/new").select_one("#location_id") is None
    locations.save_location(db, None, {"name": "Bergen"})
    options = [option.text for option in get_page(admin, "/admin/schools/new").select("#location_id option")]
    assert options == ["Bergen", "Main office"]
