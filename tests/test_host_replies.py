"""Host replies and escalation (issue 14): a host's reply to the arrival SMS marks the visit acknowledged (the time
and the minutes, nothing else), the tablet says the host is on the way, and a host who stays silent reaches
reception. Replies are posted as Twilio posts them, signed with the SDK's RequestValidator."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from twilio.request_validator import RequestValidator

from kiosk import db as store
from kiosk import metrics
from kiosk.db import get_db
from kiosk.messaging import delivery
from tests.helpers import (
    CANARY_PHONE,
    admin_client,
    alerts,
    create_host,
    drain,
    files_under,
    get_page,
    messages,
    pair_tablet,
    register_visit,
    sweep_now,
)
from tests.twilio_fixtures import AUTH_TOKEN

PUBLIC_URL = "https://kiosk.example.org"
INBOUND = "/webhooks/twilio/inbound"
HOST = "+4741234567"
OTHER_HOST = "+4741234568"
RECEPTION = "+4741000000"  # TEST_CONFIG
REPLIES_ON = {"PUBLIC_URL": PUBLIC_URL, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
AT_10_02 = datetime(2026, 12, 3, 9, 2, tzinfo=UTC)  # 10:02 in Oslo
REPLY_CANARY = "Svarkanari Blåmeis"


@pytest.fixture
def app(make_app):
    """An app whose Twilio webhooks can be verified, so hosts are asked to reply."""
    return make_app(**REPLIES_ON)


@pytest.fixture
def host(db):
    return create_host(db, name="Kari Nordmann", phone=HOST, language="en")


@pytest.fixture
def tablet(app, client):
    """The paired tablet's id; `client` is that tablet."""
    with app.app_context():
        return get_db().execute("SELECT id FROM devices").fetchone()[0]


def reply(app, body, *, from_=HOST, sid=None, token=None, **extra):
    """POST a host's SMS to the inbound webhook as Twilio does: its parameters, signed for our public URL."""
    params = {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": from_,
              "To": "+4759440000", "Body": body, "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01",
              **extra}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + INBOUND, params)
    response = app.test_client().post(INBOUND, data=params, headers={
        "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": token or secrets.token_hex(8)})
    drain(app)
    return response


def visit_row(db, visit_id):
    return next(db["visits"].rows_where("id = ?", [visit_id]))


def acknowledged(db, visit_id):
    return db.execute("SELECT acknowledged_at, ack_minutes FROM visits WHERE id = ?", [visit_id]).fetchone()


def reply_counts(db):
    return dict(db.execute("SELECT outcome, sum(count) FROM reply_counts GROUP BY outcome").fetchall())


def check_in(app, db, host, tablet=None):
    visit_id = register_visit(app, db, host, kiosk_id=tablet)
    drain(app)
    return visit_id


def host_sms(sms_outbox):
    return [sms.body for sms in sms_outbox if sms.to == HOST]


def reception_sms(sms_outbox):
    return [sms.body for sms in sms_outbox if sms.to == RECEPTION]


# The host's SMS asks for a reply


def test_the_host_sms_ends_with_the_reply_line(app, db, host, sms_outbox):
    check_in(app, db, host)
    assert host_sms(sms_outbox) == ["Ragnhild Berg has arrived at reception and is waiting for you. "
                                    "Reply OK when you are on your way, or a number of minutes."]


@pytest.mark.parametrize("settings", [
    {},  # no KIOSK_PUBLIC_URL: Twilio cannot reach us
    {"PUBLIC_URL": PUBLIC_URL},  # no auth token: a reply's signature cannot be checked
    {**REPLIES_ON, "TWILIO_FROM": "Velkommen"},  # an alphanumeric sender cannot be answered
])
def test_without_a_way_back_the_host_is_not_asked_and_nothing_escalates(make_app, settings):
    app = make_app(**settings)
    with app.app_context():
        db = get_db()
        host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
        visit_id = check_in(app, db, host)
        assert app.extensions["sms"].outbox[0].body == "Ragnhild Berg has arrived at reception and is waiting for you."
        assert (visit_row(db, visit_id)["reply_asked"], visit_row(db, visit_id)["escalate_at"]) == (0, None)
    with freeze_time(datetime.now(UTC) + timedelta(minutes=20)):
        sweep_now(app)
    assert [sms.to for sms in app.extensions["sms"].outbox] == [HOST, "+4741234999"]


def test_the_host_sms_asks_in_the_hosts_language(app, db, sms_outbox):
    check_in(app, db, create_host(db, name="Kari Nordmann", phone=HOST, language="nb"))
    arrived, asked = host_sms(sms_outbox)[0].split(". ", 1)
    assert "OK" in asked and "Reply" not in asked and "venter" in arrived


