"""The admin area's languages in Chromium: a Norwegian browser gets bokmål from its Accept-Language, the picker
switches to nynorsk, axe finds nothing to fault in bokmål, and an English browser keeps English."""

import pytest

from tests.browser import KARI, TABLET, axe_violations, live_app, new_page, require_chromium, sign_in
from tests.helpers import ADMIN_PASSWORD

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with an admin and a host."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI]) as app:
        yield app


@pytest.fixture
def norwegian(browser):
    """A page of a browser set up in Norwegian Bokmål: it sends Accept-Language: nb-NO."""
    with new_page(browser, viewport=TABLET, locale="nb-NO") as page:
        yield page


def sign_in_in_bokmaal(page, live):
    page.goto(f"{live.url}/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    page.get_by_label("Brukernavn").fill("ana")
    page.get_by_label("Passord").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("button", name="Logg ut")).to_be_visible()


def test_a_norwegian_browser_gets_bokmaal_and_the_picker_switches_to_nynorsk(norwegian, live):
    page = norwegian
    sign_in_in_bokmaal(page, live)
    expect(page.get_by_role("heading", name="Ansatte", exact=True)).to_be_visible()
    nav = page.get_by_role("navigation", name="Administrasjon")
    expect(nav.get_by_role("link")).to_have_text(
        ["Ansatte", "Skolebesøk", "Kiosker", "Lokasjoner", "Katalogsynkronisering", "Statistikk", "Aktivitetslogg",
         "Innstillinger"])
    page.get_by_role("link", name="Nynorsk").click()
    expect(page.locator("html")).to_have_attribute("lang", "nn")
    expect(page.get_by_role("heading", name="Tilsette", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Logg ut")).to_be_visible()  # still signed in, on the same page
    assert page.url == f"{live.url}/admin/hosts"
    page.get_by_role("link", name="Kioskar").click()
    expect(page.get_by_role("heading", name="Kiosknettbrett")).to_be_visible()


def test_the_admin_screens_in_bokmaal_have_no_axe_violations(norwegian, live):
    page = norwegian
    page.goto(f"{live.url}/admin/login")
    violations = axe_violations(page, "login [nb]")
    sign_in_in_bokmaal(page, live)
    page.goto(f"{live.url}/admin/hosts")
    expect(page.get_by_role("link", name=KARI["name"])).to_be_visible()
    violations += axe_violations(page, "hosts [nb]")
    page.goto(f"{live.url}/admin/hosts/new")
    with page.expect_navigation():
        page.get_by_role("button", name="Lagre").click()
    expect(page.get_by_text("Skriv inn navnet på den ansatte.").first).to_be_visible()
    violations += axe_violations(page, "host form with errors [nb]")
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def test_an_english_browser_keeps_the_admin_in_english(browser, live):
    with new_page(browser, viewport=TABLET, locale="en-GB") as page:
        sign_in(page, live)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Hosts", exact=True)).to_be_visible()
