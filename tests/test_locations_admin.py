"""Locations in the admin area (issue 16): the list, adding, changing and deleting a location, its own limits and
logo, what a location admin may do, and a tablet's location chosen when its pairing code is made. How a tablet
follows its location: tests/test_locations.py; its budget, limit and logo at work: tests/test_locations_guard.py."""

import io

import pytest

from kiosk.db import get_db
from kiosk.devices import pairing
from kiosk.locations import locations
from tests.helpers import (
    admin_client,
    create_admin,
    create_host,
    create_school_visit,
    csrf_token,
    get_page,
    pair_tablet,
    parse_page,
)

EMPTY_FORM = {"name": "", "timezone": "", "default_locale": "", "reception_phone": "", "welcome_text": "",
              "company_name": "", "checkins_per_device_per_hour": "", "sms_budget_per_hour": "",
              "sms_budget_per_day": ""}


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
    ("checkins_per_device_per_hour", "0", "Enter a whole number, 1 or more."),
    ("sms_budget_per_hour", "-1", "Enter a whole number, 0 or more."),
    ("sms_budget_per_day", "ten", "Not a valid integer value."),
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


# Its own limits and hosts


def test_the_form_says_what_each_limit_follows(admin):
    page = get_page(admin, "/admin/locations/new")
    assert page.select_one("form[action='/admin/locations/new']")["enctype"] == "multipart/form-data"
    assert page.select_one("#checkins_per_device_per_hour-hint").text.endswith(
        "Leave it empty to follow the installation’s setting: 60.")
    assert "for all locations together still holds: 40 per hour." in page.select_one("#sms_budget_per_hour-hint").text
    assert "for all locations together still holds: 200 per day." in page.select_one("#sms_budget_per_day-hint").text
    assert page.select_one("#remove_logo") is None  # nothing to remove yet


def test_a_locations_own_limits_and_hosts_are_saved_and_shown_again(admin, db, bergen):
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", hosts_only="y",
                             checkins_per_device_per_hour="20", sms_budget_per_hour="0", sms_budget_per_day="30")
    assert response.status_code == 302
    location = locations.get_location(db, bergen)
    assert (location.hosts_only, location.checkins_per_device_per_hour, location.sms_budget_per_hour,
            location.sms_budget_per_day) == (True, 20, 0, 30)
    page = get_page(admin, f"/admin/locations/{bergen}")
    assert page.select_one("#hosts_only").has_attr("checked")
    assert [page.select_one(f"#{name}")["value"] for name in (
        "checkins_per_device_per_hour", "sms_budget_per_hour", "sms_budget_per_day")] == ["20", "0", "30"]


def test_emptied_limits_follow_the_installation_again(admin, db):
    bergen = locations.save_location(db, None, {"name": "Bergen", "hosts_only": True, "sms_budget_per_day": 5,
                                                "checkins_per_device_per_hour": 9})
    post_location(admin, f"/admin/locations/{bergen}", name="Bergen")
    location = locations.get_location(db, bergen)
    assert (location.hosts_only, location.checkins_per_device_per_hour, location.sms_budget_per_day) == (
        False, None, None)


# Its logo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg" '
       b'xmlns:xlink="http://www.w3.org/1999/xlink"><defs><linearGradient id="g"/></defs>'
       b'<rect id="r" fill="url(#g)" width="9" height="9"/><use href="#r"/><use xlink:href=\'#r\'/></svg>')
NOT_AN_IMAGE = "Choose an SVG, PNG, JPEG or WebP image."
UNSAFE_SVG = ("This SVG holds a script or loads something from elsewhere. Save it as a plain picture and choose it "
              "again.")


def upload(data, filename):
    return io.BytesIO(data), filename


@pytest.mark.parametrize("data, filename, mimetype", [
    (PNG, "logo.png", "image/png"), (JPEG, "Logo.JPG", "image/jpeg"), (JPEG, "logo.jpeg", "image/jpeg"),
    (WEBP, "logo.webp", "image/webp"), (SVG, "logo.svg", "image/svg+xml"),
])
def test_a_logo_is_saved_with_its_type(admin, db, bergen, data, filename, mimetype):
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", logo=upload(data, filename))
    assert response.status_code == 302
    assert locations.logo(db, bergen) == (data, mimetype)


def test_a_logo_of_the_largest_size_is_taken_and_one_byte_more_is_not(admin, db, bergen):
    largest = PNG + b"\x00" * (200 * 1024 - len(PNG))
    assert post_location(admin, f"/admin/locations/{bergen}", name="Bergen",
                         logo=upload(largest, "logo.png")).status_code == 302
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen",
                             logo=upload(largest + b"\x00", "logo.png"))
    assert response.status_code == 422
    assert parse_page(response).select_one("#logo-error").text == (
        "The logo is larger than 200 KB. Choose a smaller file.")
    assert locations.logo(db, bergen).data == largest


