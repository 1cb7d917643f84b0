"""A whole school visit in Debian's Chromium: the admin uploads a roster, the teacher checks the group in."""

import pytest

from kiosk.db import get_db
from tests.browser import KARI, live_app, paired_page, require_chromium, upload_visit
from tests.helpers import SCHOOL

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

HOST_PHONE = KARI["phone"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with an admin and a host."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI]) as app:
        yield app


def test_a_school_visit_from_upload_to_host_sms_to_consent(browser, live, tmp_path):
    upload_visit(browser, live, tmp_path)
    with paired_page(browser, live) as page:
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
        expect(page.get_by_role("heading", name=f"{SCHOOL} is checked in")).to_be_visible()
        expect(page.get_by_role("heading", name="3 of 4 have arrived")).to_be_visible()
        expect(page.locator("#missing li")).to_have_count(1)
        live.extensions["dispatcher"].drain(timeout=10)
        assert [sms.to for sms in live.extensions["sms"].outbox] == [HOST_PHONE]
        assert "3 of 4" in live.extensions["sms"].outbox[0].body
        # Per comes late: "Everyone is here" checks in whoever has not arrived, in one more host SMS.
        page.get_by_role("link", name="Check in the others when they come").click()
        page.get_by_role("button", name="Everyone is here").click()
        expect(page.get_by_role("heading", name="4 of 4 have arrived")).to_be_visible()
        expect(page.locator("#missing")).to_have_count(0)
        live.extensions["dispatcher"].drain(timeout=10)
        assert [sms.to for sms in live.extensions["sms"].outbox] == [HOST_PHONE, HOST_PHONE]
        # A pupil then opts in to hear about apprenticeships, straight from the page the teacher sees.
        page.get_by_role("link", name="Pupils: sign up to hear about apprenticeships").click()
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
