"""Check-in on the visitor's own phone (issue 15): the tablet's QR code, the pass it gives a phone, and the phone's
form, host search and status, with the tablet's limits and abuse guard. The browser tests are in
tests/test_browser_phone.py."""

import base64
import re
import time
from unittest import mock

import pytest
import zxingcpp
from freezegun import freeze_time
from PIL import Image

from kiosk.db import get_db
from kiosk.devices import pairing
from tests.helpers import CANARY_NAME, create_host, files_under, get_page, pair_tablet, parse_page

PUBLIC_URL = "https://kiosk.example.org"


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_URL=PUBLIC_URL)


@pytest.fixture
def host(db):
    return create_host(db, name="Kari Nordmann", phone="+4741234567", language="en")


@pytest.fixture
def tablet(app):
    client = app.test_client()
    device, _ = pair_tablet(app, client)
    client.device = device
    return client


def code_url(tablet):
    """The URL in the tablet's QR code, read from the SVG as a camera reads it: drawn, then decoded."""
    svg = tablet.get("/kiosk/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    return decode_svg(svg.data)


def decode_svg(svg):
    # The SVG is one path of unit squares scaled by 6: draw it as a bitmap of its modules, like a photo would show.
    size = int(re.search(rb'width="(\d+)"', svg).group(1))
    image = Image.new("L", (size, size), 255)
    scale = int(re.search(rb'scale\((\d+)\)', svg).group(1))
    x = y = 0.0
    for command, number in re.findall(rb"([Mmhv])(-?[\d.]+(?: -?[\d.]+)?)", re.search(rb' d="([^"]+)"', svg).group(1)):
        values = [float(v) for v in number.split()]
        if command == b"M":
            x, y = values
        elif command == b"m":
            x, y = x + values[0], y + values[1]
        elif command == b"h":
            for column in range(int(values[0])):
                left, top = int((x + column) * scale), int((y - 0.5) * scale)
                image.paste(0, (left, top, left + scale, top + scale))
            x += values[0]
    [result] = zxingcpp.read_barcodes(image)
    return result.text


def scan(app, tablet):
    """A phone (a new browser) opens the tablet's code; returns the phone's client and the form page."""
    phone_client = app.test_client()
    response = phone_client.get(code_url(tablet).removeprefix(PUBLIC_URL))
    assert (response.status_code, response.headers["Location"]) == (303, "/p/checkin")
    return phone_client, get_page(phone_client, "/p/checkin")


def check_in_on(phone_client, page, host, *, name=CANARY_NAME, phone_number="412 34 999"):
    data = {"csrf_token": page.select_one("input[name=csrf_token]")["value"],
            "form_token": page.select_one("input[name=form_token]")["value"],
            "name": name, "phone": phone_number, "host_id": str(host.id), "host_query": host.name, "confirm": "y"}
    return phone_client.post("/p/checkin", data=data, headers={"X-Requested-With": "fetch"})


# The QR code


def test_the_welcome_screen_of_a_paired_tablet_shows_a_code_for_the_phone(app, tablet):
    page = get_page(tablet, "/kiosk/")
    figure = page.select_one("#phone-qr")
    assert figure.select_one("figcaption").text == "Check in on your phone"
    assert figure.select_one("img")["src"] == "/kiosk/qr.svg"
    assert re.fullmatch(r"https://kiosk\.example\.org/p/[\w.-]+", code_url(tablet))


def test_the_code_is_svg_without_script_or_style(tablet):
    svg = tablet.get("/kiosk/qr.svg").data.lower()
    assert svg.startswith(b"<svg") and b"<script" not in svg and b"style" not in svg
    assert not re.search(rb"\son\w+=", svg)  # no event handler attribute


@pytest.mark.parametrize("public_url", [None, "http://kiosk.example.org"])
def test_without_an_https_public_url_there_is_no_code(make_app, public_url):
    settings = {"PUBLIC_URL": public_url} if public_url else {}
    app = make_app(**settings, DEMO=bool(public_url))
    client = app.test_client()
    pair_tablet(app, client)
    assert get_page(client, "/kiosk/").select_one("#phone-qr") is None
    assert client.get("/kiosk/qr.svg").status_code == 404


def test_an_unpaired_browser_gets_no_code(app):
    assert app.test_client().get("/kiosk/qr.svg").status_code == 403


def test_each_code_is_new_and_names_no_visitor(app, tablet):
    first, second = code_url(tablet), code_url(tablet)
    assert len(first) < 120  # a short URL keeps the code coarse enough to read from across a desk
    time.sleep(1.1)
    assert code_url(tablet) != first or second != first


# The phone


def test_a_phone_checks_in_with_the_code_and_the_host_gets_the_sms(app, db, host, tablet, sms_outbox):
    phone_client, page = scan(app, tablet)
    assert page.select_one("h1").text == "Check in"
    response = check_in_on(phone_client, page, host)
    assert response.status_code == 302 and response.headers["Location"].startswith("/p/visits/")
    status = get_page(phone_client, response.headers["Location"])
    assert status.select_one("#visit-status")["data-status-url"].startswith("/p/visits/")
    app.extensions["dispatcher"].drain(timeout=10)
    assert [sms.to for sms in sms_outbox] == ["+4741234567", "+4741234999"]
    visit = db.execute("SELECT kiosk_id FROM visits").fetchone()
    assert int(visit[0]) == tablet.device.id  # the tablet's check-in: its id, its limits
    assert phone_client.get(response.headers["Location"] + "/status").get_json()["host"] == "sent"


def test_the_phone_form_lets_the_phones_browser_fill_in_name_and_number(app, tablet):
    _, page = scan(app, tablet)
    assert page.select_one("#checkin-form")["autocomplete"] == "on"
    assert page.select_one("#name")["autocomplete"] == "name"
    assert page.select_one("#phone")["autocomplete"] == "tel"
    assert page.select_one("#host_query")["autocomplete"] == "off"


def test_the_tablet_form_still_keeps_autocomplete_off(tablet):
    page = get_page(tablet, "/kiosk/checkin")
    assert {page.select_one(f"#{name}")["autocomplete"] for name in ("name", "phone", "host_query")} == {"off"}
    assert page.select_one("#checkin-form")["autocomplete"] == "off"


def test_host_search_works_on_the_phone_with_a_pass_and_not_without(app, host, tablet):
    phone_client, _ = scan(app, tablet)
    assert [h["name"] for h in phone_client.get("/p/hosts?q=kari").get_json()] == ["Kari Nordmann"]
    assert app.test_client().get("/p/hosts?q=kari").status_code == 410


def test_the_phone_follows_its_browsers_language(app, tablet):
    phone_client = app.test_client()
    phone_client.get(code_url(tablet).removeprefix(PUBLIC_URL))
    page = parse_page(phone_client.get("/p/checkin", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}))
    assert page.html["lang"] == "sv"
    page = parse_page(phone_client.get("/p/checkin", headers={"Accept-Language": "ja"}))
    assert page.html["lang"] == "en"  # the kiosk's default (TEST_CONFIG)


