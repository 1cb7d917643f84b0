"""Locations in the admin area (issue 16, first slice): the list, adding and changing a location, and a tablet's
location chosen when its pairing code is made. How a tablet follows its location: tests/test_locations.py."""

import pytest

from kiosk.db import get_db
from kiosk.devices import pairing
from kiosk.locations import locations
from tests.helpers import admin_client, csrf_token, get_page, pair_tablet, parse_page

EMPTY_FORM = {"name": "", "timezone": "", "default_locale": "", "reception_phone": "", "welcome_text": "",
              "company_name": ""}


@pytest.fixture
def admin(app):
    """A test client signed in as an admin."""
    return admin_client(app)


@pytest.fixture
def bergen(db):
    """The id of a second location, Bergen, with its own time zone and language."""
    return locations.save_location(db, None, {"name": "Bergen", "timezone": "Europe/London", "default_locale": "sv"})


def post_location(client, url, **fields):
    """Send the location form at `url` with `fields` (the others empty); returns the response."""
    page = get_page(client, url)
    return client.post(url, data={"csrf_token": csrf_token(page), **EMPTY_FORM, **fields})


def pair_from_admin(client, **fields):
    """Make a pairing code on the kiosks page; returns the parsed page that shows it."""
    page = get_page(client, "/admin/kiosks")
    response = client.post("/admin/kiosks/pair", data={"csrf_token": csrf_token(page), **fields})
    assert response.status_code == 200, response.data[:500]
    return parse_page(response)


def row_texts(page, name):
    row = next(tr for tr in page.select("#locations tbody tr") if tr.th.text.strip() == name)
    return [td.text.strip() for td in row.select("td")]


def location_of(db, device):
    return db.execute("SELECT location_id FROM devices WHERE id = ?", [device.id]).fetchone()[0]


# The list


def test_the_list_shows_the_main_office_following_the_installations_settings(admin):
    page = get_page(admin, "/admin/locations")
    assert [th.text.strip() for th in page.select("#locations tbody th")] == ["Main office"]
    assert row_texts(page, "Main office") == [
        "As the installation (Europe/Oslo)", "As the installation (English)", "As the installation (+4741000000)",
        "As the installation (Velkommen)", "0"]


def test_the_list_says_when_the_installation_has_no_value_either(make_app):
    admin = admin_client(make_app(RECEPTION_PHONE=None))
    assert row_texts(get_page(admin, "/admin/locations"), "Main office")[2] == "As the installation (none)"


def test_the_list_counts_each_locations_tablets_that_are_not_revoked(app, admin, db, bergen):
    for name in ("Lobby", "Canteen", "Old tablet"):
        pair_tablet(app, name=name)
    db.execute("UPDATE devices SET location_id = ? WHERE name = 'Canteen'", [bergen])
    db.execute("UPDATE devices SET revoked_at = '2026-01-01T00:00:00+00:00' WHERE name = 'Old tablet'")
    page = get_page(admin, "/admin/locations")
    assert (row_texts(page, "Main office")[-1], row_texts(page, "Bergen")[-1]) == ("1", "1")


def test_each_location_links_to_its_form(admin, bergen):
    links = get_page(admin, "/admin/locations").select("#locations tbody th a")
    assert [(a.text, a["href"]) for a in links] == [("Bergen", f"/admin/locations/{bergen}"),
                                                    ("Main office", "/admin/locations/1")]


# Adding and changing


def test_an_added_location_is_saved_with_its_own_settings_and_listed(admin, db):
    response = post_location(admin, "/admin/locations/new", name=" Bergen ", timezone="Europe/London",
                             default_locale="sv", reception_phone="410 00 555", welcome_text=" Velkommen til Bryggen! ",
                             company_name="Velkommen Vest")
    assert response.headers["Location"] == "/admin/locations"
    [bergen] = [location for location in locations.list_locations(db) if location.id != 1]
    assert bergen == locations.Location(id=bergen.id, name="Bergen", timezone="Europe/London", default_locale="sv",
                                        reception_phone="+4741000555", welcome_text="Velkommen til Bryggen!",
                                        company_name="Velkommen Vest")
    page = get_page(admin, "/admin/locations")
    assert [p.text.strip() for p in page.select(".messages p")] == ["The location is saved."]
    assert row_texts(page, "Bergen") == ["Europe/London", "Svenska", "+4741000555", "Velkommen Vest", "0"]


def test_the_form_offers_common_time_zones_and_says_what_an_empty_field_follows(admin):
    page = get_page(admin, "/admin/locations/new")
    assert page.select_one("#timezone")["list"] == "timezones"
    assert "Europe/Oslo" in [option["value"] for option in page.select("datalist#timezones option")]
    follows = "Leave it empty to follow the installation’s setting:"
    assert page.select_one("#company_name-hint").text == f"{follows} Velkommen."
    assert page.select_one("#welcome_text-hint").text.endswith(f"{follows} none.")  # the installation has none
    assert page.select_one("#default_locale option").text == "As the installation (English)"


@pytest.mark.parametrize("name", ["Main office", "MAIN OFFICE", " main Office "])
def test_a_taken_name_in_any_case_is_refused_in_plain_words(admin, db, name):
    response = post_location(admin, "/admin/locations/new", name=name)
    assert response.status_code == 422
    assert parse_page(response).select_one("#name-error").text == (
        f"There is a location called {name.strip()} already.")
    assert locations.count(db) == 1


def test_a_location_may_change_the_case_of_its_own_name(admin, db):
    assert post_location(admin, "/admin/locations/1", name="MAIN OFFICE").status_code == 302
    assert locations.get_location(db, 1).name == "MAIN OFFICE"


