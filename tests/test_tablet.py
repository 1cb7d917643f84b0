"""The tablet as an installed web app (issue 5 item 4): manifest, brand colour."""

import json

import pytest

from kiosk import create_app
from kiosk.config import ConfigError
from kiosk.settings import save_settings
from tests.conftest import TEST_CONFIG
from tests.helpers import get_page, pair_tablet


def test_the_manifest_opens_the_kiosk_full_screen_under_the_company_name(unpaired_client):
    response = unpaired_client.get("/kiosk/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == TEST_CONFIG.get("COMPANY_NAME", "Velkommen")
    assert manifest["display"] == "fullscreen"
    assert manifest["start_url"] == "/kiosk/"
    assert manifest["theme_color"] == "#0b5cad"
    for icon in manifest["icons"]:
        response = unpaired_client.get(icon["src"])
        assert response.status_code == 200 and response.mimetype == icon["type"]
        if icon["type"] == "image/png":  # the PNG header gives width and height
            width, height = int.from_bytes(response.data[16:20], "big"), int.from_bytes(response.data[20:24], "big")
            assert icon["sizes"] == f"{width}x{height}"
        response.close()
    assert {"sizes": "any", "type": "image/svg+xml"}.items() <= manifest["icons"][0].items()


def test_kiosk_pages_link_the_manifest_theme_colour_and_brand_stylesheet(client):
    page = get_page(client, "/kiosk/")
    assert page.select_one("link[rel=manifest]")["href"] == "/kiosk/manifest.webmanifest"
    assert page.select_one("meta[name=theme-color]")["content"] == "#0b5cad"
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert sheets.index("/kiosk/brand.css") > sheets.index("/static/css/kiosk.css")


def test_the_unpaired_page_wears_the_brand_too(unpaired_client):
    page = get_page(unpaired_client, "/kiosk/", status=403)
    assert page.select_one("link[href='/kiosk/brand.css']")
    assert unpaired_client.get("/kiosk/brand.css").status_code == 200


def test_the_accent_colour_setting_is_served_as_a_stylesheet(app, client, db):
    response = client.get("/kiosk/brand.css")
    assert response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.text.strip() == ":root { --accent: #0b5cad; }"
    with app.test_request_context():
        save_settings(db, {"ACCENT_COLOR": "#aa3300"})
    assert client.get("/kiosk/brand.css").text.strip() == ":root { --accent: #aa3300; }"
    assert get_page(client, "/kiosk/").select_one("meta[name=theme-color]")["content"] == "#aa3300"
    assert client.get("/kiosk/manifest.webmanifest").json["theme_color"] == "#aa3300"


def test_a_stored_accent_colour_that_is_not_a_colour_never_reaches_the_css(app, client, db):
    with app.test_request_context():
        save_settings(db, {"ACCENT_COLOR": "red; } body { display: none"})
    assert client.get("/kiosk/brand.css").text.strip() == ":root { --accent: #0b5cad; }"


@pytest.mark.parametrize("value", ["blue", "#0b5cad;", "#0b5", "0b5cad"])
def test_an_accent_colour_that_is_not_rrggbb_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="KIOSK_ACCENT_COLOR"):
        create_app({**TEST_CONFIG, "DATABASE": str(tmp_path / "kiosk.db"), "ACCENT_COLOR": value})


def test_admin_pages_have_no_manifest(app):
    from tests.helpers import admin_client
    page = get_page(admin_client(app), "/admin/settings")
    assert not page.select_one("link[rel=manifest]")
    assert page.select_one("input[name=ACCENT_COLOR]")["value"] == "#0b5cad"


def test_the_service_worker_is_served_for_the_kiosk_scope_and_never_stored(unpaired_client):
    response = unpaired_client.get("/kiosk/sw.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"caches.open" in response.data
    response.close()


def test_the_offline_page_has_no_form_and_no_personal_data(unpaired_client):
    page = get_page(unpaired_client, "/kiosk/offline")
    assert page.select_one("h1").text.strip() == "Please ask at the desk"
    assert not page.select("form, input")
    script = page.select_one("script[src='/static/js/register-sw.js']")
    assert script["data-worker"] == "/kiosk/sw.js" and script["data-scope"] == "/kiosk/"


LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40"/></svg>'


def test_the_office_logo_is_shown_in_the_kiosk_header_and_served_from_this_server(make_app, tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_bytes(LOGO)
    app = make_app(LOGO_FILE=str(logo), COMPANY_NAME="Fjordkraft")
    client = app.test_client()
    pair_tablet(app, client)
    image = get_page(client, "/kiosk/").select_one("header .brand img.logo")
    assert image["src"] == "/kiosk/logo" and image["alt"] == "Fjordkraft"
    response = client.get("/kiosk/logo")
    assert (response.status_code, response.mimetype, response.data) == (200, "image/svg+xml", LOGO)


def test_without_a_logo_the_header_shows_the_company_name(client):
    assert client.get("/kiosk/logo").status_code == 404
    assert get_page(client, "/kiosk/").select_one("header .brand").text.strip() == "Velkommen"


@pytest.mark.parametrize("name, content", [("logo.gif", b"GIF89a"), ("missing.svg", None),
                                           ("huge.png", b"\x89PNG" + b"0" * 300_000)])
def test_a_logo_that_cannot_work_stops_start_up(tmp_path, name, content):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(ConfigError, match="KIOSK_LOGO_FILE"):
        create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "k.db"), "LOGO_FILE": str(tmp_path / name)})
