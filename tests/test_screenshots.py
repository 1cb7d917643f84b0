"""Screenshots of the kiosk screens in Bokmål, English and Arabic, taken in Debian's Chromium at 1280 × 800.

    VELKOMMEN_SCREENSHOTS=1 .venv/bin/python -m pytest -q tests/test_screenshots.py

writes them to docs/screenshots/<screen>-<language>.png (committed, shown in README.md). Without the variable the
same screenshots are taken into a temporary folder and only checked, so the normal suite does not rewrite tracked
files."""

import os
from pathlib import Path

import pytest

from tests.browser import (
    KARI,
    TABLET,
    UNHURRIED,
    in_language,
    live_app,
    paired_page,
    require_chromium,
    submit_check_in,
    upload_visit,
)
from tests.helpers import SCHOOL

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

LANGUAGES = ["nb", "en", "ar"]
DOCS = Path(__file__).parent.parent / "docs" / "screenshots"
PNG = b"\x89PNG\r\n\x1a\n"
HOSTS = [KARI, {"name": "Ola Nordmann", "phone": "+4741234568", "department": "Finance"},
         {"name": "Åse Odden", "phone": "+4741234569", "department": "IT"}]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo's look: a few hosts and (from the kiosk fixture) today's school visit."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=HOSTS, **UNHURRIED) as app:
        yield app


@pytest.fixture(scope="module")
def kiosk(browser, live, tmp_path_factory):
    upload_visit(browser, live, tmp_path_factory.mktemp("roster"))
    with paired_page(browser, live) as page:
        yield page


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
