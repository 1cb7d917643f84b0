"""Shared pieces of the browser tests (a pytest plugin): Debian's Chromium through Playwright, the app on a real
port."""

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
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

    from kiosk import devices
    from kiosk.db import get_db
    with live.app_context():
        code = devices.create_pairing_code(get_db(), name)
    page.goto(f"{live.url}/kiosk/pair?code={code.code}")
    page.get_by_role("button", name="Register this tablet").click()
    expect(page.get_by_role("heading", name="Tablet registered")).to_be_visible()
