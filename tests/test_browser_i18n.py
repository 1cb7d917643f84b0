"""Languages in Chromium: the picker, right-to-left Arabic, and the way back to Bokmål when the kiosk resets."""

import pytest

from kiosk.db import get_db
from kiosk.devices import pairing as devices
from tests.browser import live_app, new_page, require_chromium
from tests.conftest import TEST_CONFIG

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

WELCOME_NB = "Velkommen til Velkommen"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A Bokmål kiosk that resets quickly, on an ephemeral port."""
    with live_app(tmp_path_factory, DEFAULT_LOCALE="nb", IDLE_SECONDS=3, STATUS_RESET_SECONDS=1) as app:
        yield app


@pytest.fixture
def page(browser, live):
    """A paired tablet-sized page on the welcome screen."""
    with new_page(browser, viewport={"width": 800, "height": 1200}, has_touch=True) as page:
        with live.app_context():
            code = devices.create_pairing_code(get_db(), "Tablet")
        page.goto(f"{live.url}/kiosk/pair?code={code.code}")
        page.locator("button[type=submit]").click()
        page.goto(f"{live.url}/kiosk/")
        yield page
    live.extensions["dispatcher"].drain(timeout=10)


def test_the_picker_switches_to_arabic_right_to_left_and_idle_returns_to_bokmaal(page, live):
    expect(page.get_by_role("heading", name=WELCOME_NB)).to_be_visible()
    page.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_role("link", name="تسجيل الحضور").click()
    expect(page.get_by_role("heading", name="تسجيل الحضور")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    # The check-in form's idle timer goes back to the welcome screen, in the default language.
    expect(page.get_by_role("heading", name=WELCOME_NB)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_a_welcome_screen_left_in_english_returns_to_bokmaal(page, live):
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Welcome to Velkommen")).to_be_visible()
    expect(page.get_by_role("heading", name=WELCOME_NB)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "nb")


def test_the_status_screen_speaks_the_visitors_language_then_returns_to_bokmaal(page, live):
    page.goto(f"{live.url}/kiosk/language/de?next=/kiosk/checkin")
    page.get_by_label("Vor- und Nachname").fill("Ragnhild Berg")
    page.get_by_label("Mobilnummer").fill("412 34 999")
    page.get_by_role("button", name="Weiß nicht / Empfang").click()
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Sie sind angemeldet")).to_be_visible()
    expect(page.get_by_role("heading", name=WELCOME_NB)).to_be_visible()
    sent = {sms.to: sms.body for sms in live.extensions["sms"].outbox}
    assert sent[TEST_CONFIG["RECEPTION_PHONE"]].startswith("Ragnhild Berg er i resepsjonen")
    assert sent["+4741234999"].startswith("Willkommen bei Velkommen, Ragnhild.")