@pytest.mark.parametrize("data, filename", [
    (b"GIF89a" + b"\x00" * 64, "logo.gif"),
    (b"GIF89a" + b"\x00" * 64, "logo.png"),  # the name lies
    (PNG, "logo.svg"),
    (SVG, "logo.png"),
    (PNG, "logo"),
    (b"<html><body>Fjord AS</body></html>", "logo.svg"),
    (b"\xff\xfe<\x00s\x00v\x00g\x00", "logo.svg"),  # not UTF-8
])
def test_a_file_that_is_not_a_logo_of_its_named_type_is_refused(admin, db, bergen, data, filename):
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", logo=upload(data, filename))
    assert response.status_code == 422
    assert parse_page(response).select_one("#logo-error").text == NOT_AN_IMAGE
    assert locations.logo(db, bergen) is None


@pytest.mark.parametrize("inside", [
    '<script>alert(1)</script>',
    '<SCRIPT xlink:href="https://evil.example/x.js"/>',
    '<rect width="9" height="9" onload="alert(1)"/>',
    '<rect width="9" height="9" ONCLICK = "alert(1)"/>',
    '<a href="javascript:alert(1)"><rect width="9" height="9"/></a>',
    '<a href="&#106;avascript:alert(1)"><rect width="9" height="9"/></a>',
    '<image href="https://evil.example/track.png"/>',
    '<image xlink:href="http://evil.example/track.png"/>',
    '<image href="data:image/png;base64,AAAA"/>',
    '<image href="other.png"/>',
    '<rect style="fill: url(https://evil.example/x)"/>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">Hi</div></foreignObject>',
])
def test_an_svg_that_could_run_or_load_something_is_refused(admin, db, bergen, inside):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{inside}</svg>'.encode()
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", logo=upload(svg, "logo.svg"))
    assert response.status_code == 422
    assert parse_page(response).select_one("#logo-error").text == UNSAFE_SVG
    assert locations.logo(db, bergen) is None


def test_an_svg_with_entities_of_its_own_is_refused(admin, db, bergen):
    svg = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>'
    response = post_location(admin, f"/admin/locations/{bergen}", name="Bergen", logo=upload(svg, "logo.svg"))
    assert parse_page(response).select_one("#logo-error").text == NOT_AN_IMAGE
    assert locations.logo(db, bergen) is None


def test_saving_without_a_new_logo_keeps_the_old_one_and_remove_removes_it(admin, db, bergen):
    locations.save_location(db, bergen, {"name": "Bergen", "logo": locations.Logo(PNG, "image/png")})
    post_location(admin, f"/admin/locations/{bergen}", name="Bergen", company_name="Vest AS")
    assert locations.logo(db, bergen) == (PNG, "image/png")
    page = get_page(admin, f"/admin/locations/{bergen}")
    assert "It has a logo of its own" in page.select_one("#logo-hint").text
    post_location(admin, f"/admin/locations/{bergen}", name="Bergen", remove_logo="y")
    assert locations.logo(db, bergen) is None
    assert not locations.get_location(db, bergen).has_logo


def test_a_new_logo_wins_over_ticking_remove(admin, db, bergen):
    locations.save_location(db, bergen, {"name": "Bergen", "logo": locations.Logo(PNG, "image/png")})
    post_location(admin, f"/admin/locations/{bergen}", name="Bergen", remove_logo="y", logo=upload(SVG, "logo.svg"))
    assert locations.logo(db, bergen) == (SVG, "image/svg+xml")


# Deleting a location


def ties(page):
    return [li.text.strip() for li in page.select("#location-ties li")]


