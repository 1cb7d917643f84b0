"""The tablet in Debian's Chromium: page weight, nothing fetched from elsewhere, layout at tablet and screen sizes."""

import pytest

from tests.browser import CACHE_CONTENTS, OFFLINE_CACHE, live_app, paired_page, require_chromium

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

MAX_CHECKIN_BYTES = 60 * 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_app(tmp_path_factory, hosts=[{"name": "Kari Ødegård", "phone": "+4741234567"}]) as app:
        yield app


@pytest.fixture
def context(browser, live):
    """The browser context of a paired tablet (its pairing page closed again)."""
    with paired_page(browser, live) as page:
        page.close()
        yield page.context


def test_the_check_in_screen_weighs_at_most_60_kb_and_loads_nothing_from_elsewhere(context, live):
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{live.url}/kiosk/checkin", wait_until="networkidle")
    expect(page.get_by_role("heading", name="Check in")).to_be_visible()
    assert responses
    assert [r.url for r in responses if not r.url.startswith(live.url + "/")] == []
    # A 304 counts with the body Chromium takes from its cache: the page weighs what it shows.
    sizes = {r.url: len(r.body()) for r in responses if not 300 <= r.status < 304}
    total = sum(sizes.values())
    print(f"check-in screen: {total} bytes in {len(sizes)} responses: {sizes}")
    assert total <= MAX_CHECKIN_BYTES, sizes


@pytest.mark.parametrize("width, height", [(1280, 800), (800, 1280), (1920, 1080)])
@pytest.mark.parametrize("path", ["/kiosk/", "/kiosk/checkin"])
def test_no_horizontal_scroll_on_tablet_and_screen_sizes(context, live, width, height, path):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live.url}{path}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} at {width}×{height} scrolls sideways by {overflow}px"


def test_offline_the_tablet_shows_the_ask_at_the_desk_page(context, live):
    page = context.new_page()
    page.goto(f"{live.url}/kiosk/")
    assert {path for path, _ in page.evaluate(CACHE_CONTENTS)} == OFFLINE_CACHE
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    try:
        page.goto(f"{live.url}/kiosk/checkin")
        expect(page.get_by_role("heading", name="Please ask at the desk")).to_be_visible()
        assert page.locator("form").count() == 0
        # The stylesheet comes from the cache too: the page keeps the kiosk's look.
        assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith("system-ui")
    finally:
        context.set_offline(False)
    page.goto(f"{live.url}/kiosk/checkin")
    expect(page.get_by_role("heading", name="Check in")).to_be_visible()


def test_chromium_reads_the_manifest_without_errors(context, live):
    page = context.new_page()
    page.goto(f"{live.url}/kiosk/")
    manifest = context.new_cdp_session(page).send("Page.getAppManifest")
    assert manifest["url"] == f"{live.url}/kiosk/manifest.webmanifest"
    assert manifest["errors"] == []
    assert '"display": "fullscreen"' in manifest["data"]


def test_the_host_search_says_nobody_found_in_plain_sight_and_forgives_a_typo(context, live):
    page = context.new_page()
    page.goto(f"{live.url}/kiosk/checkin")
    field = page.get_by_role("combobox")
    field.fill("xyzzy")
    expect(page.locator("#host-none")).to_be_visible()
    expect(page.locator("#host-none")).to_contain_text("Nobody found. Try the surname")
    field.fill("karri")  # one letter too many
    expect(page.get_by_role("option", name="Kari Ødegård")).to_be_visible()
    expect(page.locator("#host-none")).to_be_hidden()


def test_after_a_mistake_the_open_list_stays_above_an_on_screen_keyboard(context, live):
    """The bottom 40 % of a 1280×800 screen is taken to be covered by the keyboard (issue 11, item 2)."""
    page = context.new_page()
    page.goto(f"{live.url}/kiosk/checkin")
    page.get_by_role("button", name="Check in", exact=True).click()  # everything empty: the error summary shows
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_role("combobox").fill("kar")
    expect(page.get_by_role("option", name="Kari Ødegård")).to_be_visible()
    field = page.get_by_role("combobox").bounding_box()
    options = page.get_by_role("listbox").bounding_box()
    assert field["y"] >= 0
    assert options["y"] + options["height"] <= 800 * 0.6, (field, options)


def test_in_portrait_the_language_bar_stays_at_the_bottom_of_the_screen(context, live):
    page = context.new_page()
    page.set_viewport_size({"width": 800, "height": 1280})
    page.goto(f"{live.url}/kiosk/")
    bar = page.locator("footer.bottom").bounding_box()
    assert abs(bar["y"] + bar["height"] - 1280) <= 1, bar  # not floating halfway up a short page


def test_the_consent_boxs_mistake_is_on_its_own_line_above_the_box(context, live):
    from kiosk.db import get_db
    from kiosk.hosts.directory import list_hosts
    from tests.helpers import create_school_visit

    with live.app_context():
        visit_id = create_school_visit(get_db(), list_hosts(get_db())[0])
    page = context.new_page()
    page.goto(f"{live.url}/kiosk/school/{visit_id}/apprenticeships")
    page.get_by_label("Name", exact=True).fill("Kari Kanarifugl")
    page.get_by_label("E-mail").fill("kari@example.no")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#agree-error")
    expect(error).to_be_visible()
    message, box = error.bounding_box(), page.get_by_role("checkbox").bounding_box()
    assert message["y"] + message["height"] <= box["y"] + 1  # above the box
    assert message["width"] > 300  # not squeezed into a narrow column beside it
