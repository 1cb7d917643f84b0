"""Host replies on the tablet in Debian's Chromium (issue 14): the status screen changes to "on the way" when the
host answers, and the welcome screen's "On the way" board shows the host's short name and nothing about a visitor.
The reply is posted as Twilio posts it, signed with the SDK's RequestValidator, to the live server."""

import secrets

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.browser import axe_violations, live_app, paired_page, require_chromium, submit_check_in

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

PUBLIC_URL = "https://kiosk.example.org"
AUTH_TOKEN = "b" * 32
HOST = "+4741234567"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # The status screen stays up long enough for a reply; replies need a verifiable webhook.
    with live_app(tmp_path_factory, hosts=[{"name": "Kari Ødegård", "phone": HOST, "language": "en"}],
                  PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN=AUTH_TOKEN, STATUS_RESET_SECONDS=60) as app:
        yield app


def host_replies(live, body):
    """The host answers the arrival SMS: Twilio POSTs the reply, signed for our public URL."""
    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": HOST, "To": "+4759440000", "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/inbound", params)
    response = requests.post(f"{live.url}/webhooks/twilio/inbound", data=params, timeout=5,
                             headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_the_status_screen_changes_to_on_the_way_and_the_welcome_board_shows_the_host(browser, live):
    with paired_page(browser, live) as page:
        page.goto(f"{live.url}/kiosk/checkin")
        submit_check_in(page, phone="412 34 999")
        expect(page.get_by_text("Kari Ødegård has been sent a text message that you are here.")).to_be_visible()
        expect(page.locator("#coming")).to_be_hidden()
        host_replies(live, "Kommer om 5 min")
        expect(page.get_by_text("Kari Ødegård is on the way (about 5 minutes).")).to_be_visible()
        assert axe_violations(page, "status, host on the way") == []
        page.get_by_role("link", name="Done").click()
        board = page.get_by_role("region", name="On the way")
        expect(board).to_be_visible()
        expect(board.get_by_role("listitem")).to_have_text(["Kari Ø. — about 5 min"])
        assert "Ragnhild" not in page.content() and "412" not in page.content()
        assert axe_violations(page, "welcome, on the way board") == []


def test_the_welcome_board_appears_by_itself_when_a_host_answers(browser, live):
    with paired_page(browser, live) as page:
        page.clock.install()
        page.goto(f"{live.url}/kiosk/checkin")
        submit_check_in(page, phone="412 34 998")
        page.goto(f"{live.url}/kiosk/")
        board = page.locator("#on-the-way")
        host_replies(live, "OK")  # answers the latest visit: this one
        page.clock.run_for(16_000)  # static/js/board.js asks again every 15 s
        expect(board.get_by_role("listitem")).to_have_text(["Kari Ø. — on the way"])
