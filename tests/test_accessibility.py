"""Accessibility in Debian's Chromium: axe-core (WCAG 2.1 A and AA) on every kiosk screen in Bokmål, English and
Arabic and on the admin screens, then the things axe cannot see: touch target sizes, visible keyboard focus, 200 %
zoom and reduced motion. See docs/accessibility.md."""

from itertools import chain
from urllib.parse import urlsplit

import pytest

from kiosk.db import get_db
from kiosk.devices import pairing as devices
from kiosk.hosts.directory import save_managed_host
from kiosk.locations import locations
from kiosk.schools import visits as schools
from tests.browser import (
    KARI,
    TABLET,
    UNHURRIED,
    axe_violations,
    in_language,
    live_app,
    new_page,
    paired_page,
    require_chromium,
    sign_in,
    submit_check_in,
    upload_visit,
)
from tests.helpers import SCHOOL

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

LANGUAGES = ["nb", "en", "ar"]
CHECKED_IN = []  # the path of the group's first checked-in page
PHONES = iter(f"412 34 {n:03d}" for n in range(100, 1000))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with an admin, a host and (from the visit_id fixture) today's school visit."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI], **UNHURRIED) as app:
        yield app


@pytest.fixture(scope="module")
def visit_id(browser, live, tmp_path_factory):
    upload_visit(browser, live, tmp_path_factory.mktemp("roster"))
    with live.app_context():
        return next(visit.id for visit in schools.list_visits(get_db()) if visit.school == SCHOOL)


@pytest.fixture(scope="module")
def kiosk(browser, live):
    """One paired tablet page, reused by every kiosk test."""
    with paired_page(browser, live) as page:
        yield page


@pytest.fixture(scope="module")
def admin(browser, live):
    """One signed-in admin page."""
    with new_page(browser, viewport=TABLET) as page:
        sign_in(page, live)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        yield page


def kiosk_screens(page, live, language, visit_id):
    """Walk through every kiosk screen in one language, yielding (screen name, page) at each."""
    in_language(page, live, language, "/kiosk/")
    yield "welcome", page
    in_language(page, live, language, "/kiosk/checkin")
    yield "check-in form", page
    submit_check_in(page)
    expect(page.locator(".error-summary, [id$=-error]").first).to_be_visible()
    yield "check-in form with errors", page
    in_language(page, live, language, "/kiosk/checkin")
    submit_check_in(page, phone=next(PHONES))
    page.wait_for_url("**/kiosk/visits/**")
    yield "status", page
    live.config.update(FORM_MIN_SECONDS=60)
    try:
        in_language(page, live, language, "/kiosk/checkin")
        submit_check_in(page, phone=next(PHONES))
    finally:
        live.config.update(FORM_MIN_SECONDS=0)
    yield "refused", page
    in_language(page, live, language, "/kiosk/school/")
    yield "school visit list", page
    in_language(page, live, language, f"/kiosk/school/{visit_id}")
    yield "school group", page
    waiting = page.locator("#school-people input:not([disabled])")
    if waiting.count():  # one more pupil each time, while there are any; then the page of an earlier check-in
        waiting.first.check()
        page.locator("#school-group button[type=submit]").first.click()
        page.wait_for_url("**/checked-in/**")
        CHECKED_IN.append(urlsplit(page.url).path)
    else:
        in_language(page, live, language, CHECKED_IN[0])
    yield "school group checked in", page
    in_language(page, live, language, f"/kiosk/school/{visit_id}/apprenticeships")
    yield "apprenticeship consent", page


def unpaired_screens(browser, live, language):
    with new_page(browser, viewport=TABLET, has_touch=True) as page:
        page.goto(f"{live.url}/kiosk/language/{language}?next=/kiosk/")
        yield "not registered", page
        with live.app_context():
            code = devices.create_pairing_code(get_db(), "Front desk")
        page.goto(f"{live.url}/kiosk/pair?code={code.code}")
        yield "pairing", page
        page.locator("form button[type=submit]").click()
        page.wait_for_load_state()
        yield "paired", page


