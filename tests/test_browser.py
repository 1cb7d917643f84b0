"""The kiosk in Debian's Chromium, driven by Playwright, against the app served over real HTTP."""

import pytest

from kiosk.db import get_db
from kiosk.devices import pairing as devices
from kiosk.locations import locations
from tests.browser import CACHE_CONTENTS, OFFLINE_CACHE, live_app, new_page, paired_page, require_chromium
from tests.conftest import TEST_CONFIG
from tests.helpers import place_hosts

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

HOST_PHONE = "+4741234567"
RECEPTION = TEST_CONFIG["RECEPTION_PHONE"]
NAME = "Ragnhild Kanarifugl Berg"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on an ephemeral port in a background thread, with two hosts in its directory."""
    # One app serves the whole module, whose tests check in the same number more often than R4 allows in a day.
    hosts = [{"name": "Kari Ødegård", "phone": HOST_PHONE},
             {"name": "Ola Nordmann", "phone": "+4741234568", "department": "Finance"}]
    with live_app(tmp_path_factory, hosts=hosts, STATUS_RESET_SECONDS=2, SMS_PER_NUMBER_PER_HOUR=100,
                  SMS_PER_NUMBER_PER_DAY=100) as app:
        yield app


@pytest.fixture
def sms(live):
    """The fake SMS client of the live app, emptied before each test."""
    client = live.extensions["sms"]
    client.outbox.clear()
    client.attempts.clear()
    yield client
    live.extensions["dispatcher"].drain(timeout=10)


@pytest.fixture
def page(browser, live):
    """A fresh tablet-sized browser page of a paired tablet, on the welcome screen."""
    live.config.update(IDLE_SECONDS=60)
    with paired_page(browser, live) as page:
        page.goto(f"{live.url}/kiosk/")
        yield page


def start_check_in(page):
    page.get_by_role("link", name="Check in").click()
    expect(page.get_by_role("heading", name="Check in")).to_be_visible()
    page.wait_for_load_state()


def fill_visitor(page, name=NAME, phone="412 34 999"):
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Mobile number").fill(phone)


def pick_host(page, typed="ode", name="Kari Ødegård"):
    page.get_by_label("Who are you visiting?").fill(typed)
    page.get_by_role("option", name=name).click()


def check_in(page):
    """The whole form, filled and sent, for Kari Ødegård."""
    start_check_in(page)
    fill_visitor(page)
    pick_host(page)
    page.get_by_role("button", name="Check in").click()


def test_visitor_checks_in_and_sees_both_sms_sent(page, sms, live):
    check_in(page)
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    expect(page.get_by_text("Kari Ødegård has been sent a text message that you are here.")).to_be_visible()
    expect(page.get_by_text("Your confirmation has been sent to your phone.")).to_be_visible()
    assert {message.to for message in sms.outbox} == {HOST_PHONE, "+4741234999"}
    assert "Kanarifugl" not in page.url


def test_status_screen_returns_to_welcome_by_itself(page, sms):
    check_in(page)
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    page.wait_for_url("**/kiosk/", timeout=8_000)
    expect(page.get_by_role("link", name="Check in")).to_be_visible()


def test_whole_check_in_works_by_keyboard_alone(page, sms):
    page.keyboard.press("Tab")  # the company name link
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check in")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Full name")).to_be_focused()
    page.keyboard.type(NAME)
    page.keyboard.press("Tab")
    page.keyboard.type("41234999")
    page.keyboard.press("Tab")
    page.keyboard.type("nord")
    expect(page.get_by_role("option", name="Ola Nordmann")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option", name="Ola Nordmann")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Who are you visiting?")).to_have_value("Ola Nordmann")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    assert "+4741234568" in {message.to for message in sms.outbox}


def test_mistakes_are_shown_next_to_their_fields(page, sms):
    start_check_in(page)
    page.get_by_label("Mobile number").fill("22 12 34 56")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#name-error")).to_have_text("Enter your full name.")
    expect(page.locator("#phone-error")).to_have_text(
        "Enter a mobile number. We can only send text messages to mobile phones.")
    expect(page.locator("#host_query-error")).to_have_text("Choose the person you are visiting from the list.")
    expect(page.get_by_label("Full name")).to_have_attribute("aria-describedby", "name-error")
    assert sms.outbox == []


def test_unreachable_host_sends_the_visitor_to_the_desk_and_tells_reception(page, sms):
    sms.fail(to=HOST_PHONE, code=21211)
    check_in(page)
    expect(page.get_by_text("We could not reach Kari Ødegård by text message.")).to_be_visible()
    expect(page.get_by_text("Please go to the front desk so we can help you.")).to_be_visible()
    expect(page.get_by_text("Reception has been told you are here.")).to_be_visible()
    expect(page.get_by_text("Please take a seat.")).to_be_hidden()
    assert RECEPTION in {message.to for message in sms.outbox}


def test_visitor_who_does_not_know_whom_to_ask_for_reaches_reception(page, sms):
    start_check_in(page)
    fill_visitor(page)
    page.get_by_role("button", name="I don’t know / reception").click()
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    assert RECEPTION in {message.to for message in sms.outbox}


def test_r35_unticking_the_confirmation_texts_only_the_host(page, sms, live):
    start_check_in(page)
    fill_visitor(page)
    pick_host(page)
    page.get_by_label("Send me a confirmation by SMS").uncheck()
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Kari Ødegård has been sent a text message that you are here.")).to_be_visible()
    live.extensions["dispatcher"].drain(timeout=5)
    assert [message.to for message in sms.outbox] == [HOST_PHONE]


def test_r26_idle_form_is_wiped_and_returns_to_welcome(page, live):
    live.config.update(IDLE_SECONDS=1)
    start_check_in(page)
    fill_visitor(page)
    page.wait_for_url("**/kiosk/", timeout=5_000)
    assert "Kanarifugl" not in page.content()
    live.config.update(IDLE_SECONDS=60)
    start_check_in(page)
    expect(page.get_by_label("Full name")).to_have_value("")


def test_r25_back_button_after_check_in_never_shows_the_visitors_entries(page, sms):
    check_in(page)
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    page.go_back()  # the form was replaced in history by the status page: Back leads to the welcome screen
    expect(page.get_by_role("heading", name="Welcome to Velkommen")).to_be_visible()
    assert "Kanarifugl" not in page.content()
    page.go_forward()
    page.go_back()
    assert "Kanarifugl" not in page.content()


def test_r26_no_visitor_data_in_browser_storage_cookies_or_the_offline_cache(page, sms):
    check_in(page)
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    storage = page.evaluate("""async () => ({
        local: Object.keys(localStorage).length,
        session: Object.keys(sessionStorage).length,
        databases: (await indexedDB.databases()).length,
    })""")
    assert storage == {"local": 0, "session": 0, "databases": 0}
    cached = page.evaluate(CACHE_CONTENTS)
    assert {path for path, _ in cached} == OFFLINE_CACHE
    assert all("Kanarifugl" not in body and "41234999" not in body and "Ødegård" not in body for _, body in cached)
    cookies = page.context.cookies()
    assert all("Kanarifugl" not in cookie["value"] and "41234999" not in cookie["value"] for cookie in cookies)
    assert all(cookie["httpOnly"] for cookie in cookies)


def test_r7_a_tablet_pairs_with_a_one_time_link_and_is_refused_once_revoked(browser, live):
    with live.app_context():
        code = devices.create_pairing_code(get_db(), "Front desk left")
    with new_page(browser) as page:
        page.goto(f"{live.url}/kiosk/")
        expect(page.get_by_role("heading", name="This tablet is not registered")).to_be_visible()
        page.goto(f"{live.url}/kiosk/pair?code={code.code}")
        expect(page.get_by_text("This tablet will be registered as “Front desk left”.")).to_be_visible()
        page.get_by_role("button", name="Register this tablet").click()
        page.get_by_role("link", name="Start").click()
        expect(page.get_by_role("link", name="Check in")).to_be_visible()
        with live.app_context():
            device = next(d for d in devices.list_devices(get_db()) if d.name == "Front desk left")
            devices.revoke_device(get_db(), device.id)
        page.reload()
        expect(page.get_by_role("heading", name="This tablet is not registered")).to_be_visible()


def test_r8_a_refused_check_in_asks_the_visitor_politely_to_go_to_the_desk_and_tells_it(page, sms, live):
    live.config.update(FORM_MIN_SECONDS=60)  # no person fills the form this fast
    try:
        check_in(page)
        expect(page.get_by_text("We could not check you in here. Please ask at the desk.")).to_be_visible()
        expect(page.get_by_text("The desk has been told that someone needs help here.")).to_be_visible()
    finally:
        live.config.update(FORM_MIN_SECONDS=0)
    live.extensions["dispatcher"].drain(timeout=10)
    [help_sms] = sms.attempts  # to reception, never to the number typed (R4)
    assert help_sms.to == RECEPTION and help_sms.body.startswith("Someone at Reception tablet asked for help at ")


def test_a_host_sms_that_does_not_go_through_in_time_sends_the_visitor_to_the_desk(page, sms, live):
    live.config.update(HOST_ESCALATE_SECONDS=1, SMS_RETRY_WINDOW_SECONDS=30, SMS_RETRY_BASE_SECONDS=0.5,
                       SMS_RETRY_MAX_SECONDS=0.5)
    sms.fail(to=HOST_PHONE, status=503, times=1000)
    try:
        check_in(page)
        expect(page.get_by_text("Sending a text message to Kari Ødegård…")).to_be_visible()
        expect(page.get_by_text("Please go to the front desk so we can help you.")).to_be_visible()
        expect(page.get_by_text("Our text message to Kari Ødegård has not gone through yet.")).to_be_visible()
        expect(page.get_by_text("Reception has been told you are here.")).to_be_visible()
        expect(page.get_by_text("Please take a seat.")).to_be_hidden()
        page.wait_for_url("**/kiosk/", timeout=15_000)  # it leaves once the visitor has had time to read why
    finally:
        sms._failures.clear()
        live.config.update(HOST_ESCALATE_SECONDS=TEST_CONFIG.get("HOST_ESCALATE_SECONDS", 60),
                           SMS_RETRY_WINDOW_SECONDS=TEST_CONFIG["SMS_RETRY_WINDOW_SECONDS"],
                           SMS_RETRY_BASE_SECONDS=TEST_CONFIG["SMS_RETRY_BASE_SECONDS"],
                           SMS_RETRY_MAX_SECONDS=TEST_CONFIG["SMS_RETRY_MAX_SECONDS"])
    assert [s.to for s in sms.outbox][:1] == [RECEPTION]


def test_a_host_of_another_office_is_shown_with_that_office(page, live):
    # Issue 16: the tablet's own office's hosts come first; one of another office says which.
    with live.app_context():
        db = get_db()
        bergen = locations.save_location(db, None, {"name": "Bergen"})
        ola = db.execute("SELECT id FROM hosts WHERE name = 'Ola Nordmann'").fetchone()[0]
        place_hosts(db, {ola: [bergen]})
    try:
        start_check_in(page)
        page.get_by_label("Who are you visiting?").fill("nord")
        expect(page.get_by_role("option").locator(".department")).to_have_text("Finance · Bergen")
    finally:
        with live.app_context():
            assert not locations.delete_location(get_db(), bergen)
