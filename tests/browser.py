"""Shared pieces of the browser tests (a pytest plugin): Debian's Chromium through Playwright, the app on a real
port."""

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kiosk.schools import visits as schools
from tests.helpers import ADMIN_PASSWORD, SCHOOL

CHROMIUM = "/usr/bin/chromium"
TABLET = {"width": 1280, "height": 800}
ROSTER = "navn;rolle;klasse\nOla Nordmann;elev;8B\nKari Kanarifugl;elev;8B\nPer Hansen;elev;8B\nLiv Lærer;lærer;\n"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                    allow_module_level=True)


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def serve(app):
    """Serve the app on an ephemeral port in a background thread; sets app.url."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    app.extensions["dispatcher"].drain(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, one per test module."""
    with chromium() as browser:
        yield browser


def pair_in_browser(page, live, name="Reception tablet"):
    """Register the browser as a kiosk the way reception does: open a pairing link, confirm."""
    from playwright.sync_api import expect

    from kiosk.db import get_db
    from kiosk.devices import pairing as devices
    with live.app_context():
        code = devices.create_pairing_code(get_db(), name)
    page.goto(f"{live.url}/kiosk/pair?code={code.code}")
    page.get_by_role("button", name="Register this tablet").click()
    expect(page.get_by_role("heading", name="Tablet registered")).to_be_visible()


def in_language(page, live, language, path):
    """Open `path` with the kiosk switched to `language`."""
    from playwright.sync_api import expect

    page.goto(f"{live.url}/kiosk/language/{language}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", language)


def submit_check_in(page, *, phone=None):
    """Send the check-in form (filled in when phone is given) and wait until its answer is shown: the status screen,
    the mistakes in place, or another page in place of the form (static/js/submit.js sends it with fetch)."""
    from playwright.sync_api import expect
    if phone:
        page.locator("#name").fill("Ragnhild Berg")
        page.locator("#phone").fill(phone)
        page.locator("#host_query").fill("ode")
        page.get_by_role("option", name="Kari Ødegård").click()
    page.locator("form button[type=submit]").last.click()
    if phone:
        expect(page.locator("#checkin-form")).to_have_count(0)
    else:
        expect(page.locator("#error-summary")).to_be_visible()


def upload_visit(browser, live, tmp_path):
    """Sign in as the admin ana and save today's school visit with ROSTER for Kari Ødegård."""
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live.url}/admin/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="School visits").click()
    page.get_by_role("link", name="New school visit").click()
    page.get_by_label("School", exact=True).fill(SCHOOL)
    page.get_by_label("Date").fill(schools.today().isoformat())
    page.get_by_label("Host").select_option(label="Kari Ødegård")
    page.get_by_label("Expected arrival time (optional)").fill("09:30")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    page.get_by_label("Roster file").set_input_files(str(roster))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="School visit preview")).to_be_visible()
    expect(page.locator("#count-people")).to_have_text("4")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("The school visit is saved.")).to_be_visible()
    expect(page.locator("#school-visits")).to_contain_text(SCHOOL)
    context.close()