@pytest.mark.parametrize("language", LANGUAGES)
def test_kiosk_screens_have_no_axe_violations(kiosk, browser, live, visit_id, language):
    violations = []
    screens = chain(kiosk_screens(kiosk, live, language, visit_id), unpaired_screens(browser, live, language))
    for screen, page in screens:
        violations += axe_violations(page, f"{screen} [{language}]")
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def admin_screens(page, live):
    page.goto(f"{live.url}/admin/hosts")
    yield "hosts"
    page.goto(f"{live.url}/admin/hosts/new")
    yield "host form"
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    expect(page.locator("[id$=-error]").first).to_be_visible()
    yield "host form with errors"
    page.goto(f"{live.url}/admin/hosts/import")
    page.locator("input[type=file]").set_input_files(
        {"name": "hosts.csv", "mimeType": "text/csv", "buffer": "navn;mobil\nKari Ø.;41234567\nNy Person;41234598\n"
                                                               .encode()})
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    expect(page.locator("#changed")).to_be_visible()
    yield "import preview with changes"
    page.goto(f"{live.url}/admin/kiosks")
    yield "kiosks"
    page.goto(f"{live.url}/admin/locations")
    yield "locations"
    page.goto(f"{live.url}/admin/locations/new")
    page.get_by_label("Time zone (optional)").fill("Mars/Olympus")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    expect(page.locator("[id$=-error]").first).to_be_visible()
    yield "location form with errors"
    page.goto(f"{live.url}/admin/statistics")
    yield "statistics"
    page.goto(f"{live.url}/admin/audit")
    yield "audit log"
    page.goto(f"{live.url}/admin/settings")
    yield "settings"
    page.goto(f"{live.url}/admin/schools/")
    yield "school visits"
    with live.app_context():  # a host from the directory sync, without a mobile number
        synced = save_managed_host(get_db(), {"scim_id": "axe", "user_name": "axe@example.no", "name": "Per Synk",
                                              "phone": None, "scim_active": True})
    page.goto(f"{live.url}/admin/hosts")
    yield "hosts with a synced host"
    page.goto(f"{live.url}/admin/hosts/{synced}")
    yield "synced host (read-only, needs a mobile number)"
    page.goto(f"{live.url}/admin/directory-sync")
    page.get_by_label("Name of the token").fill("Entra ID")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    expect(page.locator("#new-token")).to_be_visible()
    yield "directory sync with a new token"
    with live.app_context():  # issue 16: the pages' location choices, shown once there are several
        bergen = locations.save_location(get_db(), None, {"name": "Bergen"})
    for path, screen in [("/admin/hosts", "hosts with their locations"),
                         ("/admin/hosts/new", "host form with locations"),
                         ("/admin/statistics", "statistics with a location choice"),
                         (f"/admin/statistics?location={bergen}", "statistics of one location"),
                         ("/admin/audit", "audit log with locations"), (f"/admin/locations/{bergen}", "location form"),
                         (f"/admin/locations/{bergen}/delete", "deleting a location"),
                         ("/admin/locations/1/delete", "a location that cannot be deleted"),
                         ("/admin/admins", "admins")]:
        page.goto(f"{live.url}{path}")
        yield screen


def test_admin_screens_have_no_axe_violations(browser, admin, live, visit_id):
    with new_page(browser, viewport=TABLET) as login:
        login.goto(f"{live.url}/admin/")
        violations = axe_violations(login, "login")
    for screen in admin_screens(admin, live):
        violations += axe_violations(admin, screen)
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


