"""Check-in on the visitor's own phone in Debian's Chromium (issue 15): the paired tablet shows a QR code, a phone
(another Chromium, a 360 px touch screen asking for Swedish) reads the code from a screenshot as a camera would,
checks in and follows the status; the host is texted. Both browsers have real profile folders on disk, and
neither keeps the visitor's name or number afterwards (the phone's own autofill store aside: see below)."""

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, axe_violations, live_app, pair_in_browser, require_chromium

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect, sync_playwright  # noqa: E402

PUBLIC_URL = "https://kiosk.example.org"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "sv-SE"}
NAME, TYPED = "Siri Sidensvans Holm", "999 99 994"
# The phone's browser may remember what its owner typed in fields marked autocomplete="name" and "tel": that is
# the visitor's choice on their own device (issue 15), kept in Chromium's autofill database and nowhere else.
AUTOFILL = {"Web Data", "Web Data-journal"}


def canaries():
    digits = TYPED.replace(" ", "")
    texts = ("Sidensvans", TYPED, digits, f"+47{digits}", f"%2B47{digits}", TYPED.replace(" ", "+"))
    return [encoded for text in texts for encoded in (text.encode(), text.encode("utf-16-le"))]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_app(tmp_path_factory, hosts=[{"name": "Kari Ødegård", "phone": "+4741234567", "language": "en"}],
                  PUBLIC_URL=PUBLIC_URL, STATUS_RESET_SECONDS=2) as app:
        yield app


def read_code(page, tmp_path):
    """The URL in the QR code on the tablet's screen, from a screenshot, as a phone's camera reads it."""
    shot = tmp_path / "qr.png"
    page.locator("#phone-qr img").screenshot(path=shot)
    [result] = zxingcpp.read_barcodes(Image.open(shot))
    return result.text


def scan_files(profile):
    files = [path for path in profile.rglob("*") if path.is_file() and not path.is_symlink()]
    return sorted({(str(path.relative_to(profile)), canary.decode("utf-8", "replace"))
                   for path in files for canary in canaries() if canary in _read(path)})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_a_phone_checks_in_from_the_tablets_code_and_neither_browser_keeps_the_visitor(live, tmp_path):
    tablet_profile, phone_profile = tmp_path / "tablet", tmp_path / "phone"
    with sync_playwright() as playwright:
        tablet = playwright.chromium.launch_persistent_context(
            str(tablet_profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=TABLET, has_touch=True)
        phone = playwright.chromium.launch_persistent_context(
            str(phone_profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE)
        screen = tablet.new_page()
        screen.set_default_timeout(10_000)
        pair_in_browser(screen, live)
        screen.goto(f"{live.url}/kiosk/")
        expect(screen.get_by_text("Check in on your phone")).to_be_visible()
        assert axe_violations(screen, "welcome with the QR code") == []
        url = read_code(screen, tmp_path)
        assert url.startswith(f"{PUBLIC_URL}/p/")

        hand = phone.new_page()
        hand.set_default_timeout(10_000)
        hand.goto(url.replace(PUBLIC_URL, live.url))  # the proxy in front of the kiosk, as Caddy is
        expect(hand.locator("html")).to_have_attribute("lang", "sv")
        assert hand.evaluate("() => document.documentElement.scrollWidth") <= 360
        assert axe_violations(hand, "the phone's check-in form") == []
        hand.locator("#name").fill(NAME)
        hand.locator("#phone").fill(TYPED)
        hand.locator("#host_query").fill("ode")
        hand.get_by_role("option", name="Kari Ødegård").click()
        hand.locator("form button[type=submit]").last.click()
        expect(hand.locator("#visit-status")).to_be_visible()
        expect(hand.locator("[data-recipient=host]")).to_have_attribute("data-state", "sent")
        assert "/p/visits/" in hand.url and "Sidensvans" not in hand.url
        assert axe_violations(hand, "the phone's status screen") == []
        hand.wait_for_url("**/p/done", timeout=15_000)  # the status screen ends on "you can close this page"

        # The code is used up: the same URL again, on another phone, says only to scan again.
        again = phone.new_page()
        response = again.goto(url.replace(PUBLIC_URL, live.url))
        assert response.status == 410
        expect(again.locator("h1")).to_have_count(1)
        assert again.locator("form, input, p.lead").count() == 0
        # ...and the tablet shows a new code within seconds.
        screen.wait_for_function("() => !document.querySelector('#phone-qr img').src.endsWith('/kiosk/qr.svg')",
                                 timeout=10_000)
        assert read_code(screen, tmp_path) != url
        tablet.close()
        phone.close()
    live.extensions["dispatcher"].drain(timeout=10)
    outbox = live.extensions["sms"].outbox
    assert any(sms.to == "+4741234567" and NAME in sms.body for sms in outbox)
    assert scan_files(tablet_profile) == []
    # On the phone, only its autofill database may hold what its owner typed (autocomplete="name" and "tel").
    assert {path for path, _ in scan_files(phone_profile)} <= {f"Default/{name}" for name in AUTOFILL}