def test_a_location_nothing_belongs_to_is_deleted_after_asking_with_its_hosts_memberships(admin, db, bergen):
    host = create_host(db)
    db["host_locations"].insert_all([{"host_id": host.id, "location_id": bergen},
                                     {"host_id": host.id, "location_id": 1}])
    page = get_page(admin, f"/admin/locations/{bergen}/delete")
    assert page.select_one("h1").text == "Delete Bergen?"
    assert page.select_one("#location-sole-hosts") is None
    response = admin.post(f"/admin/locations/{bergen}/delete", data={"csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/locations"
    assert locations.get_location(db, bergen) is None
    assert db.execute("SELECT host_id, location_id FROM host_locations").fetchall() == [(host.id, 1)]
    assert [p.text.strip() for p in get_page(admin, "/admin/locations").select(".messages p")] == [
        "The location Bergen is deleted."]
    assert db.execute("SELECT action, target FROM audit_events WHERE action = 'location_deleted'").fetchall() == [
        ("location_deleted", f"location:{bergen}")]


def test_the_edit_page_links_to_deleting(admin, bergen):
    link = get_page(admin, f"/admin/locations/{bergen}").select_one("a.danger")
    assert link["href"] == f"/admin/locations/{bergen}/delete"


def test_deleting_says_which_hosts_then_belong_to_every_location(admin, db, bergen):
    host = create_host(db)
    db["host_locations"].insert({"host_id": host.id, "location_id": bergen})
    page = get_page(admin, f"/admin/locations/{bergen}/delete")
    assert page.select_one("#location-sole-hosts").text.startswith("1 host belongs to this location alone")


def _tablet(app, db, location_id):
    device, _ = pair_tablet(app)
    db.execute("UPDATE devices SET location_id = ? WHERE id = ?", [location_id, device.id])


def _pairing_code(app, db, location_id):
    with app.app_context():
        pairing.create_pairing_code(get_db(), "Lobby", location_id=location_id)


def _school_visit(app, db, location_id):
    visit_id = create_school_visit(db, create_host(db))
    db.execute("UPDATE school_visits SET location_id = ? WHERE id = ?", [location_id, visit_id])


def _admin(app, db, location_id):
    create_admin(db, username="bo", location_id=location_id)


@pytest.mark.parametrize("tie, reason", [
    (_tablet, "1 tablet is paired there. Revoke it on the Kiosks page first."),
    (_pairing_code, "1 pairing code for it can still be used. It expires within 10 minutes."),
    (_school_visit, "1 school visit takes place there. Delete it on the School visits page, or wait until it is "
                    "removed after its day."),
    (_admin, "1 admin account belongs to this location. Remove it or move it to another location first."),
])
def test_a_location_something_belongs_to_is_not_deleted_and_the_page_says_why(app, admin, db, bergen, tie, reason):
    tie(app, db, bergen)
    page = get_page(admin, f"/admin/locations/{bergen}/delete")
    assert ties(page) == [reason]
    assert page.select_one(f"form[action='/admin/locations/{bergen}/delete']") is None
    response = admin.post(f"/admin/locations/{bergen}/delete", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 409
    assert ties(parse_page(response)) == [reason]
    assert locations.get_location(db, bergen) is not None


def test_revoked_tablets_and_used_or_expired_pairing_codes_do_not_keep_a_location(app, admin, db, bergen):
    _tablet(app, db, bergen)
    db.execute("UPDATE devices SET revoked_at = '2026-01-01T00:00:00+00:00'")
    _pairing_code(app, db, bergen)
    db.execute("UPDATE pairing_codes SET expires_at = '2000-01-01T00:00:00+00:00' WHERE used_at IS NULL")
    _pairing_code(app, db, bergen)
    db.execute("UPDATE pairing_codes SET used_at = '2000-01-01T00:00:00+00:00' WHERE used_at IS NULL "
               "AND expires_at > '2001'")
    page = get_page(admin, f"/admin/locations/{bergen}/delete")
    response = admin.post(f"/admin/locations/{bergen}/delete", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302, ties(parse_page(response))
    assert locations.get_location(db, bergen) is None
    get_page(admin, "/admin/kiosks")  # the revoked tablet's location is gone


def test_the_last_location_is_not_deleted(admin, db):
    page = get_page(admin, "/admin/locations/1/delete")
    assert ties(page) == ["It is the only location: an installation needs one."]
    assert admin.post("/admin/locations/1/delete", data={"csrf_token": csrf_token(page)}).status_code == 409
    assert locations.count(db) == 1


def test_deleting_needs_the_csrf_token(admin, db, bergen):
    assert admin.post(f"/admin/locations/{bergen}/delete").status_code == 400
    assert locations.get_location(db, bergen) is not None


def test_deleting_an_unknown_location_is_not_found(admin):
    assert admin.get("/admin/locations/99/delete").status_code == 404


# A location admin


@pytest.fixture
def bergen_admin(app, bergen):
    """A test client signed in as an admin of Bergen only."""
    return admin_client(app, username="bo", location_id=bergen)


def test_a_location_admin_sees_only_their_location_and_cannot_add_one(bergen_admin, bergen):
    page = get_page(bergen_admin, "/admin/locations")
    assert [th.text.strip() for th in page.select("#locations tbody th")] == ["Bergen"]
    assert page.select_one("a[href='/admin/locations/new']") is None
    assert page.select_one("a[href$='/delete']") is None
    assert get_page(bergen_admin, f"/admin/locations/{bergen}").select_one("a.danger") is None


def test_a_location_admin_may_change_their_own_location(bergen_admin, db, bergen):
    response = post_location(bergen_admin, f"/admin/locations/{bergen}", name="Bergen", sms_budget_per_hour="5")
    assert response.status_code == 302
    assert locations.get_location(db, bergen).sms_budget_per_hour == 5


@pytest.mark.parametrize("url", ["/admin/locations/new", "/admin/locations/1", "/admin/locations/1/delete",
                                 "/admin/locations/{bergen}/delete"])
def test_a_location_admin_cannot_add_delete_or_change_another_location(bergen_admin, db, bergen, url):
    url = url.format(bergen=bergen)
    assert bergen_admin.get(url).status_code == 404
    token = csrf_token(get_page(bergen_admin, f"/admin/locations/{bergen}"))
    response = bergen_admin.post(url, data={"csrf_token": token, **EMPTY_FORM, "name": "Changed"})
    assert response.status_code == 404
    assert [location.name for location in locations.list_locations(db)] == ["Bergen", "Main office"]