def test_a_used_code_shows_scan_again_and_nothing_else(app, host, tablet):
    phone_client, page = scan(app, tablet)
    url = code_url(tablet)
    second_phone, second_page = scan(app, tablet)  # a second phone scanned the same code before the first sent
    assert check_in_on(phone_client, page, host).status_code == 302
    response = check_in_on(second_phone, second_page, host, name="Ola Nordmann", phone_number="412 34 998")
    assert response.status_code == 410
    scan_again = parse_page(response)
    assert [h.text for h in scan_again.select("h1")] == ["Scan the code on the tablet again"]
    assert scan_again.select("form, input, p.lead") == []
    assert app.test_client().get(url.removeprefix(PUBLIC_URL)).status_code == 410  # replay of the used code


def test_the_tablet_shows_a_new_code_once_one_was_used(app, host, tablet):
    version = tablet.get("/kiosk/qr/version").get_json()["version"]
    phone_client, page = scan(app, tablet)
    check_in_on(phone_client, page, host)
    assert tablet.get("/kiosk/qr/version").get_json()["version"] == version + 1
    second, _ = scan(app, tablet)  # the new code works
    assert second.get("/p/checkin").status_code == 200


def test_a_code_older_than_two_minutes_is_refused(app, tablet):
    with freeze_time("2026-12-03 10:00:00"):
        url = code_url(tablet)
    with freeze_time("2026-12-03 10:02:01"):
        assert app.test_client().get(url.removeprefix(PUBLIC_URL)).status_code == 410
    with freeze_time("2026-12-03 10:01:59"):
        assert app.test_client().get(url.removeprefix(PUBLIC_URL)).status_code == 303


