"""Screenshots of the kiosk screens in Bokmål, English and Arabic, taken in Debian's Chromium at 1280 × 800.

    VELKOMMEN_SCREENSHOTS=1 .venv/bin/python -m pytest -q tests/test_screenshots.py

writes them to docs/screenshots/<screen>-<language>.png (committed, shown in README.md). Without the variable the
same screenshots are taken into a temporary folder and only checked, so the normal suite does not rewrite tracked
files."""

import os
from pathlib import Path

import pytest

from kiosk import create_app
from kiosk.db import get_db
from tests.browser import TABLET, in_language, pair_in_browser, require_chromium, serve, submit_check_in, upload_visit
from tests.conftest import TEST_CONFIG
from tests.helpers import SCHOOL, create_admin, create_host

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

LANGUAGES = ["nb", "en", "ar"]
DOCS = Path(__file__).parent.parent / "docs" / "screenshots"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo's look: a few hosts and today's school visit."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(tmp_path_factory.mktemp("shots") / "kiosk.db"),
                      "IDLE_SECONDS": 600, "STATUS_RESET_SECONDS": 600,
                      "SMS_PER_NUMBER_PER_HOUR": 100, "SMS_PER_NUMBER_PER_DAY": 100})
    with app.app_context():
        create_admin(get_db(), username="ana")
        create_host(get_db(), name="Kari Ødegård", phone="+4741234567", language="en")
        create_host(get_db(), name="Ola Nordmann", phone="+4741234568", department="Finance")
        create_host(get_db(), name="Åse Odden", phone="+4741234569", department="IT")
    with serve(app):
        yield app
        app.extensions["dispatcher"].drain(timeout=10)


@pytest.fixture(scope="module")
def kiosk(browser, live, tmp_path_factory):
    upload_visit(browser, live, tmp_path_factory.mktemp("roster"))
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    pair_in_browser(page, live)
    yield page
    context.close()


def screens(page, live, language, phone):
    in_language(page, live, language, "/kiosk/")
    yield "welcome"
    in_language(page, live, language, "/kiosk/checkin")
    page.locator("#name").fill("Ragnhild Berg")
    page.locator("#phone").fill(phone)
    page.locator("#host_query").fill("od")
    expect(page.get_by_role("option").first).to_be_visible()
    yield "checkin"
    in_language(page, live, language, "/kiosk/checkin")
    submit_check_in(page)
    expect(page.locator(".error-summary, [id$=-error]").first).to_be_visible()
    yield "checkin-errors"
    in_language(page, live, language, "/kiosk/checkin")
    submit_check_in(page, phone=phone)
    expect(page.locator("#visit-status[data-final=true]")).to_be_attached()
    yield "status"
    in_language(page, live, language, "/kiosk/school/")
    page.get_by_role("link", name=SCHOOL).click()
    expect(page.locator(".school-people")).to_be_visible()
    yield "school-group"


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshots_of_the_kiosk(kiosk, live, language, tmp_path):
    folder = DOCS if os.environ.get("VELKOMMEN_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    phone = f"412 34 {LANGUAGES.index(language) + 500}"
    taken = []
    for screen in screens(kiosk, live, language, phone):
        path = folder / f"{screen}-{language}.png"
        kiosk.screenshot(path=path, animations="disabled", caret="hide")
        taken.append(path)
    assert [path.name for path in taken] == [f"{screen}-{language}.png" for screen in
                                             ("welcome", "checkin", "checkin-errors", "status", "school-group")]
    for path in taken:
        assert path.read_bytes().startswith(PNG)
        assert kiosk.viewport_size == TABLET
