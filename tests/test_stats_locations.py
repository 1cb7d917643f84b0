"""Statistics per location and in total (issue 16): each location's counts on its own clock, the total on the
installation's (Europe/Oslo here), a location admin's page of their location only, and the CSV of the same choice.
The counts themselves: tests/test_admin_pages.py."""

import csv
import io
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from kiosk.admin import stats
from kiosk.locations.locations import Location, save_location
from kiosk.messaging import inbound
from tests.helpers import admin_client, get_page

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 13:00 in Oslo, 07:00 in New York: the same day in both
TODAY = "2026-03-02"
NIGHT = "2026-03-02T02:30:00+00:00"  # 03:30 in Oslo, but 21:30 the evening before in New York


@pytest.fixture(autouse=True)
def frozen():
    """Every test at NOON, app and sign-in included, so the days are known."""
    with freeze_time(NOON, ignore=["kiosk.messaging.notify"]):
        yield


@pytest.fixture
def new_york(db):
    """The id of a second location, New York, on its own clock."""
    return save_location(db, None, {"name": "New York", "timezone": "America/New_York"})


@pytest.fixture
def admin(app):
    """A test client signed in as an admin of the whole installation."""
    return admin_client(app)


@pytest.fixture
def new_york_admin(app, new_york):
    """A test client signed in as an admin of New York only."""
    return admin_client(app, username="nora", location_id=new_york)


def add_visit(db, created_at, *, location_id=1, statuses=(), acknowledged_at=None):
    visit_id = f"v{db['visits'].count}"
    db["visits"].insert({"id": visit_id, "host_id": 1, "created_at": created_at, "location_id": location_id,
                         "expires_at": "2999-01-01T00:00:00+00:00", "reply_asked": 1,
                         "acknowledged_at": acknowledged_at})
    for recipient, status in statuses:
        db["messages"].insert({"visit_id": visit_id, "recipient": recipient, "status": status})


def add_visits(db, new_york):
    """Two check-ins at the main office, one in New York, at 10:00 UTC today, with their SMS."""
    for _ in range(2):
        add_visit(db, "2026-03-02T10:00:00+00:00", statuses=[("host", "delivered")])
    add_visit(db, "2026-03-02T10:00:00+00:00", location_id=new_york, statuses=[("host", "failed")],
              acknowledged_at="2026-03-02T10:04:00+00:00")


def cells(page, table_id, label):
    row = next(tr for tr in page.select(f"#{table_id} tbody tr") if tr.th and tr.th.text.strip() == label)
    return [td.text.strip() for td in row.select("td")]


def read_csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


# Per location and in total


def test_each_location_counts_its_own_check_ins_and_all_locations_count_their_sum(admin, db, new_york):
    add_visits(db, new_york)
    counts = {query: cells(get_page(admin, f"/admin/statistics{query}"), "checkins-per-day", TODAY)[0]
              for query in ("?location=1", f"?location={new_york}", "", "?location=")}
    assert counts == {"?location=1": "2", f"?location={new_york}": "1", "": "3", "?location=": "3"}


def test_text_messages_refusals_and_host_replies_are_counted_per_location(admin, db, new_york):
    add_visits(db, new_york)
    db["refusals"].insert_all([{"hour": "2026-03-02T09", "reason": "too_fast", "location_id": 1, "count": 4},
                               {"hour": "2026-03-02T09", "reason": "too_fast", "location_id": new_york, "count": 1}])
    page = get_page(admin, f"/admin/statistics?location={new_york}")
    assert cells(page, "sms-per-day", TODAY) == ["0", "0", "1", "0"]  # sent, delivered, failed, undelivered
    assert cells(page, "refusals", "too_fast") == ["1"]
    assert cells(page, "replies-per-day", TODAY) == ["1", "1", "100 %", "4.0"]
    total = get_page(admin, "/admin/statistics")
    assert cells(total, "sms-per-day", TODAY) == ["0", "2", "1", "0"]
    assert cells(total, "refusals", "too_fast") == ["5"]
    assert cells(total, "replies-per-day", TODAY) == ["3", "1", "33 %", "4.0"]