def test_a_pass_expires_with_the_form(app, tablet):
    phone_client, _ = scan(app, tablet)
    with mock.patch("kiosk.walkin.phone.time.time", return_value=time.time() + 901):
        assert phone_client.get("/p/checkin").status_code == 410


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a forged signature
    lambda token: "x" + token,
    lambda token: "",
])
def test_a_forged_code_is_refused(app, tablet, tamper):
    token = code_url(tablet).rsplit("/", 1)[1]
    response = app.test_client().get(f"/p/{tamper(token)}")
    assert response.status_code in (404, 410)


def test_another_tablets_code_is_refused_once_that_tablet_is_unpaired(app, db, tablet):
    other = app.test_client()
    device, _ = pair_tablet(app, other, name="Side entrance")
    url = code_url(other)
    pairing.revoke_device(db, device.id)
    assert app.test_client().get(url.removeprefix(PUBLIC_URL)).status_code == 410


def test_a_code_signed_for_one_tablet_cannot_be_changed_into_anothers(app, db, tablet):
    other = app.test_client()
    pair_tablet(app, other, name="Side entrance")
    token = code_url(tablet).rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    swapped = base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==").replace(b"[1,", b"[2,")).rstrip(b"=")
    assert app.test_client().get(f"/p/{swapped.decode()}.{rest}").status_code == 410


def test_a_phone_can_read_only_its_own_visits_status(app, host, tablet):
    phone_client, page = scan(app, tablet)
    location = check_in_on(phone_client, page, host).headers["Location"]
    other_phone, _ = scan(app, tablet)
    assert other_phone.get(location).status_code == 410
    assert other_phone.get(location + "/status").status_code == 410
    assert app.test_client().get(location).status_code == 410


def test_a_browser_without_a_code_sees_only_scan_again(app):
    client = app.test_client()
    for path in ("/p/checkin", "/p/hosts?q=ka", "/p/visits/x", "/p/x"):
        response = client.get(path)
        assert response.status_code == 410, path
        assert [h.text for h in parse_page(response).select("h1")] == ["Scan the code on the tablet again"]


def test_a_phone_check_in_counts_against_the_tablets_limit(make_app):
    app = make_app(PUBLIC_URL=PUBLIC_URL, CHECKINS_PER_DEVICE_PER_HOUR=1)
    tablet = app.test_client()
    pair_tablet(app, tablet)
    with app.app_context():
        host = create_host(get_db(), name="Kari Nordmann", phone="+4741234567", language="en")
    phone_client, page = scan(app, tablet)
    assert check_in_on(phone_client, page, host).status_code == 302
    second, page = scan(app, tablet)
    response = check_in_on(second, page, host, name="Ola Nordmann", phone_number="412 34 998")
    assert response.status_code == 429
    assert parse_page(response).select_one("h1").text == "Please ask at the desk"


def test_the_abuse_guard_holds_on_the_phone(app, host, tablet):
    phone_client, page = scan(app, tablet)
    data = {"csrf_token": page.select_one("input[name=csrf_token]")["value"], "form_token": "forged",
            "name": "Ola Nordmann", "phone": "412 34 998", "host_id": str(host.id), "confirm": "y"}
    assert phone_client.post("/p/checkin", data=data, headers={"X-Requested-With": "fetch"}).status_code == 400


def test_r33_a_phone_check_in_leaves_no_canary_on_the_server(make_app, tmp_path, log_records):
    app = make_app(PUBLIC_URL=PUBLIC_URL, DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    tablet = app.test_client()
    pair_tablet(app, tablet)
    with app.app_context():
        host = create_host(get_db(), name="Kari Nordmann", phone="+4741234567", language="en")
    phone_client, page = scan(app, tablet)
    response = check_in_on(phone_client, page, host)
    app.extensions["dispatcher"].drain(timeout=10)
    assert "Kanarifugl" not in response.headers["Location"]
    assert all("Kanarifugl" not in cookie for cookie in response.headers.getlist("Set-Cookie"))
    found = [path.name for path in files_under(tmp_path / "instance") if b"Kanarifugl" in path.read_bytes()
             or b"41234999" in path.read_bytes()]
    assert found == []
    assert not [r for r in log_records if "Kanarifugl" in r.getMessage() or "41234999" in r.getMessage()]

