"""The admin area in Debian's Chromium: sign in, lockout, sign out and the back button."""

import pytest

from kiosk import create_app
from kiosk.db import get_db
from tests.browser import require_chromium, serve
from tests.conftest import TEST_CONFIG
from tests.helpers import ADMIN_PASSWORD, create_admin, create_host

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

FAILED = "The username or password is not right"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with an admin "ana" and a host whose name is a canary."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(tmp_path_factory.mktemp("admin") / "kiosk.db"),
                      "LOGIN_MAX_FAILURES": 3})
    with app.app_context():
        create_admin(get_db(), username="ana")
        create_admin(get_db(), username="bob")
        create_host(get_db(), name="Kari Kanarifugl", phone="+4741234567")
    with serve(app):
        yield app


@pytest.fixture
def page(browser, live):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live.url}/admin/")
    yield page
    context.close()


def sign_in(page, username="ana", password=ADMIN_PASSWORD):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_sees_the_directory_and_signs_out(page, live):
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page)
    page.get_by_role("link", name="Hosts").click()
    expect(page.get_by_text("Kari Kanarifugl")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.go_back()
    assert "Kanarifugl" not in page.content()


def test_r30_a_wrong_password_and_an_unknown_user_get_the_same_message(page):
    sign_in(page, password="wrong password!!")
    wrong = page.locator(".error-summary").inner_text()
    sign_in(page, username="nobody", password="wrong password!!")
    assert page.locator(".error-summary").inner_text() == wrong
    assert FAILED in wrong


def test_r30_after_too_many_failures_even_the_right_password_is_refused(page):
    for _ in range(3):
        sign_in(page, username="bob", password="not the password")
    sign_in(page, username="bob")
    expect(page.get_by_text(FAILED)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
