"""Web hardening: security headers, cookies, caching, error pages, no debug (SECURITY.md R21-R24, R32, R36)."""

from pathlib import Path

import pytest

from kiosk import create_app
from kiosk.config import ConfigError
from tests.helpers import create_host, get_page

ROOT = Path(__file__).parent.parent
PAGES = ["/", "/kiosk/", "/kiosk/checkin", "/kiosk/pair", "/kiosk/hosts?q=kari", "/healthz",
         "/static/css/kiosk.css", "/static/js/checkin.js", "/no-such-page", "/admin/"]


@pytest.mark.parametrize("url", PAGES)
def test_r23_every_response_carries_the_security_headers(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Referrer-Policy"] in ("no-referrer", "strict-origin-when-cross-origin")
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize("template", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_r23_templates_have_no_inline_script_or_style(template):
    text = (ROOT / template).read_text()
    assert "<script>" not in text and "<script " not in text.replace('<script src=', '')
    assert " style=" not in text and "<style" not in text
    assert " on" + "click=" not in text and " onload=" not in text


def test_r36_shipped_javascript_never_asks_for_the_camera():
    for script in (ROOT / "static").rglob("*.js"):
        assert "getUserMedia" not in script.read_text(), script


def test_r21_session_cookie_is_secure_httponly_strict_and_host_prefixed(client):
    client.get("/kiosk/checkin")
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None
    assert cookie.secure and cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/"


@pytest.mark.parametrize("url", ["/kiosk/", "/kiosk/checkin", "/kiosk/pair", "/kiosk/hosts?q=ka"])
def test_r24_kiosk_pages_are_not_stored(client, url):
    assert client.get(url).headers["Cache-Control"] == "no-store"


def test_r27_a_request_body_over_the_limit_gets_a_plain_413_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1000)
    response = app.test_client().post("/kiosk/pair", data={"code": "x" * 5000})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_r32_debug_mode_refuses_to_start_outside_demo(tmp_path):
    with pytest.raises(ConfigError, match="debug"):
        create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "k.db"), "DEBUG": True})


def test_r32_a_crash_shows_a_generic_page_with_the_headers(app, client, db, monkeypatch):
    create_host(db)
    monkeypatch.setattr("kiosk.walkin.views.render_template", lambda *a, **k: 1 / 0)
    response = client.get("/kiosk/")
    assert response.status_code == 500
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_link_only_our_own_files(client):
    page = get_page(client, "/kiosk/checkin")
    generated = {"/kiosk/brand.css", "/kiosk/manifest.webmanifest"}  # the office's colour and name, from this app
    for tag in page.select("script[src], link[href]"):
        url = tag.get("src") or tag.get("href")
        assert url.startswith("/static/") or url in generated, url