def test_a_location_on_another_clock_counts_a_night_visit_on_its_own_day_and_hour(admin, db, new_york):
    add_visit(db, NIGHT, location_id=new_york)
    page = get_page(admin, f"/admin/statistics?location={new_york}")
    assert cells(page, "checkins-per-day", "2026-03-01") == ["1"]
    assert cells(page, "checkins-per-day", TODAY) == ["0"]
    assert cells(page, "checkins-per-hour", "21:00") == ["1"]
    assert "(America/New_York)" in page.select_one("main").text
    total = get_page(admin, "/admin/statistics")  # on the installation's clock
    assert cells(total, "checkins-per-day", TODAY) == ["1"]
    assert cells(total, "checkins-per-hour", "03:00") == ["1"]
    assert "(Europe/Oslo)" in total.select_one("main").text


def test_the_same_night_visit_at_a_location_on_the_installations_clock_falls_on_today(admin, db, new_york):
    add_visit(db, NIGHT)
    page = get_page(admin, "/admin/statistics?location=1")
    assert cells(page, "checkins-per-day", TODAY) == ["1"]
    assert cells(page, "checkins-per-hour", "03:00") == ["1"]


def test_inbound_replies_that_matched_a_location_s_visits_are_its_own(admin, db, new_york):
    db["reply_counts"].insert_all([
        {"hour": "2026-03-02T09", "outcome": "acknowledged", "count": 2, "location_id": new_york},
        {"hour": "2026-03-02T09", "outcome": "acknowledged", "count": 1, "location_id": 1},
        {"hour": "2026-03-02T09", "outcome": "keyword", "count": 4, "location_id": 0}])  # matched no visit
    page = get_page(admin, f"/admin/statistics?location={new_york}")
    assert cells(page, "reply-outcomes", "On the way") == ["2"]
    assert "STOP, START or HELP (left to Twilio)" not in page.select_one("#reply-outcomes").text
    assert "counted under all locations" in page.select_one("#reply-outcomes-installation").text
    total = get_page(admin, "/admin/statistics")
    assert cells(total, "reply-outcomes", "On the way") == ["3"]
    assert cells(total, "reply-outcomes", "STOP, START or HELP (left to Twilio)") == ["4"]
    assert total.select_one("#reply-outcomes-installation") is None


def test_an_inbound_reply_is_counted_at_its_visit_s_location(app, db, new_york):
    add_visit(db, "2026-03-02T10:00:00+00:00", location_id=new_york)
    with app.app_context():
        inbound.count(db, "acknowledged", "v0")
        inbound.count(db, "not_a_host")
    assert sorted(db.execute("SELECT outcome, location_id, count FROM reply_counts").fetchall()) == [
        ("acknowledged", new_york, 1), ("not_a_host", 0, 1)]


# Choosing a location


def test_an_installation_admin_chooses_all_locations_or_one_and_the_csv_link_follows(admin, new_york):
    page = get_page(admin, "/admin/statistics")
    options = page.select("form#statistics-location select[name=location] option")
    assert [(option["value"], option.text) for option in options] == [
        ("", "All locations"), ("1", "Main office"), (str(new_york), "New York")]
    assert page.select_one("option[selected]")["value"] == ""
    assert page.select_one("form#statistics-location")["method"] == "get"
    assert page.select_one("a[download]")["href"] == "/admin/statistics.csv"
    chosen = get_page(admin, f"/admin/statistics?location={new_york}")
    assert chosen.select_one("option[selected]")["value"] == str(new_york)
    assert chosen.select_one("a[download]")["href"] == f"/admin/statistics.csv?location={new_york}"


def test_an_installation_with_one_location_shows_no_choice_and_counts_everything(admin, db):
    add_visit(db, "2026-03-02T10:00:00+00:00")
    page = get_page(admin, "/admin/statistics")
    assert page.select_one("#statistics-location") is None and "All locations" not in page.text
    assert page.select_one("a[download]")["href"] == "/admin/statistics.csv"
    assert cells(page, "checkins-per-day", TODAY) == ["1"]
    assert page.select_one("#reply-outcomes-installation") is None


@pytest.mark.parametrize("url", ["/admin/statistics", "/admin/statistics.csv"])
@pytest.mark.parametrize("location", ["999", "0", "-1", "one", "99999999999999999999999"])
def test_an_unknown_location_answers_404(admin, url, location):
    assert admin.get(f"{url}?location={location}").status_code == 404


# A location admin


