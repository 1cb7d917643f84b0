"""Issue 15: the visitor badge in Debian's Chromium. The tablet builds the badge from what was typed, prints it in one
job (window.print is counted here), and leaves it in the page only until the status screen replaces it; the PDF that
Chromium prints has the label's size and the name. The server never sends the name back."""

import io
import unicodedata
from datetime import date
from urllib.parse import urlsplit

import pytest

from kiosk.db import get_db
from kiosk.hosts.directory import get_host
from kiosk.schools.visits import Person
from tests.browser import (
    KARI,
    TABLET,
    axe_violations,
    live_app,
    new_page,
    paired_page,
    require_chromium,
    sign_in,
)
from tests.helpers import CANARY_NAME, create_school_visit

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402
from pypdf import PdfReader  # noqa: E402

MM = 72 / 25.4  # PDF points in a millimetre
LABEL62 = (62, 100)
A7 = (74, 105)
# window.print() counted instead of printed: each call's badges, each badge as the text of its lines.
COUNT_PRINTS = """
window.printed = [];
window.print = function () {
  window.printed.push(Array.prototype.map.call(document.querySelectorAll("#badge .badge-card"), function (card) {
    return Array.prototype.map.call(card.querySelectorAll("p"), function (line) { return line.textContent; });
  }));
};
"""
SCHOOLS = iter(f"Skole {n}" for n in range(1, 100))
PHONES = iter(f"412 34 {n:03d}" for n in range(100, 1000))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, printing badges, with an admin and a host."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI], BADGE=True, IDLE_SECONDS=600,
                  SMS_PER_NUMBER_PER_HOUR=100, SMS_PER_NUMBER_PER_DAY=100) as app:
        yield app


@pytest.fixture
def tablet(browser, live):
    """A paired tablet page that counts window.print() calls. No service worker: it would hide requests from
    page.route."""
    with paired_page(browser, live, service_workers="block") as page:
        page.add_init_script(COUNT_PRINTS)
        yield page


class HeldNavigation:
    """Keeps the tablet on the page that printed the badge: its move to the next page (a document request for
    `pattern`) is answered 204 No Content, which leaves the page as it is, and release() then opens that next page
    as the tablet would have. fetch() requests pass. (A navigation merely paused in page.route would stall the page:
    Chromium neither evaluates nor prints a page while its navigation is pending.)"""

    def __init__(self, page, pattern):
        self.page, self.pattern, self.urls = page, pattern, []
        page.route(pattern, self._hold)

    def _hold(self, route):
        if route.request.resource_type == "document":
            self.urls.append(route.request.url)
            route.fulfill(status=204)
        else:
            route.continue_()

    def wait(self):
        """Until the tablet asks for the next page: the check-in was accepted, and any badge printed before."""
        for _ in range(100):
            if self.urls:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError("the tablet never went on to the next page")

    def release(self):
        [url] = self.urls
        self.page.unroute(self.pattern)
        self.page.emulate_media(media="screen")
        self.page.goto(url)


def fill_check_in(page, live, name, host=("ode", "Kari Ødegård")):
    page.goto(f"{live.url}/kiosk/checkin")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Mobile number").fill(next(PHONES))
    page.get_by_label("Who are you visiting?").fill(host[0])
    page.get_by_role("option", name=host[1]).click()


def printed(page):
    return page.evaluate("window.printed")


def pdf_pages(page):
    page.emulate_media(media="print")
    return PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages


def size_mm(pdf_page):
    return float(pdf_page.mediabox.width) / MM, float(pdf_page.mediabox.height) / MM


def assert_size(pdf_page, size):
    width, height = size_mm(pdf_page)
    assert abs(width - size[0]) <= 0.5 and abs(height - size[1]) <= 0.5, (width, height)