def test_reception_asked_for_by_the_visitor_is_not_asked_to_reply(app, db, sms_outbox):
    check_in(app, db, None)
    assert "Reply OK" not in sms_outbox[0].body


# A reply is matched to the visit and keeps nothing but the time and the minutes


def test_r15_a_reply_marks_the_hosts_visit_with_the_time_and_the_minutes(app, db, host):
    visit_id = check_in(app, db, host)
    with freeze_time(datetime.now(UTC) + timedelta(minutes=2)):
        response = reply(app, "Kommer, 5 min")
        assert acknowledged(db, visit_id) == (store.timestamp(), 5)
    assert response.status_code == 200
    assert response.data == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert response.mimetype == "text/xml"
    assert reply_counts(db) == {"acknowledged": 1}


def test_a_reply_goes_to_the_hosts_latest_visit_then_the_one_before(app, db, host):
    first = check_in(app, db, host)
    with freeze_time(datetime.now(UTC) + timedelta(minutes=1)):
        second = check_in(app, db, host)
        reply(app, "OK")
        assert acknowledged(db, second)[0] is not None and acknowledged(db, first)[0] is None
        reply(app, "10")
        assert acknowledged(db, first)[1] == 10
        reply(app, "ok!")
    assert reply_counts(db) == {"acknowledged": 2, "no_visit": 1}


def test_a_reply_after_the_reply_window_is_ignored_and_counted(app, db, host):
    visit_id = check_in(app, db, host)
    with freeze_time(datetime.now(UTC) + timedelta(minutes=31)):
        reply(app, "OK")
    assert acknowledged(db, visit_id) == (None, None)
    assert reply_counts(db) == {"no_visit": 1}


def test_the_reply_window_is_a_setting(make_app):
    app = make_app(**REPLIES_ON, REPLY_WINDOW_MINUTES=60)
    with app.app_context():
        db = get_db()
        visit_id = check_in(app, db, create_host(db, name="Kari Nordmann", phone=HOST, language="en"))
        with freeze_time(datetime.now(UTC) + timedelta(minutes=45)):
            reply(app, "OK")
        assert acknowledged(db, visit_id)[0] is not None


def test_a_reply_from_a_number_that_is_no_hosts_is_ignored_and_counted(app, db, host):
    visit_id = check_in(app, db, host)
    reply(app, "OK", from_=CANARY_PHONE)
    reply(app, "OK", from_=OTHER_HOST)
    assert acknowledged(db, visit_id) == (None, None)
    assert reply_counts(db) == {"not_a_host": 2}


def test_another_hosts_reply_does_not_answer_for_this_host(app, db, host):
    other = create_host(db, name="Ola Hansen", phone=OTHER_HOST, language="en")
    visit_id = check_in(app, db, host)
    reply(app, "OK", from_=other.phone)
    assert acknowledged(db, visit_id) == (None, None)
    assert reply_counts(db) == {"no_visit": 1}


@pytest.mark.parametrize("body, opt_out_type", [("STOP", None), ("HELP", None), ("START", None),
                                                 ("AVSLUTT", "STOP")])
def test_r15_stop_start_and_help_stay_twilios(app, db, host, body, opt_out_type, sms_outbox):
    visit_id = check_in(app, db, host)
    extra = {"OptOutType": opt_out_type} if opt_out_type else {}
    response = reply(app, body, **extra)
    assert response.data.endswith(b"<Response></Response>")  # no SMS back: Twilio answers keywords itself
    assert acknowledged(db, visit_id) == (None, None)
    assert reply_counts(db) == {"keyword": 1}
    assert len(sms_outbox) == 2  # the host's and the visitor's, nothing more


@pytest.mark.parametrize("token", ["same-token", None])
def test_r13_a_reply_delivered_twice_counts_once_whatever_the_idempotency_header(app, db, host, token):
    # The header is not signed: a replay with a new one must not acknowledge the host's next visit.
    first = check_in(app, db, host)
    second = check_in(app, db, host)
    reply(app, "OK", sid="SM" + "1" * 32, token=token)
    reply(app, "OK", sid="SM" + "1" * 32, token=token)
    assert [acknowledged(db, v)[0] is not None for v in (first, second)] == [False, True]
    assert reply_counts(db) == {"acknowledged": 1}