def test_a_location_admin_sees_their_location_only_without_a_choice(new_york_admin, db, new_york):
    add_visits(db, new_york)
    page = get_page(new_york_admin, "/admin/statistics")
    assert page.select_one("select") is None and "All locations" not in page.text
    assert "Main office" not in page.text
    assert page.select_one("#statistics-location").text == "Location: New York"
    assert cells(page, "checkins-per-day", TODAY) == ["1"]
    assert page.select_one("a[download]")["href"] == f"/admin/statistics.csv?location={new_york}"


@pytest.mark.parametrize("url", ["/admin/statistics", "/admin/statistics.csv"])
def test_a_location_admin_asking_for_another_location_gets_404(new_york_admin, url):
    assert new_york_admin.get(f"{url}?location=1").status_code == 404


def test_a_location_admin_may_ask_for_their_own_location_by_its_id(new_york_admin, db, new_york):
    add_visits(db, new_york)
    page = get_page(new_york_admin, f"/admin/statistics?location={new_york}")
    assert cells(page, "checkins-per-day", TODAY) == ["1"]


def test_a_location_admins_csv_counts_their_location_only(new_york_admin, db, new_york):
    add_visits(db, new_york)
    response = new_york_admin.get("/admin/statistics.csv")
    assert response.headers["Content-Disposition"] == f"attachment; filename=statistics-New_York-{TODAY}.csv"
    assert ["checkins_per_day", TODAY, "", "1"] in read_csv(response)


# The CSV


def test_the_csv_of_one_location_counts_it_alone_and_its_name_says_which(admin, db, new_york):
    add_visits(db, new_york)
    db["reply_counts"].insert({"hour": "2026-03-02T09", "outcome": "acknowledged", "count": 2})
    response = admin.get(f"/admin/statistics.csv?location={new_york}")
    assert response.headers["Content-Disposition"] == f"attachment; filename=statistics-New_York-{TODAY}.csv"
    rows = read_csv(response)
    assert rows[0] == ["table", "label", "status", "count"]
    assert ["checkins_per_day", TODAY, "", "1"] in rows
    assert [row for row in rows if row[0] == "sms_per_day" and row[3] != "0"] == [
        ["sms_per_day", TODAY, "failed", "1"]]
    assert [row for row in rows if row[0] == "replies"] == []  # inbound SMS have no location
    events = list(db["audit_events"].rows_where("action = 'statistics_exported'"))
    assert [(event["target"], event["location_id"]) for event in events] == [(None, new_york)]


def test_the_csv_of_all_locations_keeps_its_name_and_counts_everything(admin, db, new_york):
    add_visits(db, new_york)
    db["reply_counts"].insert({"hour": "2026-03-02T09", "outcome": "acknowledged", "count": 2})
    response = admin.get("/admin/statistics.csv")
    assert response.headers["Content-Disposition"] == f"attachment; filename=statistics-{TODAY}.csv"
    rows = read_csv(response)
    assert ["checkins_per_day", TODAY, "", "3"] in rows and ["replies", "acknowledged", "", "2"] in rows
    assert [event["target"] for event in db["audit_events"].rows_where("action = 'statistics_exported'")] == [None]


def test_the_csv_of_a_location_on_another_clock_counts_its_own_days(admin, db, new_york):
    add_visit(db, NIGHT, location_id=new_york)
    rows = read_csv(admin.get(f"/admin/statistics.csv?location={new_york}"))
    assert ["checkins_per_day", "2026-03-01", "", "1"] in rows and ["checkins_per_day", TODAY, "", "0"] in rows
    assert ["checkins_per_hour", "21:00", "", "1"] in rows


@pytest.mark.parametrize("name, filename", [("Bergen", "statistics-Bergen-2026-03-02.csv"),
                                            ("Ålesund kontor", "statistics-Alesund_kontor-2026-03-02.csv"),
                                            ("Øst/../etc", "statistics-st_.._etc-2026-03-02.csv"),
                                            ("ÆØ", "statistics-7-2026-03-02.csv")])
def test_a_locations_csv_is_named_in_ascii_or_by_its_id(name, filename):
    figures = stats.Figures(Location(7, name), "Europe/Oslo", [stats.Count(TODAY, 0)], [], [], [], [], [])
    assert stats.csv_filename(figures) == filename
