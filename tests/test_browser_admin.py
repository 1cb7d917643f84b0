"""The admin area in Debian's Chromium: sign in, lockout, sign out and the back button."""

import pytest

from tests.browser import live_app, new_page, require_chromium, sign_in

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

FAILED = "The username or password is not right"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with the admins "ana" and "bob" and a host whose name is a canary."""
    hosts = [{"name": "Kari Kanarifugl", "phone": "+4741234567"}]
    with live_app(tmp_path_factory, admins=["ana", "bob"], hosts=hosts, LOGIN_MAX_FAILURES=3) as app:
        yield app


@pytest.fixture
def page(browser, live):
    with new_page(browser) as page:
        page.goto(f"{live.url}/admin/")
        yield page


def test_admin_signs_in_sees_the_directory_and_signs_out(page, live):
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, live)
    page.get_by_role("link", name="Hosts").click()
    expect(page.get_by_text("Kari Kanarifugl")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.go_back()
    assert "Kanarifugl" not in page.content()


def test_r30_a_wrong_password_and_an_unknown_user_get_the_same_message(page, live):
    sign_in(page, live, password="wrong password!!")
    wrong = page.locator(".error-summary").inner_text()
    sign_in(page, live, username="nobody", password="wrong password!!")
    assert page.locator(".error-summary").inner_text() == wrong
    assert FAILED in wrong


def test_r30_after_too_many_failures_even_the_right_password_is_refused(page, live):
    for _ in range(3):
        sign_in(page, live, username="bob", password="not the password")
    sign_in(page, live, username="bob")
    expect(page.get_by_text(FAILED)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_reimport_shows_what_changes_and_can_deactivate_who_is_missing(page, live):
    """Issue 11, item 1: the preview names each change and each host not in the file; nothing is saved before."""
    from kiosk.admin import accounts
    from kiosk.db import get_db
    from tests.helpers import ADMIN_PASSWORD, create_host

    with live.app_context():
        accounts.create_admin(get_db(), "cyd", ADMIN_PASSWORD)
        create_host(get_db(), name="Siri Slutter", phone="+4741234599", department="Finance")
    sign_in(page, live, username="cyd")
    page.goto(f"{live.url}/admin/hosts/import")
    page.get_by_label("Spreadsheet (CSV or Excel .xlsx)").set_input_files(
        {"name": "hosts.csv", "mimeType": "text/csv",
         "buffer": b"navn;mobil;avdeling\nKari Kanarifugl;41234567;Salg\nNy Person;41234598;\n"})
    page.get_by_role("button", name="Preview").click()
    changed = page.locator("#changed tbody tr")
    expect(changed).to_have_count(1)
    expect(changed.first).to_contain_text("Department")
    expect(changed.first).to_contain_text("Salg")
    expect(page.locator("#missing")).to_contain_text("Siri Slutter")
    page.get_by_label("Also deactivate the 1 host who is not in this file").check()
    page.get_by_role("button", name="Confirm: import 2 rows").click()
    expect(page.get_by_text("Imported: 1 added, 1 updated, 0 unchanged, 1 deactivated.")).to_be_visible()
    with live.app_context():
        assert {row["name"]: row["active"] for row in get_db()["hosts"].rows} == {
            "Kari Kanarifugl": 1, "Siri Slutter": 0, "Ny Person": 1}