def test_r11_an_unsigned_or_badly_signed_reply_is_refused(app, db, host):
    visit_id = check_in(app, db, host)
    params = {"MessageSid": "SM1", "From": HOST, "Body": "OK"}
    assert app.test_client().post(INBOUND, data=params).status_code == 403
    wrong = RequestValidator("wrong" * 6).compute_signature(PUBLIC_URL + INBOUND, params)
    assert app.test_client().post(INBOUND, data=params, headers={"X-Twilio-Signature": wrong}).status_code == 403
    assert acknowledged(db, visit_id) == (None, None)


def test_a_signed_reply_without_a_sender_is_a_400(app):
    params = {"MessageSid": "SM1", "Body": "OK"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + INBOUND, params)
    response = app.test_client().post(INBOUND, data=params, headers={"X-Twilio-Signature": signature})
    assert (response.status_code, response.get_json()) == (400, {"errors": ["From is required."]})


def test_r31_a_reply_leaves_neither_its_text_nor_its_number_anywhere(make_app, tmp_path, log_records):
    app = make_app(**REPLIES_ON, DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    with app.app_context():
        db = get_db()
        host = create_host(db, name="Kari Nordmann", phone=HOST, language="en")
        visit_id = check_in(app, db, host)
        reply(app, f"{REPLY_CANARY} kommer om 5 min")
        reply(app, f"{REPLY_CANARY} OK", from_=CANARY_PHONE)
        reply(app, f"Nei, {REPLY_CANARY}")
        assert acknowledged(db, visit_id)[1] == 5
        assert set(visit_row(db, visit_id).keys()) == {"id", "host_id", "kiosk_id", "created_at", "expires_at",
                                                       "reply_asked", "escalate_at", "acknowledged_at", "ack_minutes",
                                                       "location_id"}
    canaries = [REPLY_CANARY.encode(), "Blåmeis".encode(), CANARY_PHONE.encode(), CANARY_PHONE[3:].encode()]
    found = [(path.name, canary) for path in files_under(tmp_path / "instance") for canary in canaries
             if canary in path.read_bytes()]
    assert found == []
    logged = "\n".join(record.getMessage() for record in log_records)
    assert REPLY_CANARY not in logged and CANARY_PHONE[3:] not in logged and HOST[3:] not in logged


def test_metrics_count_replies_by_outcome(app, db, host):
    before = metrics.REPLIES.labels(outcome="not_a_host")._value.get()
    reply(app, "OK", from_=CANARY_PHONE)
    assert metrics.REPLIES.labels(outcome="not_a_host")._value.get() == before + 1


# A host who cannot come


def test_a_host_who_cannot_come_makes_reception_hear_at_once(app, db, host, tablet, sms_outbox):
    with freeze_time(AT_10_02):
        visit_id = check_in(app, db, host, tablet)
        reply(app, "Nei, sitter i møte")
    assert reception_sms(sms_outbox) == [
        "Kari Nordmann cannot come to the visitor who checked in at 10:02 on Reception tablet. Please help them."]
    assert acknowledged(db, visit_id) == (None, None)
    assert messages(db, visit_id)["reception"]["status"] == "sent"
    with freeze_time(AT_10_02 + timedelta(minutes=6)):
        sweep_now(app)  # reception was told: no escalation on top
    assert len(reception_sms(sms_outbox)) == 1
    assert reply_counts(db) == {"declined": 1}


# The tablet: status screen and "On the way" board


def test_the_status_json_says_the_host_is_on_the_way(app, db, host, client, tablet):
    visit_id = check_in(app, db, host, tablet)
    url = f"/kiosk/visits/{visit_id}/status"
    assert client.get(url).get_json()["coming"] is None
    reply(app, "5 min")
    assert client.get(url).get_json()["coming"] == "Kari Nordmann is on the way (about 5 minutes)."
    page = get_page(client, f"/kiosk/visits/{visit_id}")
    assert page.select_one("#coming").text == "Kari Nordmann is on the way (about 5 minutes)."


def test_the_status_json_says_on_the_way_without_minutes_and_in_the_tablets_language(app, db, host, client, tablet):
    visit_id = check_in(app, db, host, tablet)
    reply(app, "OK")
    assert client.get(f"/kiosk/visits/{visit_id}/status").get_json()["coming"] == "Kari Nordmann is on the way."
    client.get("/kiosk/language/nb")
    coming = client.get(f"/kiosk/visits/{visit_id}/status").get_json()["coming"]
    assert coming.startswith("Kari Nordmann ") and coming != "Kari Nordmann is on the way."


def test_a_host_who_answered_is_coming_even_if_the_sms_status_says_otherwise(app, db, host, client, tablet):
    visit_id = check_in(app, db, host, tablet)
    db.execute("UPDATE messages SET status = 'undelivered' WHERE visit_id = ? AND recipient = 'host'", [visit_id])
    reply(app, "OK")
    status = client.get(f"/kiosk/visits/{visit_id}/status").get_json()
    assert (status["ask_desk"], status["reason"]) == (False, None)


def test_the_welcome_board_shows_the_host_short_and_counts_down(app, db, host, client, tablet):
    check_in(app, db, host, tablet)
    replied = datetime.now(UTC)
    with freeze_time(replied):
        reply(app, "5 min")
        page = get_page(client, "/kiosk/")
        board_items = [li.get_text(" ", strip=True) for li in page.select("#on-the-way li")]
        assert board_items == ["Kari N. — about 5 min"]
        assert "Ragnhild" not in page.text and "Berg" not in page.text
    with freeze_time(replied + timedelta(minutes=3)):
        assert client.get("/kiosk/on-the-way").get_json() == [{"host": "Kari N.", "when": "about 2 min"}]
    with freeze_time(replied + timedelta(minutes=9)):
        assert client.get("/kiosk/on-the-way").get_json() == [{"host": "Kari N.", "when": "on the way"}]
    with freeze_time(replied + timedelta(minutes=10, seconds=1)):
        assert client.get("/kiosk/on-the-way").get_json() == []
        assert get_page(client, "/kiosk/").select_one("#on-the-way")["hidden"] is not None


def test_a_reply_with_more_minutes_than_the_board_keeps_it_that_long(app, db, host, client, tablet):
    check_in(app, db, host, tablet)
    replied = datetime.now(UTC)
    with freeze_time(replied):
        reply(app, "20 min")
    with freeze_time(replied + timedelta(minutes=15)):
        assert client.get("/kiosk/on-the-way").get_json() == [{"host": "Kari N.", "when": "about 5 min"}]


def test_the_board_shows_each_host_once(app, db, host, client, tablet):
    check_in(app, db, host, tablet)
    check_in(app, db, host, tablet)
    with freeze_time(datetime.now(UTC)) as frozen:
        reply(app, "OK")
        frozen.tick(timedelta(seconds=5))
        reply(app, "5")
        assert client.get("/kiosk/on-the-way").get_json() == [{"host": "Kari N.", "when": "about 5 min"}]


def test_no_board_when_it_is_turned_off(make_app):
    app = make_app(**REPLIES_ON, ON_THE_WAY_MINUTES=0)
    client = app.test_client()
    pair_tablet(app, client)
    with app.app_context():
        check_in(app, get_db(), create_host(get_db(), name="Kari Nordmann", phone=HOST, language="en"))
    reply(app, "OK")
    assert get_page(client, "/kiosk/").select_one("#on-the-way") is None
    assert client.get("/kiosk/on-the-way").get_json() == []


def test_the_board_needs_a_paired_tablet(app):
    response = app.test_client().get("/kiosk/on-the-way")
    assert response.status_code == 401


# Escalation: a silent host reaches reception


def test_a_silent_host_makes_reception_get_one_sms_after_five_minutes(app, db, host, tablet, sms_outbox):
    with freeze_time(AT_10_02):
        visit_id = check_in(app, db, host, tablet)
    with freeze_time(AT_10_02 + timedelta(minutes=4, seconds=59)):
        sweep_now(app)
    assert reception_sms(sms_outbox) == []
    with freeze_time(AT_10_02 + timedelta(minutes=5)):
        sweep_now(app)
        sweep_now(app)
    with freeze_time(AT_10_02 + timedelta(minutes=15)):
        sweep_now(app)
    assert reception_sms(sms_outbox) == [
        "A visitor for Kari Nordmann has waited since 10:02 on Reception tablet; Kari has not answered."]
    assert messages(db, visit_id)["reception"]["status"] == "sent"
    assert "Ragnhild" not in reception_sms(sms_outbox)[0]


def test_a_host_who_answered_in_time_is_not_escalated(app, db, host, tablet, sms_outbox):
    with freeze_time(AT_10_02):
        check_in(app, db, host, tablet)
    with freeze_time(AT_10_02 + timedelta(minutes=4)):
        reply(app, "OK")
    with freeze_time(AT_10_02 + timedelta(minutes=6)):
        sweep_now(app)
    assert reception_sms(sms_outbox) == []


def test_a_late_reply_still_shows_the_host_coming_after_reception_was_told(app, db, host, client, tablet, sms_outbox):
    with freeze_time(AT_10_02):
        visit_id = check_in(app, db, host, tablet)
    with freeze_time(AT_10_02 + timedelta(minutes=5)):
        sweep_now(app)
    with freeze_time(AT_10_02 + timedelta(minutes=7)):
        reply(app, "2")
        assert client.get(f"/kiosk/visits/{visit_id}/status").get_json()["coming"] == \
            "Kari Nordmann is on the way (about 2 minutes)."
    assert len(reception_sms(sms_outbox)) == 1


@pytest.mark.parametrize("minutes, told", [(2, 1), (0, 0)])
def test_escalation_minutes_are_a_setting_and_zero_turns_it_off(make_app, minutes, told):
    app = make_app(**REPLIES_ON, ESCALATE_MINUTES=minutes)
    with app.app_context():
        db = get_db()
        with freeze_time(AT_10_02):
            check_in(app, db, create_host(db, name="Kari Nordmann", phone=HOST, language="en"))
        with freeze_time(AT_10_02 + timedelta(minutes=2)):
            sweep_now(app)
        with freeze_time(AT_10_02 + timedelta(minutes=30)):
            sweep_now(app)
    assert len(reception_sms(app.extensions["sms"].outbox)) == told


def test_a_host_sms_that_was_not_delivered_tells_reception_once_not_twice(app, db, host, tablet, sms_outbox):
    with freeze_time(AT_10_02):
        visit_id = check_in(app, db, host, tablet)
        sid = messages(db, visit_id)["host"]["sid"]
        with app.test_request_context():
            delivery.handle_status_callback({"MessageSid": sid, "MessageStatus": "undelivered"})
        drain(app)
    with freeze_time(AT_10_02 + timedelta(minutes=6)):
        sweep_now(app)
    assert len(reception_sms(sms_outbox)) == 1
    assert "was not delivered" in reception_sms(sms_outbox)[0]


def test_without_a_reception_number_a_silent_host_raises_an_admin_alert(make_app):
    app = make_app(**REPLIES_ON, RECEPTION_PHONE=None)
    with app.app_context():
        db = get_db()
        with freeze_time(AT_10_02):
            check_in(app, db, create_host(db, name="Kari Nordmann", phone=HOST, language="en"))
        with freeze_time(AT_10_02 + timedelta(minutes=5)):
            sweep_now(app)
            sweep_now(app)
        assert alerts(db, "host_silent") == [
            "A visitor for Kari Nordmann has waited since 10:02 on the kiosk; Kari has not answered."]


def test_a_visit_older_than_an_hour_is_not_escalated_late(app, db, host, sms_outbox):
    with freeze_time(AT_10_02):
        check_in(app, db, host)
    with freeze_time(AT_10_02 + timedelta(hours=2)):
        sweep_now(app)  # e.g. every worker was down: telling reception now helps nobody
    assert reception_sms(sms_outbox) == []


# The admin area: settings say whether it is on, statistics count it


def test_the_settings_page_says_replies_are_off_and_why(make_app):
    page = get_page(admin_client(make_app()), "/admin/settings")
    section = page.select_one("#host-replies").get_text(" ", strip=True)
    assert "Off." in section and "KIOSK_PUBLIC_URL" in section


def test_the_settings_page_says_replies_are_on_with_the_minutes(app):
    section = get_page(admin_client(app), "/admin/settings").select_one("#host-replies").get_text(" ", strip=True)
    assert "On." in section
    assert "within 5 minutes" in section and "for 10 minutes" in section and "within 30 minutes" in section


def test_statistics_show_the_share_acknowledged_and_the_median_minutes(app, db, host):
    with freeze_time(AT_10_02) as frozen:
        visits = [check_in(app, db, host) for _ in range(3)]
        for _ in range(2):
            frozen.tick(timedelta(minutes=2))
            reply(app, "OK")
        reply(app, "OK", from_=CANARY_PHONE)
        admin = admin_client(app)
        page = get_page(admin, "/admin/statistics")
        csv_text = admin.get("/admin/statistics.csv").get_data(as_text=True)
    assert len(visits) == 3
    row = [cell.get_text(strip=True) for cell in page.select("#replies-per-day tbody tr")[0].select("th, td")]
    assert row == ["2026-12-03", "3", "2", "67 %", "3.0"]
    outcomes = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in page.select("#reply-outcomes tr")
                if tr.td}
    assert outcomes == {"On the way": "2", "From a number that is not a host's (ignored)": "1"}
    assert "replies_per_day,2026-12-03,acknowledged,2" in csv_text
    assert "replies_per_day,2026-12-03,median_minutes,3.0" in csv_text
    assert "replies,not_a_host,,1" in csv_text

