"""The abuse guard with several locations (issue 16): a location's own visitor SMS budget and tablet limit, under the
installation's budget, which stays a cap on all locations together; number limits stay installation-wide. A single
location behaves as before: tests/test_abuse.py. Also each location's logo on its tablets."""

import pytest

from kiosk.db import get_db
from kiosk.locations import locations
from kiosk.settings import setting
from tests.helpers import create_host, drain, get_page, pair_tablet, post_check_in

HOST = "+4741234567"
BERGEN_RECEPTION = "+4741000555"
INSTALLATION_RECEPTION = "+4741000000"  # TEST_CONFIG
NOTICE = "The visitor SMS budget of the kiosk is used up for this hour; hosts are still notified."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40"/></svg>'


@pytest.fixture
def host(db):
    return create_host(db, name="Kari Nordmann", phone=HOST, language="en")


@pytest.fixture
def make_bergen(db):
    """Make the location Bergen, with its own reception and `fields`; returns it."""
    def make(**fields):
        location_id = locations.save_location(db, None, {"name": "Bergen", "reception_phone": BERGEN_RECEPTION,
                                                         **fields})
        return locations.get_location(db, location_id)
    return make


def database(app):
    """The app's database, without an app context held open (see the db fixture)."""
    with app.app_context():
        return get_db()


def tablet_at(app, db, location, name="Bergen tablet"):
    """A test client on a tablet paired at `location`."""
    client = app.test_client()
    device, _ = pair_tablet(app, client, name=name)
    db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [location.id, device.id])
    return client


def check_in(app, client, host, phone):
    """Check a visitor in with `phone` (a mobile number, typed), and wait for the SMS; returns the response."""
    response = post_check_in(client, phone=phone, host_id=str(host.id))
    drain(app)
    return response


def visitor_sms(app):
    """The numbers visitors' confirmations went to, in order."""
    return [sms.to for sms in app.extensions["sms"].outbox
            if sms.to not in (HOST, BERGEN_RECEPTION, INSTALLATION_RECEPTION)]


def budget_alerts(db):
    return [message for (message,) in db.execute("SELECT message FROM alerts WHERE kind = 'sms_budget'")]


def told(app, number):
    return [sms.body for sms in app.extensions["sms"].outbox if sms.to == number]


# A location's own budget


@pytest.mark.parametrize("field, window", [("sms_budget_per_hour", "this hour"), ("sms_budget_per_day", "today")])
def test_a_locations_own_budget_used_up_stops_its_visitor_sms_while_another_location_still_sends(
        app, db, host, client, make_bergen, field, window):
    bergen = tablet_at(app, db, make_bergen(**{field: 1}))
    assert [check_in(app, bergen, host, phone).status_code for phone in ("412 34 901", "412 34 902")] == [302, 302]
    check_in(app, client, host, "412 34 903")  # the main office's tablet
    assert visitor_sms(app) == ["+4741234901", "+4741234903"]
    assert len(told(app, HOST)) == 3  # hosts are told all the same
    assert budget_alerts(db) == [f"The visitor SMS budget of Bergen for {window} is used up: visitors get no "
                                 f"confirmation SMS until it ends. Hosts are still notified."]


def test_a_locations_reception_is_told_once_per_window_that_its_budget_is_used_up(app, db, host, make_bergen):
    bergen = tablet_at(app, db, make_bergen(sms_budget_per_hour=0))
    for phone in ("412 34 901", "412 34 902", "412 34 903"):
        check_in(app, bergen, host, phone)
    assert visitor_sms(app) == []
    assert told(app, BERGEN_RECEPTION) == [NOTICE]
    assert told(app, INSTALLATION_RECEPTION) == []
    assert len(budget_alerts(db)) == 1


