"""R25/R26, issue 9 item 2: the tablet's browser keeps nothing of a visitor. Three visitors check in (one after a
mistake) in Chromium with a real profile folder on disk; once the browser is closed, no file of the profile holds
a name or a number, in any of the encodings Chromium writes (session-restore files, history, caches); also when the
tablet prints each visitor a badge (issue 15)."""

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, live_app, pair_in_browser, require_chromium

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect, sync_playwright  # noqa: E402

VISITORS = [("Kari Kanarifugl Nordmann", "999 99 991"), ("Ola Spurvehauk Berg", "999 99 992"),
            ("Liv Gjerdesmett Lie", "999 99 993")]


def canaries():
    """Every visitor's rare name and number, as the browser might store them."""
    found = []
    for name, typed in VISITORS:
        digits = typed.replace(" ", "")
        for text in (name.split()[1], typed, digits, f"+47{digits}", f"%2B47{digits}", typed.replace(" ", "+")):
            found += [text.encode(), text.encode("utf-16-le")]
    return found


# Issue 15: with badges on, the tablet builds each badge in its page and prints it (window.print() is wrapped only
# to count the calls), and the profile must stay as clean. Chromium gets --kiosk-printing, as at a reception.
COUNT_PRINTS = "const print = window.print.bind(window); window.print = () => { window.printing(); print(); };"


@pytest.fixture(scope="module", params=[False, True], ids=["no badges", "badges printed"])
def live(tmp_path_factory, request):
    hosts = [{"name": "Kari Ødegård", "phone": "+4741234567"}]
    with live_app(tmp_path_factory, hosts=hosts, STATUS_RESET_SECONDS=1, BADGE=request.param) as app:
        yield app


def check_in(page, live, name, phone, *, mistake=None):
    page.goto(f"{live.url}/kiosk/checkin")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Mobile number").fill(mistake or phone)
    page.get_by_label("Who are you visiting?").fill("ode")
    page.get_by_role("option", name="Kari Ødegård").click()
    page.get_by_role("button", name="Check in").click()
    if mistake:
        expect(page.locator("#phone-error")).to_be_visible()
        expect(page.get_by_label("Full name")).to_have_value(name)  # what was typed stays, in the page only
        page.get_by_label("Mobile number").fill(phone)
        page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    page.wait_for_url("**/kiosk/", timeout=15_000)  # the status screen goes back by itself


def test_r26_a_real_chromium_profile_keeps_no_name_or_number_after_three_visitors(live, tmp_path):
    profile, prints = tmp_path / "profile", []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--kiosk-printing"], viewport=TABLET)
        context.expose_binding("printing", lambda source: prints.append(source["page"].url))
        context.add_init_script(COUNT_PRINTS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        pair_in_browser(page, live)
        check_in(page, live, *VISITORS[0])
        check_in(page, live, *VISITORS[1], mistake="22 12 34 56")
        check_in(page, live, *VISITORS[2])
        context.close()
    live.extensions["dispatcher"].drain(timeout=10)
    assert len(prints) == (3 if live.config["BADGE"] else 0)  # one badge per visitor who checked in
    files = [path for path in profile.rglob("*") if path.is_file() and not path.is_symlink()]
    assert any(path.parent.name == "Sessions" or path.name.startswith(("Current", "Session")) for path in files) or \
        any("Session" in str(path) for path in files), "the scan must see the session-restore files"
    found = sorted({(str(path.relative_to(profile)), canary.decode("utf-8", "replace"))
                    for path in files for canary in canaries() if canary in _read(path)})
    assert found == []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a socket or a lock file
        return b""
