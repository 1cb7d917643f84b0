"""The statistics page in Debian's Chromium: the charts drawn on the server as SVG show, break no rule of the strict
CSP, keep their numbers one click away, fit a narrow window and pass axe (WCAG 2.1 A and AA)."""

from datetime import timedelta

import pytest

from kiosk.db import get_db, now, timestamp
from tests.browser import KARI, TABLET, axe_violations, live_app, new_page, require_chromium, sign_in

require_chromium()
pytestmark = pytest.mark.browser  # `make test-fast` leaves these out

from playwright.sync_api import expect  # noqa: E402

CHARTS = {"Check-ins per day": "checkins-per-day", "Check-ins by hour of day": "checkins-per-hour",
          "Text messages per day, by status": "sms-per-day", "Refused check-ins by reason": "refusals"}
STATUSES = ["sent", "delivered", "failed", "undelivered"]
# Registered before any page script runs: every CSP violation the page causes, as "directive: blocked thing".
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', event => {
    window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI || event.sample}`);
});
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real port, with the admin ana and 40 check-ins over the last 20 days, their host SMS in every
    status, and refused check-ins."""
    with live_app(tmp_path_factory, admins=["ana"], hosts=[KARI]) as app:
        with app.app_context():
            db = get_db()
            for n in range(40):
                created = now() - timedelta(days=n % 20, hours=n % 7)
                db["visits"].insert({"id": f"visit-{n}", "host_id": 1, "created_at": timestamp(created),
                                     "expires_at": timestamp(now() + timedelta(days=60))})
                db["messages"].insert({"visit_id": f"visit-{n}", "recipient": "host", "status": STATUSES[n % 4]})
            db["refusals"].insert_all([{"hour": timestamp()[:13], "reason": "too_fast", "count": 12},
                                       {"hour": timestamp()[:13], "reason": "honeypot", "count": 3}])
        yield app


@pytest.fixture(scope="module")
def page(browser, live):
    """A signed-in admin page that records CSP violations and console errors (page.problems)."""
    with new_page(browser, viewport=TABLET) as page:
        sign_in(page, live)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.problems = []
        page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.goto(f"{live.url}/admin/statistics")
        yield page


def test_every_chart_renders_as_a_named_image(page):
    for name in CHARTS:
        chart = page.get_by_role("img", name=name, exact=True)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["width"] > 600 and box["height"] > 100, (name, box)
        bars = chart.locator("rect:has(title)")
        assert bars.count() > 0, name
        for index in range(bars.count()):
            bar = bars.nth(index).bounding_box()
            assert bar["width"] > 0 and bar["height"] > 0, (name, index, bar)
            assert box["x"] <= bar["x"] and bar["x"] + bar["width"] <= box["x"] + box["width"] + 1
            assert box["y"] <= bar["y"] and bar["y"] + bar["height"] <= box["y"] + box["height"] + 1


def test_the_stacked_bars_are_filled_with_their_patterns(page):
    fills = page.locator("#sms-per-day-chart-summary ~ svg rect:has(title)").evaluate_all(
        "bars => bars.map(bar => getComputedStyle(bar).fill)")
    assert any("url(" in fill and "sms-per-day-chart-failed" in fill for fill in fills)
    assert any(fill == "rgb(30, 107, 52)" for fill in fills)  # delivered: solid green
    pattern = page.locator("#sms-per-day-chart-failed")
    assert pattern.count() == 1


def test_the_page_breaks_no_csp_rule_and_logs_no_error(page):
    assert page.evaluate("window.cspViolations") == []
    assert page.problems == []
    # The listener does hear a violation: an inline style the CSP blocks.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations")[0].startswith("style-src")
    page.reload()  # the other tests see the page as it came


def test_the_numbers_are_one_click_under_each_chart(page):
    for name, table_id in CHARTS.items():
        section = page.locator("section").filter(has=page.get_by_role("heading", name=name, exact=True))
        table = section.locator(f"#{table_id}")
        expect(table).to_be_hidden()
        section.get_by_text("Show the numbers").click()
        expect(table).to_be_visible()
    expect(page.locator("#refusals")).to_contain_text("too_fast")


def test_the_statistics_page_has_no_axe_violations(page):
    page.locator("details").evaluate_all("details => details.forEach(d => { d.open = true; })")
    violations = axe_violations(page, "statistics with charts")
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def test_the_charts_shrink_to_a_narrow_window(page):
    page.set_viewport_size({"width": 640, "height": 400})  # a tablet at 200 % zoom
    try:
        width = page.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
        assert width[0] <= width[1], f"horizontal scrolling in a narrow window: {width}"
        for name in CHARTS:
            box = page.get_by_role("img", name=name, exact=True).bounding_box()
            assert 0 < box["width"] <= 640 and box["height"] > 50, (name, box)
    finally:
        page.set_viewport_size(TABLET)