def test_each_location_with_a_budget_counts_its_own(app, db, host, client, make_bergen):
    bergen = tablet_at(app, db, make_bergen(sms_budget_per_hour=1))
    stavanger_id = locations.save_location(db, None, {"name": "Stavanger", "sms_budget_per_hour": 1})
    stavanger = tablet_at(app, db, locations.get_location(db, stavanger_id), name="Stavanger tablet")
    for tablet, phone in ((bergen, "412 34 901"), (stavanger, "412 34 902"), (stavanger, "412 34 903")):
        check_in(app, tablet, host, phone)
    assert visitor_sms(app) == ["+4741234901", "+4741234902"]
    assert [alert.split(" for ")[0] for alert in budget_alerts(db)] == ["The visitor SMS budget of Stavanger"]


# The installation's budget is a cap on every location together


def test_the_installations_budget_caps_all_locations_together(make_app):
    app = make_app(SMS_BUDGET_PER_HOUR=2)
    db = database(app)
    host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
    bergen = tablet_at(app, db, locations.get_location(db, locations.save_location(
        db, None, {"name": "Bergen", "reception_phone": BERGEN_RECEPTION, "sms_budget_per_hour": 10})))
    main = tablet_at(app, db, locations.get_location(db, locations.DEFAULT_ID), name="Lobby")
    for tablet, phone in ((bergen, "412 34 901"), (main, "412 34 902"), (bergen, "412 34 903")):
        check_in(app, tablet, host, phone)
    assert visitor_sms(app) == ["+4741234901", "+4741234902"]
    assert budget_alerts(db) == ["The visitor SMS budget for this hour is used up: visitors get no confirmation "
                                 "SMS until it ends. Hosts are still notified."]
    assert told(app, BERGEN_RECEPTION) == [NOTICE]  # where it was used up


def test_a_visitor_sms_refused_by_a_locations_budget_uses_up_none_of_the_installations(make_app):
    app = make_app(SMS_BUDGET_PER_HOUR=2)
    db = database(app)
    host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
    bergen = tablet_at(app, db, locations.get_location(db, locations.save_location(
        db, None, {"name": "Bergen", "sms_budget_per_hour": 1})))
    main = tablet_at(app, db, locations.get_location(db, locations.DEFAULT_ID), name="Lobby")
    for tablet, phone in ((bergen, "412 34 901"), (bergen, "412 34 902"), (main, "412 34 903")):
        check_in(app, tablet, host, phone)
    assert visitor_sms(app) == ["+4741234901", "+4741234903"]


def test_a_location_without_a_budget_of_its_own_keeps_no_counters_of_its_own(app, db, host, make_bergen):
    check_in(app, tablet_at(app, db, make_bergen()), host, "412 34 901")
    keys = {key for (key,) in db.execute("SELECT key FROM counters WHERE key LIKE 'budget%'")}
    assert keys == {"budget-hour", "budget-day"}


def test_a_locations_budget_counters_name_the_location(app, db, host, make_bergen):
    bergen = make_bergen(sms_budget_per_hour=5, sms_budget_per_day=50)
    check_in(app, tablet_at(app, db, bergen), host, "412 34 901")
    keys = {key for (key,) in db.execute("SELECT key FROM counters WHERE key LIKE 'budget%'")}
    assert keys == {"budget-hour", "budget-day", f"budget-hour:location-{bergen.id}",
                    f"budget-day:location-{bergen.id}"}


# The tablet limit follows the location; number limits do not


def test_a_locations_tablet_limit_overrides_the_installations(make_app):
    app = make_app(CHECKINS_PER_DEVICE_PER_HOUR=2)
    db = database(app)
    host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
    bergen = tablet_at(app, db, locations.get_location(db, locations.save_location(
        db, None, {"name": "Bergen", "checkins_per_device_per_hour": 1})))
    main = tablet_at(app, db, locations.get_location(db, locations.DEFAULT_ID), name="Lobby")
    statuses = [check_in(app, tablet, host, phone).status_code for tablet, phone in (
        (bergen, "412 34 901"), (bergen, "412 34 902"), (main, "412 34 903"), (main, "412 34 904"))]
    assert statuses == [302, 429, 302, 302]
    assert db.execute("SELECT reason, location_id FROM refusals").fetchall() == [("device_limit", 2)]


