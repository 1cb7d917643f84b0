"""A whole school visit in Debian's Chromium: the admin uploads a roster, the teacher checks the group in."""

import pytest

from kiosk import create_app, schools
from kiosk.db import get_db
from tests.browser import pair_in_browser, require_chromium, serve
from tests.conftest import TEST_CONFIG
from tests.helpers import ADMIN_PASSWORD, create_admin, create_host

require_chromium()

from playwright.sync_api import expect  # noqa: E402

SCHOOL = "Bjerke videregående skole"
HOST_PHONE = "+4741234567"
ROSTER = "navn;rolle;klasse\nOla Nordmann;elev;8B\nKari Kanarifugl;elev;8B\nPer Hansen;elev;8B\nLiv Lærer;lærer;\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with an admin and a host."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(tmp_path_factory.mktemp("school") / "kiosk.db")})
    with app.app_context():
        create_admin(get_db(), username="ana")
        create_host(get_db(), name="Kari Ødegård", phone=HOST_PHONE, language="en")
    with serve(app):
        yield app


def upload_visit(browser, live, tmp_path):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live.url}/admin/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
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
    context.close()


def test_a_school_visit_from_upload_to_host_sms_to_consent(browser, live, tmp_path):
    upload_visit(browser, live, tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    pair_in_browser(page, live)
    page.goto(f"{live.url}/kiosk/")
    page.get_by_role("link", name="School visit").click()
    page.get_by_role("link", name=SCHOOL).click()
    expect(page.get_by_label("Ola N.")).to_be_visible()
    assert "Nordmann" not in page.content()
    page.get_by_label("Find a name").fill("kar")
    expect(page.get_by_label("Ola N.")).to_be_hidden()
    page.get_by_label("Kari K. – 8B").check()
    page.get_by_label("Find a name").fill("")
    page.get_by_label("Ola N.").check()
    page.get_by_label("Liv L. (teacher)").check()
    page.get_by_role("button", name="Check in group").click()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    live.extensions["dispatcher"].drain(timeout=10)
    assert [(sms.to, sms.body) for sms in live.extensions["sms"].outbox] == [
        (HOST_PHONE, f"{SCHOOL}: 3 of 4 have arrived at reception.")]
    # A pupil then opts in to hear about apprenticeships, from the same group page.
    page.goto(f"{live.url}/kiosk/")
    page.get_by_role("link", name="School visit").click()
    page.get_by_role("link", name=SCHOOL).click()
    page.get_by_role("link", name="Apprenticeships").click()
    page.get_by_label("Name", exact=True).fill("Kari Kanarifugl")
    page.get_by_label("E-mail").fill("kari@example.no")
    consent_box = page.get_by_role("checkbox")
    expect(consent_box).not_to_be_checked()
    assert page.locator("label[for=agree]").inner_text().startswith("Yes")
    consent_box.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Thank you. Your answer is saved.")).to_be_visible()
    with live.app_context():
        assert [(row["school"], row["email"]) for row in get_db()["consents"].rows] == [(SCHOOL, "kari@example.no")]
    context.close()
