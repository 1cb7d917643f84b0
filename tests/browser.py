"""Shared pieces of the browser tests (a pytest plugin): Debian's Chromium through Playwright, the app on a real
port."""

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kiosk import create_app
from kiosk.db import get_db
from kiosk.schools import visits as schools
from tests.conftest import TEST_CONFIG
from tests.helpers import ADMIN_PASSWORD, SCHOOL, create_admin, create_host

CHROMIUM = "/usr/bin/chromium"
TABLET = {"width": 1280, "height": 800}
ROSTER = "navn;rolle;klasse\nOla Nordmann;elev;8B\nKari Kanarifugl;elev;8B\nPer Hansen;elev;8B\nLiv Lærer;lærer;\n"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The host upload_visit picks and submit_check_in looks up, reading English.
KARI = {"name": "Kari Ødegård", "phone": "+4741234567", "language": "en"}
# For modules that walk one tablet through many screens: no reset on the way, room for many SMS to one number.
UNHURRIED = {"IDLE_SECONDS": 600, "STATUS_RESET_SECONDS": 600, "SMS_PER_NUMBER_PER_HOUR": 100,
             "SMS_PER_NUMBER_PER_DAY": 100}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
# Every request and its body in the service worker's caches, as [path, body] pairs.
CACHE_CONTENTS = """async () => {
    await navigator.serviceWorker.ready;
    const entries = [];
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            entries.push([new URL(request.url).pathname, await (await cache.match(request)).text()]);
        }
    }
    return entries;
}"""
# All the service worker keeps (static/js/sw.js): the offline page and the stylesheets, none of them personal.
OFFLINE_CACHE = {"/kiosk/offline", "/static/css/kiosk.css", "/kiosk/brand.css"}


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


@contextmanager
def live_app(tmp_path_factory, *, admins=(), hosts=(), **settings):
    """A new app (TEST_CONFIG, then `settings`) on a database of its own, holding the admins (usernames, password
    ADMIN_PASSWORD) and the hosts (create_host's keywords), served on a real port as serve() does."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(tmp_path_factory.mktemp("live") / "kiosk.db"), **settings})
    with app.app_context():
        for username in admins:
            create_admin(get_db(), username=username)
        for host in hosts:
            create_host(get_db(), **host)
    with serve(app):
        yield app


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, one per test module."""
    with chromium() as browser:
        yield browser


@contextmanager
def new_page(browser, **context_options):
    """A page in a new browser context (`context_options`, closed afterwards) whose waits give up after 10 s."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def sign_in(page, live, username="ana", password=ADMIN_PASSWORD):
    """Open the admin area (the sign-in screen until signed in) and send the sign-in form."""
    page.goto(f"{live.url}/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def pair_in_browser(page, live, name="Reception tablet"):
    """Register the browser as a kiosk the way reception does: open a pairing link, confirm."""
    from playwright.sync_api import expect

    from kiosk.devices import pairing as devices
    with live.app_context():
        code = devices.create_pairing_code(get_db(), name)
    page.goto(f"{live.url}/kiosk/pair?code={code.code}")
    page.get_by_role("button", name="Register this tablet").click()
    expect(page.get_by_role("heading", name="Tablet registered")).to_be_visible()


@contextmanager
def paired_page(browser, live, **context_options):
    """A new page (new_page) of a tablet-sized touch screen, registered as a kiosk."""
    with new_page(browser, **{"viewport": TABLET, "has_touch": True, **context_options}) as page:
        pair_in_browser(page, live)
        yield page


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

    with new_page(browser) as page:
        sign_in(page, live)
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


def axe_violations(page, screen):
    """axe's WCAG 2.1 A/AA violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            lines.append(f"{screen}: {violation['id']} ({violation['impact']}): {violation['help']}\n"
                         f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}".rstrip())
    return lines