def test_setting_reads_a_locations_tablet_limit_but_not_its_budget(app, db, make_bergen):
    bergen = make_bergen(checkins_per_device_per_hour=9, sms_budget_per_hour=3)
    with app.test_request_context(), locations.at(bergen):
        assert (setting("CHECKINS_PER_DEVICE_PER_HOUR"), setting("SMS_BUDGET_PER_HOUR")) == (9, 40)
        assert setting("COMPANY_NAME") == "Velkommen"  # a text override it leaves empty follows the installation


def test_a_number_is_limited_across_locations(make_app):
    app = make_app(SMS_PER_NUMBER_PER_HOUR=1)
    db = database(app)
    host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
    bergen = tablet_at(app, db, locations.get_location(db, locations.save_location(db, None, {"name": "Bergen"})))
    main = tablet_at(app, db, locations.get_location(db, locations.DEFAULT_ID), name="Lobby")
    assert check_in(app, bergen, host, "412 34 901").status_code == 302
    assert check_in(app, main, host, "412 34 901").status_code == 429


# A location's logo on its tablets


@pytest.mark.parametrize("data, mimetype", [(PNG, "image/png"), (SVG, "image/svg+xml")])
def test_a_tablet_shows_its_locations_logo_and_another_tablet_does_not(app, db, client, make_bergen, data,
                                                                        mimetype):
    bergen = make_bergen(company_name="Velkommen Vest")
    locations.save_location(db, bergen.id, {"name": "Bergen", "company_name": "Velkommen Vest",
                                            "logo": locations.Logo(data, mimetype)})
    tablet = tablet_at(app, db, bergen)
    image = get_page(tablet, "/kiosk/").select_one("header .brand img.logo")
    assert (image["src"], image["alt"]) == ("/kiosk/logo", "Velkommen Vest")
    response = tablet.get("/kiosk/logo")
    assert (response.status_code, response.mimetype, response.data) == (200, mimetype, data)
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert get_page(client, "/kiosk/").select_one("header .brand img.logo") is None  # the main office's tablet
    assert client.get("/kiosk/logo").status_code == 404
    assert app.test_client().get("/kiosk/logo").status_code == 404  # an unpaired browser


def test_a_tablet_of_a_location_without_a_logo_shows_the_installations(make_app, tmp_path):
    (tmp_path / "logo.svg").write_bytes(SVG)
    app = make_app(LOGO_FILE=str(tmp_path / "logo.svg"))
    db = database(app)
    bergen_id = locations.save_location(db, None, {"name": "Bergen", "logo": locations.Logo(PNG, "image/png")})
    main = tablet_at(app, db, locations.get_location(db, locations.DEFAULT_ID), name="Lobby")
    bergen = tablet_at(app, db, locations.get_location(db, bergen_id))
    assert (main.get("/kiosk/logo").data, bergen.get("/kiosk/logo").data) == (SVG, PNG)


def test_a_locations_logo_unchanged_since_the_last_fetch_is_not_sent_again(app, db, make_bergen):
    bergen = make_bergen(logo=locations.Logo(PNG, "image/png"))
    tablet = tablet_at(app, db, bergen)
    etag = tablet.get("/kiosk/logo").headers["ETag"]
    response = tablet.get("/kiosk/logo", headers={"If-None-Match": etag})
    assert (response.status_code, response.data) == (304, b"")


def test_the_logo_bytes_are_not_read_with_every_location(db, make_bergen):
    bergen = make_bergen(logo=locations.Logo(PNG, "image/png"))
    assert (bergen.has_logo, bergen.logo_type) == (True, "image/png")
    assert not hasattr(bergen, "logo")
    assert locations.logo(db, bergen.id) == (PNG, "image/png")
    assert locations.logo(db, locations.DEFAULT_ID) is None