SMALL_TARGETS = """() => {
    const targets = document.querySelectorAll(
        'button, a.button, [role=button], input[type=checkbox], input[type=radio], label:has(input[type=checkbox]),'
        + ' [role=option], input[type=submit], .languages a');
    const small = [];
    for (const element of targets) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;  // not shown
        const style = getComputedStyle(element);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        let row = element;
        if (element.matches('input[type=checkbox], input[type=radio]')) {
            // The check box's target is its label row when the label wraps or sits next to it.
            row = element.closest('label') || document.querySelector(`label[for="${element.id}"]`) || element;
            const rowBox = row.getBoundingClientRect();
            const union = {width: Math.max(box.right, rowBox.right) - Math.min(box.left, rowBox.left),
                           height: Math.max(box.bottom, rowBox.bottom) - Math.min(box.top, rowBox.top)};
            if (union.width >= 48 && union.height >= 48) continue;
            small.push(`${element.outerHTML.slice(0, 80)} row ${Math.round(union.width)}x${Math.round(union.height)}`);
            continue;
        }
        if (box.width < 47.5 || box.height < 47.5) {
            small.push(`${element.outerHTML.slice(0, 80)} ${Math.round(box.width)}x${Math.round(box.height)}`);
        }
    }
    return small;
}"""


def test_kiosk_touch_targets_are_at_least_48_css_pixels(kiosk, live, visit_id):
    small = []
    for screen, page in kiosk_screens(kiosk, live, "en", visit_id):
        if screen == "check-in form":
            page.locator("#host_query").fill("od")
            expect(page.get_by_role("option").first).to_be_visible()
        small += [f"{screen}: {target}" for target in page.evaluate(SMALL_TARGETS)]
    assert not small, "touch targets smaller than 48×48 CSS px:\n" + "\n".join(small)


def test_keyboard_focus_is_visible(kiosk, live):
    in_language(kiosk, live, "en", "/kiosk/checkin")
    unseen, seen = [], 0
    for _ in range(12):
        kiosk.keyboard.press("Tab")
        focus = kiosk.evaluate("""() => {
            const element = document.activeElement;
            if (!element || element === document.body) return null;
            const style = getComputedStyle(element);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            return {element: element.outerHTML.slice(0, 80), visible: outline || style.boxShadow !== 'none'};
        }""")
        if focus and not focus["visible"]:
            unseen.append(focus["element"])
        seen += bool(focus)
    assert seen >= 6
    assert not unseen, "focused elements without a visible outline or box-shadow:\n" + "\n".join(unseen)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_in_form_works_at_200_percent_zoom(kiosk, live, language):
    kiosk.set_viewport_size({"width": 640, "height": 400})
    try:
        in_language(kiosk, live, language, "/kiosk/checkin")
        for state in ("empty", "errors"):
            if state == "errors":
                submit_check_in(kiosk)
            width = kiosk.evaluate(
                "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
            assert width[0] <= width[1], f"horizontal scrolling at 200 % zoom ({state} form, {language}): {width}"
    finally:
        kiosk.set_viewport_size(TABLET)


ANIMATED = """() => {
    const moving = [];
    for (const element of document.querySelectorAll('*')) {
        for (const pseudo of [null, '::before', '::after']) {
            const style = getComputedStyle(element, pseudo);
            const lasting = durations => durations.split(',').some(d => parseFloat(d) > 0);
            if (lasting(style.transitionDuration)
                    || (style.animationName !== 'none' && lasting(style.animationDuration))) {
                moving.push(`${element.tagName.toLowerCase()}${pseudo || ''}.${element.className}`);
            }
        }
    }
    return moving;
}"""


def test_reduced_motion_is_respected(kiosk, live, visit_id):
    kiosk.emulate_media(reduced_motion="reduce")
    moving = []
    try:
        for screen, page in kiosk_screens(kiosk, live, "en", visit_id):
            moving += [f"{screen}: {element}" for element in page.evaluate(ANIMATED)]
    finally:
        kiosk.emulate_media(reduced_motion="no-preference")
    assert not moving, "transitions or animations despite prefers-reduced-motion:\n" + "\n".join(moving)
