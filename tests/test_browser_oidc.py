"""OIDC sign-in in Debian's Chromium, through the provider's own sign-in page (oidc-provider-mock).

The provider is addressed as http://localhost:<port>, the app as http://127.0.0.1:<port>: two sites, as a real
provider and the app are, so the browser keeps the app's SameSite=Strict session cookie from the provider's redirect
back, and the sign-in must work all the same (kiosk/admin/oidc.py)."""

import pytest
from oidc_provider_mock import User

from tests.browser import live_app, new_page, require_chromium
from tests.oidc_provider import GROUP, oidc_settings, running_provider

require_chromium()
pytestmark = [pytest.mark.browser,  # `make test-fast` leaves these out
              pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]  # the mock's Authlib use

from playwright.sync_api import expect  # noqa: E402

USERS = [
    User(sub="kari-7f3a", claims={"email": "kari@firma.no", "email_verified": True, "groups": [GROUP]}),
    User(sub="ola-22b8", claims={"email": "ola@firma.no", "email_verified": True, "groups": ["sales"]}),
]


@pytest.fixture(scope="module")
def provider():
    with running_provider(USERS, hostname="localhost") as provider:
        yield provider


@pytest.fixture(scope="module")
def live(tmp_path_factory, provider):
    """The app on a real port; its admins sign in with the provider, as the members of GROUP."""
    with live_app(tmp_path_factory, **oidc_settings(provider, OIDC_NAME="Entra ID")) as app:
        yield app


@pytest.fixture
def page(browser):
    with new_page(browser) as page:
        # The provider's page asks a CDN for its stylesheet: nothing may leave this machine.
        page.context.route("http*://cdn.jsdelivr.net/**", lambda route: route.abort())
        yield page


def test_an_admin_signs_in_on_the_providers_page_and_lands_in_the_admin_area(page, live, provider):
    page.goto(f"{live.url}/admin/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Sign in with Entra ID").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert page.url.startswith(f"{provider.issuer}/oauth2/authorize?")
    page.get_by_role("button", name="kari-7f3a").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url == f"{live.url}/admin/hosts"
    expect(page.locator(".sign-out .who")).to_have_text("kari@firma.no (SSO)")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit-events")).to_contain_text("sign in with OIDC")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["__Host-session"]["sameSite"] == "Strict"
    assert "__Host-oidc_sign_in" not in cookies  # used once, and gone


def test_an_account_outside_the_admin_group_is_told_so_in_plain_words(page, live):
    page.goto(f"{live.url}/admin/login")
    page.get_by_role("link", name="Sign in with Entra ID").click()
    page.get_by_role("button", name="ola-22b8").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your account is not allowed into the admin area. Ask IT to add you to the group velkommen-admins.")
    assert page.url.startswith(f"{live.url}/admin/login/oidc/callback?")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(f"{live.url}/admin/audit")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
