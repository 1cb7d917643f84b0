"""Admin pages: access control (R20, R22, R24), kiosk tablets, statistics, audit log, settings and alerts."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk import settings
from kiosk.admin import audit, charts, stats
from kiosk.db import get_db, now, timestamp
from kiosk.devices import pairing as devices
from tests.helpers import (
    CANARY_NAME,
    CANARY_PHONE,
    admin_client,
    create_host,
    csrf_token,
    get_page,
    pair_tablet,
    parse_page,
    tablet_client,
)

GET_PAGES = ["/admin/", "/admin/hosts", "/admin/hosts/new", "/admin/hosts/1", "/admin/hosts/1/delete",
             "/admin/hosts/import", "/admin/hosts/export", "/admin/kiosks", "/admin/statistics", "/admin/audit",
             "/admin/settings", "/admin/schools/", "/admin/schools/new", "/admin/schools/consents",
             "/admin/schools/consents.csv", "/admin/statistics.csv", "/admin/directory-sync", "/admin/locations",
             "/admin/locations/new", "/admin/locations/1", "/admin/locations/1/delete", "/admin/admins"]
DOWNLOADS = ("/admin/hosts/export", "/admin/schools/consents.csv", "/admin/statistics.csv")
POST_URLS = ["/admin/login", "/admin/logout", "/admin/hosts/new", "/admin/hosts/1", "/admin/hosts/1/deactivate",
             "/admin/hosts/1/reactivate", "/admin/hosts/1/delete", "/admin/hosts/selected", "/admin/hosts/import",
             "/admin/hosts/import/confirm",
             "/admin/kiosks/pair", "/admin/kiosks/1/rename", "/admin/kiosks/1/revoke", "/admin/alerts/1/resolve",
             "/admin/settings", "/admin/schools/new", "/admin/schools/confirm", "/admin/schools/1/delete",
             "/admin/schools/consents/1/withdraw", "/admin/directory-sync/tokens",
             "/admin/directory-sync/tokens/1/revoke", "/admin/locations/new", "/admin/locations/1",
             "/admin/locations/1/delete", "/admin/admins/1/location"]


@pytest.fixture
def admin(app):
    """A test client signed in as an admin."""
    return admin_client(app)


def post_form(client, url, page_url=None, **data):
    """POST to `url` with the CSRF token of the page at `page_url` (default: the same URL)."""
    page = get_page(client, page_url or url)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


# Access control


def admin_rules(app, method):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.") and method in rule.methods]
    return sorted(re.sub(r"<int:\w+>", "1", rule.rule) for rule in rules)


def test_every_admin_route_is_in_the_access_control_tests(app):
    # Open to everyone: the sign-in page, the language picker and OIDC sign-in's two ends (tests/test_oidc.py).
    assert admin_rules(app, "GET") == sorted([*GET_PAGES, "/admin/login", "/admin/language/<code>",
                                              "/admin/login/oidc", "/admin/login/oidc/callback"])
    assert admin_rules(app, "POST") == sorted(POST_URLS)


@pytest.mark.parametrize("url", GET_PAGES)
def test_every_admin_page_sends_a_visitor_who_is_not_signed_in_to_the_sign_in_page(app, db, url):
    create_host(db, name=CANARY_NAME, phone=CANARY_PHONE)
    response = app.test_client().get(url)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert "Kanarifugl" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [url for url in POST_URLS if url != "/admin/login"])
def test_every_admin_action_sends_a_visitor_who_is_not_signed_in_to_the_sign_in_page(app, db, url):
    create_host(db)
    client = app.test_client()
    response = post_form(client, url, page_url="/admin/login", name="Changed")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert db["hosts"].get(1)["name"] == "Kari Ødegård" and db["hosts"].get(1)["active"] == 1


@pytest.mark.parametrize("url", POST_URLS)
def test_r20_every_admin_post_without_a_csrf_token_is_refused(admin, db, url):
    create_host(db)
    response = admin.post(url, data={"name": "Changed", "username": "ana", "password": "x" * 12})
    assert response.status_code == 400
    assert db["hosts"].get(1)["name"] == "Kari Ødegård" and db["hosts"].get(1)["active"] == 1


@pytest.mark.parametrize("url", [*GET_PAGES, "/admin/login"])
def test_r24_admin_pages_are_not_stored(admin, db, url):
    create_host(db)
    assert admin.get(url).headers["Cache-Control"] == "no-store"


def test_r24_the_sign_in_page_and_its_redirects_are_not_stored(app):
    client = app.test_client()
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store"
    assert client.get("/admin/hosts").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [url for url in GET_PAGES if url not in ("/admin/", *DOWNLOADS)])
def test_every_admin_page_has_a_title_a_heading_and_csrf_tokens(admin, db, url):
    create_host(db)
    page = get_page(admin, url)
    assert page.select_one("h1").text.strip()
    assert page.select_one("html")["lang"] == "en"


@pytest.mark.parametrize("url", ["/admin/hosts/new", "/admin/hosts/import", "/admin/settings", "/admin/kiosks",
                                 "/admin/locations/new", "/admin/login"])
def test_every_admin_input_has_a_label(app, url):
    client = app.test_client() if url == "/admin/login" else admin_client(app)
    page = get_page(client, url)
    for field in page.select("input:not([type=hidden]), select, textarea"):
        assert page.select_one(f"label[for='{field['id']}']"), field


# Kiosk tablets


def test_pairing_a_new_tablet_shows_a_one_time_code_and_a_link_that_pairs_it(app, admin, db):
    response = post_form(admin, "/admin/kiosks/pair", page_url="/admin/kiosks", name="Front desk")
    page = parse_page(response)
    link = page.select_one("#pairing-link")["href"]
    code = page.select_one("#pairing-code").text.strip()
    assert link == f"http://localhost/kiosk/pair?code={code}"
    tablet = app.test_client()
    pair_page = get_page(tablet, link)
    assert "Front desk" in pair_page.text
    tablet.post("/kiosk/pair", data={"csrf_token": csrf_token(pair_page), "code": code})
    assert tablet.get("/kiosk/").status_code == 200
    assert [d.name for d in devices.list_devices(db)] == ["Front desk"]


def test_the_pairing_link_uses_the_public_url_when_set(make_app):
    app = make_app(PUBLIC_URL="https://kiosk.example.no/")
    response = post_form(admin_client(app), "/admin/kiosks/pair", page_url="/admin/kiosks", name="Front desk")
    assert parse_page(response).select_one("#pairing-link")["href"].startswith(
        "https://kiosk.example.no/kiosk/pair?code=")


def test_pairing_needs_a_name(admin):
    response = post_form(admin, "/admin/kiosks/pair", page_url="/admin/kiosks", name=" ")
    assert response.status_code == 422
    assert parse_page(response).select_one("#name-error").text == "Give the tablet a name, such as Reception left."


def test_the_kiosks_page_lists_tablets_and_renames_one(app, admin, db):
    device, _ = pair_tablet(app, name="Reception left")
    page = get_page(admin, "/admin/kiosks")
    assert page.select_one("tbody th").text == "Reception left"
    response = post_form(admin, f"/admin/kiosks/{device.id}/rename", page_url="/admin/kiosks", name="Lobby")
    assert response.headers["Location"] == "/admin/kiosks"
    assert devices.get_device(db, device.id).name == "Lobby"


def test_a_revoked_tablet_gets_the_not_registered_page(app, admin, db):
    device, token = pair_tablet(app)
    tablet = app.test_client()
    tablet.set_cookie(app.config["DEVICE_COOKIE_NAME"], token)
    assert tablet.get("/kiosk/").status_code == 200
    post_form(admin, f"/admin/kiosks/{device.id}/revoke", page_url="/admin/kiosks")
    assert tablet.get("/kiosk/").status_code == 403
    assert "Revoked" in get_page(admin, "/admin/kiosks").select_one("tbody tr").text


def test_kiosk_actions_are_audited_with_the_device_id_only(app, admin, db):
    device, _ = pair_tablet(app, name="Kari Kanarifugl's tablet")
    post_form(admin, "/admin/kiosks/pair", page_url="/admin/kiosks", name="Another tablet")
    post_form(admin, f"/admin/kiosks/{device.id}/rename", page_url="/admin/kiosks", name="Lobby")
    post_form(admin, f"/admin/kiosks/{device.id}/revoke", page_url="/admin/kiosks")
    events = [(row["action"], row["target"]) for row in db["audit_events"].rows_where("action != 'sign_in'")]
    assert events == [("pairing_code_created", None), ("device_renamed", f"device:{device.id}"),
                      ("device_revoked", f"device:{device.id}")]


# Statistics


def add_visit(db, created_at, *, host_id=1, statuses=(), expires_at="2999-01-01T00:00:00+00:00"):
    visit_id = f"v{db['visits'].count}"
    db["visits"].insert({"id": visit_id, "host_id": host_id, "created_at": created_at, "expires_at": expires_at})
    for recipient, status in statuses:
        db["messages"].insert({"visit_id": visit_id, "recipient": recipient, "status": status})


def cells(page, table_id, label):
    row = next(tr for tr in page.select(f"#{table_id} tbody tr") if tr.th and tr.th.text.strip() == label)
    return [td.text.strip() for td in row.select("td")]


def office_time(hour, minute, zone="Europe/Oslo"):
    """Today at hour:minute on the office clock, as a stored UTC timestamp."""
    office = ZoneInfo(zone)
    moment = datetime.combine(now().astimezone(office).date(), time(hour, minute), tzinfo=office)
    return timestamp(moment.astimezone(UTC))


def test_statistics_count_check_ins_per_office_day_and_hour_and_sms_by_status(admin, db):
    create_host(db, name=CANARY_NAME, phone=CANARY_PHONE)
    today = now().astimezone(ZoneInfo("Europe/Oslo")).date().isoformat()
    add_visit(db, office_time(0, 4), statuses=[("host", "delivered"), ("visitor", "failed")])  # yesterday in UTC
    add_visit(db, office_time(9, 45), statuses=[("host", "delivered")])
    add_visit(db, office_time(14, 0), statuses=[("host", "undelivered"), ("visitor", "sent")])
    add_visit(db, office_time(14, 0), expires_at="2000-01-01T00:00:00+00:00")  # expired: never counted
    page = get_page(admin, "/admin/statistics")
    assert cells(page, "checkins-per-day", today)[0] == "3"
    assert cells(page, "checkins-per-hour", "00:00")[0] == "1"
    assert cells(page, "checkins-per-hour", "09:00")[0] == "1"
    assert cells(page, "checkins-per-hour", "14:00")[0] == "1"
    assert cells(page, "sms-per-day", today) == ["1", "2", "1", "1"]  # sent, delivered, failed, undelivered
    assert "Europe/Oslo" in page.select_one("main").text


def test_statistics_follow_kiosk_timezone(make_app):
    app = make_app(TIMEZONE="America/New_York")
    with app.app_context():
        db = get_db()
        add_visit(db, office_time(23, 30, "America/New_York"))  # the next day in UTC
        assert [c.count for c in stats.checkins_per_day(db)][-1] == 1
        assert stats.checkins_per_hour(db)[23].count == 1


def test_statistics_count_refused_check_ins_by_reason(admin, db):
    today = timestamp()[:10]
    db["refusals"].insert_all([{"hour": f"{today}T09", "reason": "too_fast", "count": 4},
                               {"hour": f"{today}T10", "reason": "too_fast", "count": 1},
                               {"hour": f"{today}T10", "reason": "honeypot", "count": 2},
                               {"hour": "2000-01-01T10", "reason": "old", "count": 9}])
    page = get_page(admin, "/admin/statistics")
    assert cells(page, "refusals", "too_fast")[0] == "5"
    assert cells(page, "refusals", "honeypot")[0] == "2"
    assert "old" not in [th.text for th in page.select("#refusals tbody th")]


def test_statistics_show_no_names_and_no_numbers(app, admin, db, sms):
    host = create_host(db, name=CANARY_NAME, phone=CANARY_PHONE)
    add_visit(db, timestamp(), host_id=host.id, statuses=[("host", "delivered")])
    text = admin.get("/admin/statistics").get_data(as_text=True)
    assert "Kanarifugl" not in text and "99999999" not in text and "999 99" not in text


def test_statistics_draw_each_table_as_a_chart_named_by_its_heading_with_the_numbers_beside_it(admin, db):
    create_host(db)
    add_visit(db, office_time(9, 45), statuses=[("host", "delivered"), ("visitor", "failed")])
    db["refusals"].insert({"hour": timestamp()[:13], "reason": "too_fast", "count": 3})
    page = get_page(admin, "/admin/statistics")
    svgs = page.select("main svg")
    assert len(svgs) == 4
    for svg, table_id in zip(svgs, ["checkins-per-day", "checkins-per-hour", "sms-per-day", "refusals"], strict=True):
        assert svg["role"] == "img"
        heading = page.select_one(f"#{svg['aria-labelledby']}")
        assert heading.name == "h2" and heading.text.strip()
        assert page.select_one(f"#{svg['aria-describedby']}").text.strip()
        assert svg.select("rect title")  # a bar, with its count as a tooltip
        assert svg.find_parent("section").select_one(f"details #{table_id}")  # the numbers, for screen readers
        assert not svg.select("script, style, foreignObject, [style]")
    assert "1 check-in in the last 30 days." in page.text
    assert "2 text messages in the last 30 days: 0 sent, 1 delivered, 1 failed, 0 undelivered." in page.text
    assert page.select_one("a[href='/admin/statistics.csv']").text.strip() == "Download the counts (CSV)"


def test_statistics_without_check_ins_say_so_instead_of_drawing_an_empty_chart(admin):
    page = get_page(admin, "/admin/statistics")
    assert page.select("main svg") == []
    assert [p.text for p in page.select(".chart-empty")] == [
        "No check-ins in the last 30 days.", "No check-ins in the last 30 days.",
        "No text messages in the last 30 days.", "No check-in was refused in the last 30 days."]


def test_statistics_chart_labels_are_escaped(admin, db):
    db["refusals"].insert({"hour": timestamp()[:13], "reason": "<script>alert(1)</script>", "count": 1})
    text = admin.get("/admin/statistics").get_data(as_text=True)
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def read_csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def test_statistics_export_as_csv_with_the_counts_and_nothing_else(admin, db):
    host = create_host(db, name=CANARY_NAME, phone=CANARY_PHONE)
    today = now().astimezone(ZoneInfo("Europe/Oslo")).date()
    add_visit(db, office_time(0, 4), host_id=host.id, statuses=[("host", "delivered"), ("visitor", "failed")])
    add_visit(db, office_time(14, 0), host_id=host.id, statuses=[("host", "undelivered"), ("visitor", "sent")])
    db["refusals"].insert_all([{"hour": timestamp()[:13], "reason": "too_fast", "count": 4},
                               {"hour": timestamp()[:13], "reason": "=HYPERLINK(1)", "count": 1}])
    response = admin.get("/admin/statistics.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f"attachment; filename=statistics-{today}.csv"
    rows = read_csv(response)
    assert rows[0] == ["table", "label", "status", "count"]
    per_day = [row for row in rows if row[0] == "checkins_per_day"]
    assert [row[1] for row in per_day] == stats.last_days()
    assert per_day[-1] == ["checkins_per_day", today.isoformat(), "", "2"]
    assert per_day[-2][1] == (today - timedelta(days=1)).isoformat() and per_day[-2][3] == "0"
    per_hour = {row[1]: row[3] for row in rows if row[0] == "checkins_per_hour"}
    assert len(per_hour) == 24 and per_hour["00:00"] == per_hour["14:00"] == "1" and per_hour["09:00"] == "0"
    assert [row for row in rows if row[0] == "sms_per_day"] == [
        ["sms_per_day", today.isoformat(), status, count]
        for status, count in [("sent", "1"), ("delivered", "1"), ("failed", "1"), ("undelivered", "1")]]
    assert [row for row in rows if row[0] == "refusals"] == [["refusals", "too_fast", "", "4"],
                                                            ["refusals", "'=HYPERLINK(1)", "", "1"]]  # R28
    assert len(rows) == 1 + 30 + 24 + 4 + 2
    text = response.get_data(as_text=True)
    assert "Kanarifugl" not in text and "99999999" not in text and "visitor" not in text and "v0" not in text
    events = list(db["audit_events"].rows_where("action = 'statistics_exported'"))
    assert [(e["admin_id"], e["target"]) for e in events] == [(1, None)]


# Statistics charts (kiosk/admin/charts.py): the geometry the template draws


def days_ago(back):
    return (date(2026, 3, 31) - timedelta(days=back)).isoformat()


def per_day(counts):
    return [stats.Count(days_ago(back), count) for back, count in zip(range(len(counts) - 1, -1, -1), counts,
                                                                         strict=True)]


def contrast(colour, background=charts.BACKGROUND):
    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted([luminance(colour), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("peak, ticks", [
    (0, (0, 1)), (1, (0, 1)), (5, (0, 1, 2, 3, 4, 5)), (6, (0, 2, 4, 6)), (7, (0, 2, 4, 6, 8)),
    (12, (0, 5, 10, 15)), (99, (0, 20, 40, 60, 80, 100)), (101, (0, 50, 100, 150)),
    (1_000_000, (0, 200_000, 400_000, 600_000, 800_000, 1_000_000)), (10**15 + 1, (0, 5 * 10**14, 10**15, 15 * 10**14)),
])
def test_chart_scales_step_in_nice_round_numbers_up_to_the_peak(peak, ticks):
    assert charts.nice_ticks(peak) == ticks


def test_a_chart_of_zeros_is_empty_and_says_so():
    chart = charts.checkins_per_day(per_day([0] * 30))
    assert chart.empty and chart.bars == () and chart.summary == "No check-ins in the last 30 days."
    assert chart.ticks == (0, 1)
    assert charts.sms_per_day(stats.last_days(), []).summary == "No text messages in the last 30 days."
    assert charts.refusals([]).empty


def test_bars_grow_from_the_axis_in_proportion_to_their_counts():
    chart = charts.checkins_per_day(per_day([0] * 27 + [2, 4, 3]))
    plot = chart.plot
    assert chart.ticks == (0, 1, 2, 3, 4) and chart.total == 9
    assert [bar.value for bar in chart.bars] == [2, 4, 3]
    assert [bar.height for bar in chart.bars] == [charts.PLOT_HEIGHT * share for share in (0.5, 1, 0.75)]
    assert all(bar.y + bar.height == pytest.approx(plot.bottom) for bar in chart.bars)
    assert chart.bars[1].y == pytest.approx(plot.top)
    assert [bar.title for bar in chart.bars] == ["2026-03-29: 2", "2026-03-30: 4", "2026-03-31: 3"]
    assert chart.summary == "9 check-ins in the last 30 days. The busiest day was 30 Mar with 4."
    labels = [text.text for text in chart.texts if text.anchor == "middle"]
    assert labels[-1] == "31 Mar" and len(labels) <= charts.MAX_LABELS  # today is always labelled


def test_one_huge_value_fills_the_scale_and_leaves_every_other_count_visible():
    chart = charts.checkins_per_day(per_day([1] * 29 + [1_000_000]))
    huge, small = chart.bars[-1], chart.bars[:-1]
    assert chart.ticks[-1] == 1_000_000 and huge.height == charts.PLOT_HEIGHT and huge.y == chart.plot.top
    assert len(small) == 29 and all(bar.height == charts.MIN_BAR for bar in small)
    tick_labels = [text for text in chart.texts if text.anchor == "end"]
    assert tick_labels[-1].text == "1,000,000"
    assert tick_labels[-1].x - charts.CHAR_WIDTH * len("1,000,000") >= 0  # the longest tick label fits on the left


def test_the_hour_chart_has_24_bars_side_by_side_and_labels_from_midnight():
    chart = charts.checkins_per_hour([stats.Count(f"{hour:02d}:00", hour + 1) for hour in range(24)])
    plot = chart.plot
    assert len(chart.bars) == 24
    assert len({bar.width for bar in chart.bars}) == 1
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[0].x > plot.left and chart.bars[-1].x + chart.bars[-1].width < plot.right <= charts.WIDTH
    assert all(plot.top <= bar.y and bar.y + bar.height == pytest.approx(plot.bottom) for bar in chart.bars)
    labels = [text.text for text in chart.texts if text.anchor == "middle"]
    assert labels == ["00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00"]
    assert chart.summary == "The busiest hour of the day was 23:00, with 24 check-ins in the last 30 days."


def test_text_messages_stack_by_status_from_the_axis_with_a_legend():
    days = stats.last_days()
    sms = [stats.SmsDay(days[-1], {"sent": 1, "delivered": 5, "failed": 0, "undelivered": 2}),
           stats.SmsDay(days[-2], {"sent": 0, "delivered": 0, "failed": 1, "undelivered": 0})]
    chart = charts.sms_per_day(days, sms)
    assert chart.ticks == (0, 2, 4, 6, 8) and chart.total == 9
    assert [(bar.title.split(", ")[1], bar.value) for bar in chart.bars] == [
        ("failed: 1", 1), ("sent: 1", 1), ("delivered: 5", 5), ("undelivered: 2", 2)]
    today = chart.bars[1:]
    assert today[0].y + today[0].height == pytest.approx(chart.plot.bottom)
    for lower, upper in zip(today, today[1:], strict=False):
        assert upper.y + upper.height == pytest.approx(lower.y, abs=0.02)  # stacked, no gap, no overlap
    assert today[-1].y == pytest.approx(chart.plot.top)
    assert [text.text for text in chart.texts if text.y < chart.plot.top] == ["Sent", "Delivered", "Failed",
                                                                             "Undelivered"]
    assert len(chart.legend) == 4
    assert chart.summary == "9 text messages in the last 30 days: 1 sent, 5 delivered, 1 failed, 2 undelivered."


def test_a_stack_of_thin_segments_on_a_huge_scale_stays_inside_the_plot():
    days = stats.last_days()
    sms = [stats.SmsDay(days[0], {"sent": 1, "delivered": 1_000, "failed": 1, "undelivered": 1})]
    chart = charts.sms_per_day(days, sms)
    assert min(bar.y for bar in chart.bars) >= chart.plot.top
    assert [bar.height for bar in chart.bars if bar.value == 1] == [charts.MIN_BAR] * 3


def test_sms_statuses_differ_by_more_than_colour_and_every_bar_has_3_to_1_contrast():
    assert tuple(charts.SMS_SERIES) == stats.SMS_STATUSES
    patterns = [series.pattern for series in charts.SMS_SERIES.values()]
    assert len(set(patterns)) == len(patterns)  # one may be solid (""), the others each have their own pattern
    for series in [charts.COUNT, *charts.SMS_SERIES.values()]:
        assert contrast(series.colour) >= 3, series
    assert contrast(charts.INK) >= 4.5 and contrast(charts.MUTED) >= 4.5


def test_refusals_are_rows_with_their_count_after_each_bar():
    counts = [stats.Count("too_fast", 40), stats.Count("number_hour_limit", 7), stats.Count("honeypot", 1)]
    chart = charts.refusals(counts)
    plot = chart.plot
    assert chart.ticks == (0, 10, 20, 30, 40)
    assert [bar.value for bar in chart.bars] == [40, 7, 1]
    assert [bar.y for bar in chart.bars] == sorted(bar.y for bar in chart.bars)  # in the order given, top down
    assert chart.bars[0].x == plot.left and chart.bars[0].width == pytest.approx(plot.right - plot.left)
    assert chart.bars[1].width == pytest.approx((plot.right - plot.left) * 7 / 40, abs=0.01)
    values = [text for text in chart.texts if text.anchor == "start"]
    assert [text.text for text in values] == ["40", "7", "1"]
    assert all(text.x + charts.CHAR_WIDTH * len(text.text) <= charts.WIDTH for text in values)
    names = [text for text in chart.texts if text.anchor == "end"]
    assert [text.text for text in names] == ["too_fast", "number_hour_limit", "honeypot"]
    assert all(text.x - charts.CHAR_WIDTH * len(text.text) >= 0 for text in names)
    assert chart.summary == "48 check-ins were refused in the last 30 days, most often for too_fast (40)."


# Audit log


def test_the_audit_log_shows_the_latest_200_actions_newest_first(admin, db):
    db["audit_events"].insert_all([{"at": timestamp(), "admin_id": 1, "action": f"action_{i}"} for i in range(250)])
    rows = get_page(admin, "/admin/audit").select("#audit-events tbody tr")
    assert len(rows) == 200
    assert rows[0].select("td")[1].text == "ana" and rows[0].select("td")[2].text == "action 249"


@pytest.mark.parametrize("target", [{"host": "Kari Nordmann"}, {"host": "+4799999999"}, {"keys": "name=Kari"}])
def test_r31_an_audit_target_takes_ids_and_setting_keys_only(db, target):
    with pytest.raises(ValueError, match="ids and setting keys only"):
        audit.record(db, "host_edited", admin_id=1, **target)
    assert db["audit_events"].count == 0


# Settings


def settings_data(page, **changes):
    form = page.select_one("form[action='/admin/settings']")
    data = {field["name"]: field.get("value", "") for field in form.select("input")
            if field.get("type") != "checkbox" or field.has_attr("checked")}  # as a browser sends them
    data.update({area["name"]: area.text.strip() for area in form.select("textarea")})
    return {**data, **changes}


def test_settings_show_the_configured_value_as_the_default(admin):
    page = get_page(admin, "/admin/settings")
    assert page.select_one("#SMS_BUDGET_PER_HOUR")["value"] == "40"
    assert page.select_one("#SMS_BUDGET_PER_HOUR-hint").text == "Default: 40 (from KIOSK_SMS_BUDGET_PER_HOUR)."


def test_a_new_company_name_shows_on_the_kiosk_welcome_page(app, admin, db):
    page = get_page(admin, "/admin/settings")
    response = admin.post("/admin/settings", data=settings_data(page, COMPANY_NAME="Fjordlys Besøk"))
    assert response.status_code == 302
    welcome = get_page(tablet_client(app), "/kiosk/")
    assert welcome.select_one("h1").text == "Welcome to Fjordlys Besøk"
    event = list(db["audit_events"].rows_where("action = 'settings_changed'"))
    assert [e["target"] for e in event] == ["keys:COMPANY_NAME"]


def test_a_setting_put_back_to_its_default_follows_the_configuration_again(admin, db):
    page = get_page(admin, "/admin/settings")
    admin.post("/admin/settings", data=settings_data(page, SMS_BUDGET_PER_HOUR="5"))
    assert db["settings"].count == 1
    page = get_page(admin, "/admin/settings")
    assert page.select_one("#SMS_BUDGET_PER_HOUR")["value"] == "5"
    admin.post("/admin/settings", data=settings_data(page, SMS_BUDGET_PER_HOUR="40"))
    assert db["settings"].count == 0


def test_the_reception_phone_is_stored_as_e164(admin, db):
    page = get_page(admin, "/admin/settings")
    admin.post("/admin/settings", data=settings_data(page, RECEPTION_PHONE="412 34 999"))
    assert db["settings"].get("RECEPTION_PHONE")["value"] == '"+4741234999"'


def test_each_kiosk_language_has_a_welcome_text_of_its_own_the_default_first(admin):
    page = get_page(admin, "/admin/settings")
    fields = page.select("#welcome-texts .field")
    assert [f.select_one("label").text for f in fields] == [
        "English", "Norsk bokmål", "Nynorsk", "Svenska", "Dansk", "Suomi", "Deutsch", "Polski", "Українська",
        "العربية"]  # the test app's default language is English
    assert [f.select_one("textarea")["name"] for f in fields][:3] == ["WELCOME_TEXT", "WELCOME_TEXT_NB",
                                                                       "WELCOME_TEXT_NN"]
    assert [f.select_one("label")["lang"] for f in fields] == ["en", "nb", "nn", "sv", "da", "fi", "de", "pl", "uk",
                                                               "ar"]
    assert page.select_one("#WELCOME_TEXT-hint").text == (
        "The default language: shown in every language without a text of its own. "
        "Default: none (from KIOSK_WELCOME_TEXT).")
    assert page.select_one("#WELCOME_TEXT_EN") is None


def test_welcome_texts_are_saved_stripped_audited_and_shown_again(admin, db):
    page = get_page(admin, "/admin/settings")
    response = admin.post("/admin/settings", data=settings_data(page, WELCOME_TEXT=" Take a seat. ",
                                                                WELCOME_TEXT_SV="  Sätt dig gärna. "))
    assert response.status_code == 302
    assert {row["key"]: json.loads(row["value"]) for row in db["settings"].rows} == {
        "WELCOME_TEXT": "Take a seat.", "WELCOME_TEXT_SV": "Sätt dig gärna."}
    event = list(db["audit_events"].rows_where("action = 'settings_changed'"))
    assert [e["target"] for e in event] == ["keys:WELCOME_TEXT,WELCOME_TEXT_SV"]
    page = get_page(admin, "/admin/settings")
    assert page.select_one("#WELCOME_TEXT").text.strip() == "Take a seat."
    assert page.select_one("#WELCOME_TEXT_SV").text.strip() == "Sätt dig gärna."
    assert page.select_one("#WELCOME_TEXT_SV")["lang"] == "sv"
    admin.post("/admin/settings", data=settings_data(page, WELCOME_TEXT_SV=" "))  # emptied: back to the default's
    assert [row["key"] for row in db["settings"].rows] == ["WELCOME_TEXT"]


def test_a_welcome_text_too_long_is_explained_next_to_its_field(admin, db):
    page = get_page(admin, "/admin/settings")
    response = admin.post("/admin/settings", data=settings_data(page, WELCOME_TEXT_DE="x" * 301))
    assert response.status_code == 422
    assert parse_page(response).select_one("#WELCOME_TEXT_DE-error").text == "Use at most 300 characters."
    assert db["settings"].count == 0


def test_the_welcome_text_falls_back_to_the_default_languages_then_to_none(make_app):
    app = make_app(DEFAULT_LOCALE="nb", WELCOME_TEXT="Velkommen inn.")
    with app.test_request_context("/kiosk/"):
        assert settings.welcome_text("sv") == ("Velkommen inn.", "nb")  # no text of its own
        settings.save_settings(get_db(), {"WELCOME_TEXT_SV": "Välkommen in.", "WELCOME_TEXT_NB": "Never shown."})
        assert settings.welcome_text("sv") == ("Välkommen in.", "sv")
        assert settings.welcome_text("nb") == ("Velkommen inn.", "nb")  # the default language's is WELCOME_TEXT
        assert settings.welcome_text("en") == ("Velkommen inn.", "nb")
        settings.save_settings(get_db(), {"WELCOME_TEXT": None})
        assert settings.welcome_text("en") is None
        assert settings.welcome_text("sv") == ("Välkommen in.", "sv")


@pytest.mark.parametrize("key, value, message", [
    ("RECEPTION_PHONE", "22 12 34 56", "Enter a mobile number. We can only send text messages to mobile phones."),
    ("SMS_PER_NUMBER_PER_HOUR", "0", "Enter a whole number, 1 or more."),
    ("SMS_BUDGET_PER_DAY", "", "Enter a whole number."),
    ("COMPANY_NAME", "", "Enter the company name."),
])
def test_a_bad_setting_is_explained_next_to_its_field_and_nothing_is_saved(admin, db, key, value, message):
    page = get_page(admin, "/admin/settings")
    response = admin.post("/admin/settings", data=settings_data(page, **{key: value}))
    assert response.status_code == 422
    assert parse_page(response).select_one(f"#{key}-error").text == message
    assert db["settings"].count == 0


# Alerts


def test_open_alerts_show_on_every_admin_page_until_resolved(admin, db):
    alert = {"at": timestamp(), "kind": "sms_budget", "message": "The budget is used up."}
    alert_id = db["alerts"].insert(alert).last_pk
    page = get_page(admin, "/admin/statistics")
    assert "The budget is used up." in page.select_one(".alerts").text
    form = page.select_one(".alerts form")
    response = admin.post(form["action"], data={"csrf_token": csrf_token(form), "next": "/admin/statistics"})
    assert response.headers["Location"] == "/admin/statistics"
    assert get_page(admin, "/admin/statistics").select_one(".alerts") is None
    assert db["alerts"].get(alert_id)["resolved_at"] is not None
    assert list(db["audit_events"].rows_where("action = 'alert_resolved'"))[0]["target"] == f"alert:{alert_id}"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/admin/", "/admin//evil.example"])
def test_resolving_an_alert_never_redirects_to_another_site(admin, db, next_url):
    db["alerts"].insert({"at": timestamp(), "kind": "test", "message": "Test"})
    response = post_form(admin, "/admin/alerts/1/resolve", page_url="/admin/hosts", next=next_url)
    assert response.headers["Location"] == "/admin/"