def squeezed(text):
    """Text without white space (a PDF breaks a wrapped name into lines) and ligatures (ﬀ is ff)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def today_in_english():
    today = date.today()
    return f"{today:%B} {today.day}, {today.year}"


# A walk-in


def test_a_check_in_prints_one_badge_with_visitor_name_host_company_and_date(tablet, live):
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    fill_check_in(tablet, live, "Ragnhild Berg")
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    assert printed(tablet) == [[["Visitor", "Ragnhild Berg", "Visiting", "Kari Ødegård", "Velkommen",
                                 today_in_english()]]]
    held.release()
    expect(tablet.get_by_role("heading", name="You are checked in")).to_be_visible()


def test_the_badge_is_all_the_printed_page_shows_and_the_typed_form_is_wiped(tablet, live):
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    fill_check_in(tablet, live, "Ragnhild Berg")
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    expect(tablet.locator("#badge")).to_be_hidden()  # on screen
    tablet.emulate_media(media="print")
    expect(tablet.locator("#badge")).to_be_visible()
    expect(tablet.locator("#badge .badge-name")).to_have_text("Ragnhild Berg")
    expect(tablet.locator("#badge .badge-date")).to_have_text(today_in_english())
    expect(tablet.locator("main")).to_be_hidden()
    expect(tablet.locator("header")).to_be_hidden()
    for field in ("#name", "#phone", "#host_query", "#host_id"):
        expect(tablet.locator(field)).to_have_value("")
    held.release()


def test_the_printed_badge_is_a_62_by_100_mm_label_with_the_name(tablet, live):
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    fill_check_in(tablet, live, "Ragnhild Berg")
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    [pdf_page] = pdf_pages(tablet)
    assert_size(pdf_page, LABEL62)
    text = " ".join(pdf_page.extract_text().split())  # a name may wrap onto two lines
    assert "Ragnhild Berg" in text and "Kari Ødegård" in text and "Velkommen" in text
    held.release()


def test_the_a7_setting_prints_the_badge_on_a7(tablet, live):
    live.config.update(BADGE_SIZE="a7")
    try:
        held = HeldNavigation(tablet, "**/kiosk/visits/*")
        fill_check_in(tablet, live, "Ragnhild Berg")
        tablet.get_by_role("button", name="Check in").click()
        held.wait()
    finally:
        live.config.update(BADGE_SIZE="label62")
    [pdf_page] = pdf_pages(tablet)
    assert_size(pdf_page, A7)
    assert "Ragnhild Berg" in " ".join(pdf_page.extract_text().split())
    held.release()


def test_a_long_name_wraps_on_its_one_label_and_is_never_cut(tablet, live):
    name = "Hubert Wolfeschlegelsteinhausenbergerdorff Kanarifugl Berg"  # 58 letters (at most 60), a 35-letter word
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    fill_check_in(tablet, live, name)
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    [pdf_page] = pdf_pages(tablet)  # one label
    assert squeezed(name) in squeezed(pdf_page.extract_text())
    assert tablet.eval_on_selector("#badge .badge-name", "name => name.scrollWidth <= name.clientWidth")
    held.release()


def test_a_visitor_who_picks_reception_gets_a_badge_saying_reception(tablet, live):
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    tablet.goto(f"{live.url}/kiosk/checkin")
    tablet.get_by_label("Full name").fill("Ragnhild Berg")
    tablet.get_by_label("Mobile number").fill(next(PHONES))
    tablet.get_by_role("button", name="I don’t know / reception").click()
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    tablet.emulate_media(media="print")
    expect(tablet.locator("#badge .badge-host .badge-value")).to_have_text("reception")  # shown "Reception"
    held.release()


def test_the_badge_page_leaves_no_name_behind_once_the_status_screen_shows(tablet, live):
    held = HeldNavigation(tablet, "**/kiosk/visits/*")
    fill_check_in(tablet, live, CANARY_NAME)
    tablet.get_by_role("button", name="Check in").click()
    held.wait()
    held.release()
    expect(tablet.get_by_role("heading", name="You are checked in")).to_be_visible()
    assert "Kanarifugl" not in tablet.content()
    assert tablet.locator("#badge").count() == 0


def test_the_server_never_sends_the_visitors_name_back(tablet, live):
    responses = []
    tablet.on("response", lambda response: responses.append(response))
    fill_check_in(tablet, live, CANARY_NAME)
    responses.clear()  # from here on: the check-in and what follows it
    tablet.get_by_role("button", name="Check in").click()
    expect(tablet.get_by_role("heading", name="You are checked in")).to_be_visible()
    tablet.wait_for_load_state("networkidle")
    paths = [urlsplit(response.url).path for response in responses]
    assert "/kiosk/checkin" in paths and any(path.startswith("/kiosk/visits/") for path in paths)
    bodies = [_body(response) for response in responses]
    assert [path for path, body in zip(paths, bodies, strict=True) if b"Kanarifugl" in body] == []


def _body(response):
    try:
        return response.body()
    except Exception:  # a redirect has no body to read
        return b""


def test_a_refused_check_in_prints_no_badge(tablet, live):
    fill_check_in(tablet, live, "Ragnhild Berg")
    tablet.locator("#website").fill("https://spam.example", force=True)  # the honeypot (R8)
    tablet.get_by_role("button", name="Check in").click()
    expect(tablet.get_by_role("heading", name="Please ask at the desk")).to_be_visible()
    assert printed(tablet) == []
    assert tablet.locator("#badge").count() == 0


def test_a_check_in_with_mistakes_prints_no_badge(tablet, live):
    tablet.goto(f"{live.url}/kiosk/checkin")
    tablet.get_by_label("Full name").fill("Ragnhild Berg")
    tablet.get_by_role("button", name="Check in").click()
    expect(tablet.locator("#error-summary")).to_be_visible()
    assert printed(tablet) == []


def test_without_badges_nothing_is_printed_and_the_page_has_no_badge(browser, tmp_path_factory):
    with live_app(tmp_path_factory, hosts=[KARI]) as plain, \
            paired_page(browser, plain, service_workers="block") as page:
        page.add_init_script(COUNT_PRINTS)
        stylesheets = []
        page.on("request", lambda request: stylesheets.append(urlsplit(request.url).path))
        held = HeldNavigation(page, "**/kiosk/visits/*")
        fill_check_in(page, plain, "Ragnhild Berg")
        page.get_by_role("button", name="Check in").click()
        held.wait()
        assert printed(page) == []
        assert page.locator("#badge, #badge-template").count() == 0
        assert "/static/css/badge.css" not in stylesheets and "/static/js/badge.js" not in stylesheets
        held.release()


# School groups


@pytest.fixture
def group(live):
    """Today's school visit of its own for Kari Ødegård: pupils Ola Nordmann, Kari Kanarifugl, Per Hansen; teacher
    Liv Lærer. Returns the school's name and the visit's id."""
    school = next(SCHOOLS)
    people = [Person("Ola", "Nordmann"), Person("Kari", "Kanarifugl", class_name="8B"), Person("Per", "Hansen"),
              Person("Liv", "Lærer", "teacher")]
    with live.app_context():
        host_id = get_db().execute("SELECT id FROM hosts").fetchone()[0]
        visit_id = create_school_visit(get_db(), get_host(get_db(), host_id), school=school, people=people)
    return school, visit_id


def test_a_group_check_in_prints_one_badge_per_ticked_pupil_in_one_job(tablet, live, group):
    school, visit_id = group
    held = HeldNavigation(tablet, "**/checked-in/**")
    tablet.goto(f"{live.url}/kiosk/school/{visit_id}")
    tablet.get_by_label("Ola N.").check()
    tablet.get_by_label("Kari K. – 8B").check()
    tablet.get_by_label("Liv L. (teacher)").check()  # checked in, but a teacher gets no pupil's badge
    tablet.get_by_role("button", name="Check in group").click()
    held.wait()
    [job] = printed(tablet)
    assert job == [["Visitor", name, school, "Visiting", "Kari Ødegård", "Velkommen", today_in_english()]
                   for name in ("Kari K.", "Ola N.")]
    pages = pdf_pages(tablet)
    assert [page.extract_text().splitlines()[1] for page in pages] == ["Kari K.", "Ola N."]
    for page in pages:
        assert_size(page, LABEL62)
    held.release()
    expect(tablet.get_by_role("heading", name=f"{school} is checked in")).to_be_visible()


def test_everyone_is_here_prints_a_badge_for_each_pupil_not_yet_arrived(tablet, live, group):
    school, visit_id = group
    held = HeldNavigation(tablet, "**/checked-in/**")
    tablet.goto(f"{live.url}/kiosk/school/{visit_id}")
    tablet.get_by_label("Ola N.").check()
    tablet.get_by_role("button", name="Check in group").click()
    held.wait()
    held.release()
    expect(tablet.get_by_role("heading", name=f"{school} is checked in")).to_be_visible()
    held = HeldNavigation(tablet, "**/checked-in/**")
    tablet.goto(f"{live.url}/kiosk/school/{visit_id}")
    tablet.get_by_role("button", name="Everyone is here").click()
    held.wait()
    assert [[card[1] for card in job] for job in printed(tablet)] == [["Kari K.", "Per H."]]
    held.release()


def test_a_teacher_who_unticks_the_badges_gets_none_printed(tablet, live, group):
    school, visit_id = group
    held = HeldNavigation(tablet, "**/checked-in/**")
    tablet.goto(f"{live.url}/kiosk/school/{visit_id}")
    tablet.get_by_label("Print a badge for each pupil who arrives").uncheck()
    tablet.get_by_label("Ola N.").check()
    tablet.get_by_role("button", name="Check in group").click()
    held.wait()
    assert printed(tablet) == []
    assert tablet.locator("#badge").count() == 0
    held.release()
    expect(tablet.get_by_role("heading", name=f"{school} is checked in")).to_be_visible()


# Accessibility


def test_the_check_in_and_school_group_pages_with_badges_have_no_axe_violations(tablet, live, group):
    tablet.goto(f"{live.url}/kiosk/checkin")
    violations = axe_violations(tablet, "check-in form with badges")
    tablet.goto(f"{live.url}/kiosk/school/{group[1]}")
    violations += axe_violations(tablet, "school group with badges")
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def test_the_admin_settings_with_the_badge_checkbox_have_no_axe_violations(browser, live):
    with new_page(browser, viewport=TABLET) as page:
        sign_in(page, live)
        page.goto(f"{live.url}/admin/settings")
        expect(page.get_by_label("Print a visitor badge after each check-in")).to_be_visible()
        violations = axe_violations(page, "settings with the visitor badge")
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def test_the_admin_checkbox_turns_badges_on_and_off_for_the_tablet(browser, tmp_path_factory):
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI]) as plain, \
            new_page(browser, viewport=TABLET) as admin, paired_page(browser, plain) as page:
        sign_in(admin, plain)
        admin.goto(f"{plain.url}/admin/settings")
        admin.get_by_label("Print a visitor badge after each check-in").check()
        admin.get_by_role("button", name="Save settings").click()
        expect(admin.get_by_text("The settings are saved.")).to_be_visible()
        page.goto(f"{plain.url}/kiosk/checkin")
        expect(page.locator("#badge-template")).to_have_count(1)
        admin.get_by_label("Print a visitor badge after each check-in").uncheck()
        admin.get_by_role("button", name="Save settings").click()
        expect(admin.get_by_text("The settings are saved.")).to_be_visible()
        page.goto(f"{plain.url}/kiosk/checkin")
        expect(page.locator("#badge-template")).to_have_count(0)