@pytest.mark.parametrize("field, value, message", [
    ("name", " ", "Enter the location’s name."),
    ("name", "x" * 101, "Use at most 100 characters."),
    ("timezone", "Europe/Olso", "Enter a time zone name, such as Europe/Oslo."),
    ("timezone", "Europe", "Enter a time zone name, such as Europe/Oslo."),  # a folder of zones
    ("timezone", "../../etc/passwd", "Enter a time zone name, such as Europe/Oslo."),
    ("reception_phone", "22 12 34 56", "Enter a mobile number. We can only send text messages to mobile phones."),
    ("reception_phone", "12", "This number is too short. Check that you typed all the digits."),
    ("default_locale", "xx", "Not a valid choice."),
    ("welcome_text", "x" * 301, "Use at most 300 characters."),
    ("company_name", "x" * 101, "Use at most 100 characters."),
])
def test_a_bad_field_is_refused_next_to_it_and_nothing_is_saved(admin, db, field, value, message):
    response = post_location(admin, "/admin/locations/new", **{"name": "Bergen", field: value})
    assert response.status_code == 422
    page = parse_page(response)
    assert page.select_one(f"#{field}-error").text == message
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert locations.count(db) == 1


def test_editing_shows_the_locations_own_values(admin, bergen):
    page = get_page(admin, f"/admin/locations/{bergen}")
    assert page.select_one("h1").text.strip() == "Edit location"
    assert (page.select_one("#name")["value"], page.select_one("#timezone")["value"]) == ("Bergen", "Europe/London")
    assert page.select_one("#default_locale option[selected]")["value"] == "sv"


def test_an_emptied_field_follows_the_installation_again(admin, db, bergen):
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", timezone="")
    assert response.headers["Location"] == "/admin/locations"
    location = locations.get_location(db, bergen)
    assert (location.timezone, location.default_locale) == (None, None)
    assert row_texts(get_page(admin, "/admin/locations"), "Bergen")[:2] == [
        "As the installation (Europe/Oslo)", "As the installation (English)"]


def test_adding_and_editing_are_audited_with_ids_only(admin, db):
    post_location(admin, "/admin/locations/new", name="Kari Kanarifugl's office")
    post_location(admin, "/admin/locations/1", name="Oslo", company_name="Fjord AS", reception_phone="410 00 555")
    events = [(row["action"], row["target"]) for row in db["audit_events"].rows_where("action != 'sign_in'")]
    assert events == [("location_created", "location:2"), ("location_changed", "location:1")]
    log = get_page(admin, "/admin/audit").select("#audit-events tbody tr")
    assert [row.select("td")[2].text for row in log[:2]] == ["location changed", "location added"]


def test_an_unknown_location_is_not_found(admin):
    assert admin.get("/admin/locations/99").status_code == 404


@pytest.mark.parametrize("url", ["/admin/locations", "/admin/locations/new", "/admin/locations/1"])
def test_the_location_pages_need_a_signed_in_admin(app, url):
    response = app.test_client().get(url)
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/login")


@pytest.mark.parametrize("url", ["/admin/locations/new", "/admin/locations/1"])
def test_a_location_cannot_be_saved_without_signing_in(app, db, url):
    client = app.test_client()
    page = get_page(client, "/admin/login")
    response = client.post(url, data={"csrf_token": csrf_token(page), **EMPTY_FORM, "name": "Changed"})
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/login")
    assert [location.name for location in locations.list_locations(db)] == ["Main office"]


# Pairing a tablet at a location


def test_with_two_locations_pairing_asks_where_and_the_tablet_is_paired_there(app, admin, db, bergen):
    page = get_page(admin, "/admin/kiosks")
    assert [option.text for option in page.select("#location_id option")] == ["Bergen", "Main office"]
    shown = pair_from_admin(admin, name="Bryggen", location_id=str(bergen))
    assert shown.select_one("#pairing-location").text == "Location: Bergen"
    with app.app_context():
        device, _ = pairing.pair(get_db(), shown.select_one("#pairing-code").text.strip())
    assert location_of(db, device) == bergen == device.location_id


def test_with_one_location_pairing_asks_nothing_and_pairs_at_the_main_office(app, admin, db):
    assert get_page(admin, "/admin/kiosks").select_one("#location_id") is None
    shown = pair_from_admin(admin, name="Lobby")
    assert shown.select_one("#pairing-location") is None
    with app.app_context():
        device, _ = pairing.pair(get_db(), shown.select_one("#pairing-code").text.strip())
    assert location_of(db, device) == locations.DEFAULT_ID


def test_pairing_at_a_location_that_does_not_exist_is_refused(admin, db, bergen):
    page = get_page(admin, "/admin/kiosks")
    response = admin.post("/admin/kiosks/pair", data={"csrf_token": csrf_token(page), "name": "Lobby",
                                                      "location_id": "99"})
    assert response.status_code == 422
    assert parse_page(response).select_one("#location_id-error").text == "Not a valid choice."
    assert db["pairing_codes"].count == 0


def test_a_pairing_code_made_outside_the_admin_area_pairs_at_the_main_office(app, db):
    device, _ = pair_tablet(app)
    assert location_of(db, device) == locations.DEFAULT_ID


def test_the_kiosks_list_names_each_tablets_location_only_when_there_are_several(app, admin, db):
    pair_tablet(app, name="Lobby")
    headers = [th.text for th in get_page(admin, "/admin/kiosks").select("thead th")]
    assert "Location" not in headers
    locations.save_location(db, None, {"name": "Bergen"})
    page = get_page(admin, "/admin/kiosks")
    assert [th.text for th in page.select("thead th")][:2] == ["Name", "Location"]
    assert [td.text for td in page.select("tbody tr")[0].select("td")][0] == "Main office"
