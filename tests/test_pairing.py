import re

import pytest
from freezegun import freeze_time

from kiosk.db import get_db
from kiosk.devices import pairing as devices
from tests.helpers import checkin_data, create_host, get_page, pair_tablet, parse_page

# These tests call the app's functions directly: an app context is held for each.
pytestmark = pytest.mark.usefixtures("ctx")


@pytest.mark.parametrize("url", ["/kiosk/", "/kiosk/checkin", "/kiosk/visits/abc"])
def test_r7_an_unpaired_browser_gets_a_not_registered_page_without_a_form(unpaired_client, url):
    response = unpaired_client.get(url)
    assert response.status_code == 403
    page = parse_page(response)
    assert page.select_one("h1").text == "This tablet is not registered"
    assert page.select_one("form") is None


@pytest.mark.parametrize("url", ["/kiosk/hosts?q=kari", "/kiosk/visits/abc/status"])
def test_r7_json_endpoints_refuse_an_unpaired_browser(unpaired_client, db, url):
    create_host(db)
    response = unpaired_client.get(url)
    assert response.status_code == 401
    assert b"Kari" not in response.data


def test_r7_an_unpaired_browser_cannot_cause_an_sms(app, client, unpaired_client, db, sms_outbox):
    host = create_host(db)
    page = get_page(client, "/kiosk/checkin")  # a token from a paired tablet does not help
    unpaired_client.set_cookie(app.config["SESSION_COOKIE_NAME"], client.get_cookie(
        app.config["SESSION_COOKIE_NAME"]).value)
    response = unpaired_client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id))
    assert response.status_code == 403
    app.extensions["dispatcher"].drain(timeout=5)
    assert sms_outbox == []


def test_a_pairing_link_pairs_once_and_sets_an_httponly_credential(app, unpaired_client, db):
    code = devices.create_pairing_code(db, "Front desk")
    page = get_page(unpaired_client, f"/kiosk/pair?code={code.code}")
    assert "Front desk" in page.text
    response = unpaired_client.post("/kiosk/pair", data={"csrf_token": page.select_one("[name=csrf_token]")["value"],
                                                         "code": code.code})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-kiosk_device=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert unpaired_client.get("/kiosk/").status_code == 200
    assert devices.pairing_code_name(db, code.code) is None  # used up


@pytest.mark.parametrize("typed", ["", "WRONG-CODE", "'; DROP TABLE devices; --"])
def test_a_wrong_code_is_refused_in_plain_words(unpaired_client, typed):
    page = get_page(unpaired_client, "/kiosk/pair")
    response = unpaired_client.post("/kiosk/pair", data={"csrf_token": page.select_one("[name=csrf_token]")["value"],
                                                         "code": typed})
    assert response.status_code == 422
    assert parse_page(response).select_one("#code-error").text.strip() in (
        "Enter the pairing code.", "This code is not valid. It may have expired: ask for a new one.")


def test_a_code_expires_after_ten_minutes(db):
    with freeze_time("2026-11-25 10:00:00"):
        code = devices.create_pairing_code(db, "Front desk")
    with freeze_time("2026-11-25 10:09:59"):
        assert devices.pairing_code_name(db, code.code) == "Front desk"
    with freeze_time("2026-11-25 10:10:01"), pytest.raises(devices.PairingError):
        devices.pair(db, code.code)


def test_codes_are_typed_forgivingly(db):
    code = devices.create_pairing_code(db, "Front desk")
    assert devices.pairing_code_name(db, f"  {code.code.lower().replace('-', ' ')} ") == "Front desk"


def test_a_revoked_tablet_is_refused(app, client, db):
    (device,) = devices.list_devices(db)
    devices.revoke_device(db, device.id)
    assert client.get("/kiosk/").status_code == 403
    assert devices.list_devices(db)[0].revoked_at


def test_only_hashes_of_codes_and_credentials_are_stored(app, db):
    code = devices.create_pairing_code(db, "Front desk")
    _, credential = devices.pair(db, code.code)
    stored = open(app.config["DATABASE"], "rb").read() + open(app.config["DATABASE"] + "-wal", "rb").read()
    assert code.code.replace("-", "").encode() not in stored
    assert credential.encode() not in stored


def test_a_visit_is_visible_only_on_the_tablet_that_made_it(app, client, db):
    host = create_host(db)
    page = get_page(client, "/kiosk/checkin")
    location = client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id)).headers["Location"]
    other = app.test_client()
    pair_tablet(app, other, name="Other tablet")
    assert other.get(location).status_code == 404
    assert client.get(location).status_code == 200


def test_kiosk_pair_command_prints_a_code_and_a_link(runner, app, monkeypatch):
    monkeypatch.delenv("KIOSK_BIND", raising=False)
    with freeze_time("2026-12-03 09:00:00"):
        result = runner.invoke(args=["kiosk", "pair", "--name", "Reception left"])
        assert result.exit_code == 0
        code = re.search(r"Pairing code for Reception left: (\w{4}-\w{4})", result.output).group(1)
        assert "(valid until 10:10, Europe/Oslo time)" in result.output  # 09:10 UTC on the office clock
        assert f"http://127.0.0.1:8000/kiosk/pair?code={code}" in result.output
        with app.app_context():  # within the code's ten minutes (it was made at a frozen time)
            assert devices.pairing_code_name(get_db(), code) == "Reception left"


def test_kiosk_pair_command_links_to_the_address_gunicorn_listens_on(runner, monkeypatch):
    monkeypatch.setenv("KIOSK_BIND", "127.0.0.1:9000")
    result = runner.invoke(args=["kiosk", "pair", "--name", "Reception left"])
    assert "Open on the tablet: http://127.0.0.1:9000/kiosk/pair?code=" in result.output
