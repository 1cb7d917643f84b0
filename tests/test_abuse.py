"""The abuse guard of the check-in form (SECURITY.md R4-R10): limits per tablet, number, prefix and kiosk, and the
form token, nonce and honeypot that stand in for a CAPTCHA."""

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from kiosk.db import get_db
from kiosk.guard import abuse
from kiosk.hosts.directory import Host
from tests.helpers import (
    CANARY_PHONE,
    CANARY_PHONE_TYPED,
    checkin_data,
    create_host,
    get_page,
    pair_tablet,
    parse_page,
    tablet_client,
)

HOST = "+4741234567"
VISITOR = "+4741234999"
RECEPTION = "+4741000000"  # TEST_CONFIG
REFUSED = "We could not check you in here. Please ask at the desk."
BUDGET_NOTICE = "The visitor SMS budget of the kiosk is used up for this hour; hosts are still notified."


@dataclass
class Kiosk:
    """An app with one host and one paired tablet."""

    app: Flask
    client: FlaskClient
    host: Host

    @property
    def outbox(self):
        return self.app.extensions["sms"].outbox

    def to(self, number):
        return [sms for sms in self.outbox if sms.to == number]

    @property
    def guarded(self):
        """The SMS the guard limits: all but the one a refused visitor brings reception (issue 8)."""
        return [sms for sms in self.outbox if sms.to != RECEPTION]

    def check_in(self, client=None, *, phone=VISITOR, **fields):
        """Show the form, send it, and wait for its SMS to settle; returns the response."""
        client = client or self.client
        page = get_page(client, "/kiosk/checkin")
        return self.post(checkin_data(page, phone=phone, host_id=self.host.id, **fields), client)

    def post(self, data, client=None):
        response = (client or self.client).post("/kiosk/checkin", data=data)
        self.app.extensions["dispatcher"].drain(timeout=10)
        return response

    def rows(self, sql, params=()):
        with self.app.app_context():
            return get_db().execute(sql, params).fetchall()


@pytest.fixture
def make_kiosk(make_app):
    """Build a Kiosk with settings on top of TEST_CONFIG."""

    def make(**settings):
        app = make_app(**settings)
        with app.app_context():
            host = create_host(get_db(), phone=HOST)
        return Kiosk(app, tablet_client(app), host)

    return make


@pytest.fixture
def kiosk(make_kiosk):
    """A Kiosk with the default limits."""
    return make_kiosk()


def frozen(moment):
    """freeze_time for these tests. The SMS retry window counts on the real monotonic clock (OutgoingSms.queued_at
    is taken by a default_factory that freezegun cannot reach), so kiosk.messaging.notify keeps real time."""
    return freeze_time(moment, ignore=["kiosk.messaging.notify"])


def number(i):
    """The i-th of a run of mobile numbers sharing the prefix +474123."""
    return f"+474123{i:04d}"


def assert_refused(response, status=429):
    assert response.status_code == status
    page = parse_page(response)
    assert page.select_one("p.lead").text.strip() == REFUSED
    assert response.headers["Cache-Control"] == "no-store"


def refusals(kiosk):
    return dict(kiosk.rows("SELECT reason, sum(count) FROM refusals GROUP BY reason"))


def alerts(kiosk, kind):
    return [message for (message,) in kiosk.rows("SELECT message FROM alerts WHERE kind = ?", [kind])]


# R4: per visitor number


def test_r4_the_fourth_check_in_with_one_number_within_an_hour_is_refused_and_sends_nothing(kiosk):
    with frozen("2030-03-04 09:05"):
        for _ in range(3):
            assert kiosk.check_in().status_code == 302
        sent = len(kiosk.guarded)
        assert_refused(kiosk.check_in())
    assert len(kiosk.guarded) == sent == 6
    assert len(kiosk.to(VISITOR)) == 3


def test_r4_a_new_hour_allows_more_but_five_a_day_is_the_most(kiosk):
    with frozen("2030-03-04 09:05") as clock:
        for _ in range(3):
            assert kiosk.check_in().status_code == 302
        assert_refused(kiosk.check_in())  # a refused attempt uses up nothing of the day
        clock.move_to("2030-03-04 10:01")
        assert [kiosk.check_in().status_code for _ in range(3)] == [302, 302, 429]
        clock.move_to("2030-03-05 00:01")
        assert kiosk.check_in().status_code == 302
    assert len(kiosk.to(VISITOR)) == 6
    assert refusals(kiosk) == {"number_hour_limit": 1, "number_day_limit": 1}


def test_r4_the_cap_counts_sms_so_a_visitor_without_a_confirmation_still_gets_in(kiosk):
    for _ in range(3):
        kiosk.check_in()
    assert kiosk.check_in(confirm=False).status_code == 302
    assert len(kiosk.to(VISITOR)) == 3 and len(kiosk.to(HOST)) == 4


def test_r4_the_limits_come_from_the_settings_an_admin_edits(kiosk):
    from kiosk.settings import save_settings
    with kiosk.app.app_context():
        save_settings(get_db(), {"SMS_PER_NUMBER_PER_HOUR": 1})
    assert [kiosk.check_in().status_code for _ in range(2)] == [302, 429]


# R5: per prefix


def test_r5_eleven_numbers_with_one_prefix_block_it_and_raise_an_alert_without_a_number(kiosk, log_records):
    statuses = [kiosk.check_in(phone=number(i)).status_code for i in range(1, 12)]
    assert statuses == [302] * 10 + [429]
    assert len({sms.to for sms in kiosk.guarded} - {HOST}) == 10
    [message] = alerts(kiosk, "prefix_blocked")
    assert "+47 41**" in message
    assert not re.search(r"\d{3}", message.replace("+47 41**", "")), message
    assert any("ALERT prefix_blocked" in record.getMessage() for record in log_records)


def test_r5_a_blocked_prefix_refuses_its_known_numbers_too_for_the_rest_of_the_hour(make_kiosk):
    kiosk = make_kiosk(SMS_PREFIX_NUMBERS_PER_HOUR=2)
    with frozen("2030-03-04 09:05") as clock:
        assert [kiosk.check_in(phone=number(i)).status_code for i in (1, 2, 3)] == [302, 302, 429]
        assert_refused(kiosk.check_in(phone=number(1)))
        assert kiosk.check_in(phone="+4790000001").status_code == 302  # another prefix
        assert_refused(kiosk.check_in(phone=number(4)))
        clock.move_to("2030-03-04 10:00")
        assert kiosk.check_in(phone=number(3)).status_code == 302
    assert len(alerts(kiosk, "prefix_blocked")) == 1
    assert refusals(kiosk) == {"prefix_blocked": 3}


def test_r5_the_same_number_again_does_not_count_as_a_new_number(make_kiosk):
    kiosk = make_kiosk(SMS_PREFIX_NUMBERS_PER_HOUR=2)
    assert [kiosk.check_in(phone=p).status_code for p in (number(1), number(1), number(2), number(2))] == [302] * 4


# R6: kiosk-wide budget of visitor SMS


def test_r6_over_the_budget_the_visitor_sms_stops_the_host_sms_goes_on_and_reception_is_told_once(make_kiosk):
    kiosk = make_kiosk(SMS_BUDGET_PER_HOUR=5)
    responses = [kiosk.check_in(phone=number(i)) for i in range(1, 8)]
    assert [r.status_code for r in responses] == [302] * 7
    assert len(kiosk.to(HOST)) == 7
    assert len([sms for sms in kiosk.outbox if sms.to not in (HOST, RECEPTION)]) == 5
    assert [sms.body for sms in kiosk.to(RECEPTION)] == [BUDGET_NOTICE]
    [message] = alerts(kiosk, "sms_budget")
    assert "this hour" in message
    status = kiosk.client.get(responses[5].headers["Location"] + "/status").json
    assert (status["host"], status["visitor"], status["final"]) == ("sent", "failed", True)


def test_r6_the_status_page_says_the_confirmation_was_not_sent(make_kiosk):
    kiosk = make_kiosk(SMS_BUDGET_PER_HOUR=0)
    location = kiosk.check_in().headers["Location"]
    page = get_page(kiosk.client, location)
    assert page.select_one("li[data-recipient=visitor]")["data-state"] == "failed"
    assert kiosk.to(VISITOR) == []


def test_r6_the_day_budget_alerts_once_a_day(make_kiosk):
    kiosk = make_kiosk(SMS_BUDGET_PER_DAY=1)
    with frozen("2030-03-04 09:05") as clock:
        kiosk.check_in(phone=number(1))
        kiosk.check_in(phone=number(2))
        clock.move_to("2030-03-04 15:00")
        kiosk.check_in(phone=number(3))
    assert len([sms for sms in kiosk.outbox if sms.to not in (HOST, RECEPTION)]) == 1
    assert [sms.body for sms in kiosk.to(RECEPTION)] == [
        "The visitor SMS budget of the kiosk is used up for today; hosts are still notified."]
    assert len(alerts(kiosk, "sms_budget")) == 1


# R7: per tablet


def test_r7_a_tablet_over_its_hourly_check_ins_is_refused_and_another_tablet_is_not(make_kiosk):
    kiosk = make_kiosk(CHECKINS_PER_DEVICE_PER_HOUR=2)
    assert [kiosk.check_in(confirm=False).status_code for _ in range(2)] == [302, 302]
    assert_refused(kiosk.check_in(confirm=False))
    other = kiosk.app.test_client()
    pair_tablet(kiosk.app, other, name="Second tablet")
    assert kiosk.check_in(other, confirm=False).status_code == 302
    assert len(kiosk.to(HOST)) == 3
    assert refusals(kiosk) == {"device_limit": 1}


# R8: form timing, single-use token, honeypot


def test_r8_a_form_sent_one_second_after_it_was_shown_is_refused(make_kiosk):
    kiosk = make_kiosk(FORM_MIN_SECONDS=3)
    with frozen("2030-03-04 09:05:00") as clock:
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(1)
        assert_refused(kiosk.post(checkin_data(page, host_id=kiosk.host.id)), status=400)
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(3)
        assert kiosk.post(checkin_data(page, host_id=kiosk.host.id)).status_code == 302
    assert len(kiosk.to(VISITOR)) == 1
    assert refusals(kiosk) == {"too_fast": 1}


def test_r8_a_form_sent_more_than_fifteen_minutes_after_it_was_shown_is_refused(kiosk):
    with frozen("2030-03-04 09:05:00") as clock:
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(15 * 60 + 1)
        assert_refused(kiosk.post(checkin_data(page, host_id=kiosk.host.id)), status=400)
    assert kiosk.guarded == []


def test_r8_a_correction_after_a_mistake_is_accepted_once_the_shown_form_is_three_seconds_old(make_kiosk):
    kiosk = make_kiosk(FORM_MIN_SECONDS=3)
    with frozen("2030-03-04 09:05:00") as clock:
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(5)
        response = kiosk.post(checkin_data(page, host_id=kiosk.host.id, name=""))
        assert response.status_code == 422
        clock.tick(4)
        response = kiosk.post(checkin_data(parse_page(response), host_id=kiosk.host.id))
    assert response.status_code == 302
    assert len(kiosk.to(VISITOR)) == 1


def test_r8_each_shown_form_gets_its_own_time_so_one_wait_buys_no_instant_check_ins(make_kiosk):
    kiosk = make_kiosk(FORM_MIN_SECONDS=3)
    with frozen("2030-03-04 09:05:00") as clock:
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(5)  # the one wait
        response = kiosk.post(checkin_data(page, host_id=kiosk.host.id, name=""))  # a bad POST
        assert response.status_code == 422
        assert_refused(kiosk.post(checkin_data(parse_page(response), host_id=kiosk.host.id)), status=400)
    assert kiosk.guarded == []
    assert refusals(kiosk) == {"too_fast": 1}


def test_r8_a_form_shown_again_gets_fifteen_minutes_of_its_own(kiosk):
    with frozen("2030-03-04 09:05:00") as clock:
        page = get_page(kiosk.client, "/kiosk/checkin")
        clock.tick(14 * 60)
        response = kiosk.post(checkin_data(page, host_id=kiosk.host.id, name=""))
        clock.tick(2 * 60)
        assert kiosk.post(checkin_data(parse_page(response), host_id=kiosk.host.id)).status_code == 302


def test_r8_a_token_used_once_is_refused_the_second_time(kiosk):
    page = get_page(kiosk.client, "/kiosk/checkin")
    assert kiosk.post(checkin_data(page, host_id=kiosk.host.id, name="")).status_code == 422
    assert_refused(kiosk.post(checkin_data(page, host_id=kiosk.host.id)), status=400)
    assert kiosk.guarded == []
    assert refusals(kiosk) == {"token_reused": 1}


def test_r8_a_captured_check_in_cannot_be_replayed(kiosk):
    data = checkin_data(get_page(kiosk.client, "/kiosk/checkin"), host_id=kiosk.host.id)
    cookie = kiosk.app.config["SESSION_COOKIE_NAME"]
    captured = kiosk.client.get_cookie(cookie).value
    assert kiosk.post(data).status_code == 302
    kiosk.client.set_cookie(cookie, captured)  # the old session, so that the CSRF check passes as well
    assert_refused(kiosk.post(data), status=400)
    assert len(kiosk.to(VISITOR)) == 1


@pytest.mark.parametrize("change, reason", [
    ({"website": "http://spam.example"}, "honeypot"),
    ({"website": "x"}, "honeypot"),
    ({"form_token": ""}, "bad_token"),
    ({"form_token": "eyJub25jZSI6IngiLCJzaG93bl9hdCI6MH0.forged.signature"}, "bad_token"),
])
def test_r8_a_filled_honeypot_or_a_missing_or_forged_token_is_refused_and_sends_nothing(kiosk, change, reason):
    page = get_page(kiosk.client, "/kiosk/checkin")
    assert_refused(kiosk.post({**checkin_data(page, host_id=kiosk.host.id), **change}), status=400)
    assert kiosk.guarded == []
    assert refusals(kiosk) == {reason: 1}


def test_r8_a_token_without_a_form_token_field_is_refused(kiosk):
    data = checkin_data(get_page(kiosk.client, "/kiosk/checkin"), host_id=kiosk.host.id)
    del data["form_token"]
    assert_refused(kiosk.post(data), status=400)
    assert kiosk.guarded == []


def test_r8_the_honeypot_is_hidden_from_people_and_out_of_the_tab_order(kiosk):
    page = get_page(kiosk.client, "/kiosk/checkin")
    honeypot = page.select_one("input[name=website]")
    assert honeypot["tabindex"] == "-1" and honeypot["autocomplete"] == "off"
    assert honeypot.find_parent(attrs={"aria-hidden": "true"})["class"] == ["hp"]
    assert page.select_one("input[name=form_token]")["type"] == "hidden"


# R10: the visitor's name


@pytest.mark.parametrize("name", ["Ola www.example.no", "https://example.no Ola", "Ola evil.com/win",
                                  "Kari bit.ly", "Ola HTTP://X", "Ola 93.184.216.34/x", "Kari evil.рф",
                                  "Ola evil．com", "Ola evil。com", "Ola evil｡com", "Ola 93。184。216。34"])
def test_r10_a_name_with_a_web_address_is_refused_next_to_the_field(kiosk, name):
    response = kiosk.check_in(name=name)
    assert response.status_code == 422
    assert parse_page(response).select_one("#name-error").text.strip() == "Write only your name."
    assert kiosk.guarded == []


@pytest.mark.parametrize("name", ["J.R.R. Tolkien", "Anne-Marie St. Clair", "Dr. Ola Nordmann"])
def test_r10_names_with_dots_and_initials_are_accepted(kiosk, name):
    assert kiosk.check_in(name=name).status_code == 302


def test_r10_a_200_character_name_is_refused(kiosk):
    response = kiosk.check_in(name="Ola " + "x" * 196)
    assert response.status_code == 422
    assert "too long" in parse_page(response).select_one("#name-error").text
    assert kiosk.guarded == []


# What the guard keeps, logs and shows


def test_every_refusal_shows_the_same_page_and_is_counted_by_reason(make_kiosk):
    kiosk = make_kiosk(SMS_PER_NUMBER_PER_HOUR=1)
    kiosk.check_in()
    over_cap = kiosk.check_in()
    page = get_page(kiosk.client, "/kiosk/checkin")
    honeypot = kiosk.post({**checkin_data(page, host_id=kiosk.host.id), "website": "x"})
    assert parse_page(over_cap).select_one("main").text == parse_page(honeypot).select_one("main").text
    assert refusals(kiosk) == {"number_hour_limit": 1, "honeypot": 1}
    [(hour,)] = kiosk.rows("SELECT DISTINCT hour FROM refusals")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d", hour)


def test_r31_a_refusal_is_logged_with_reason_and_device_only(make_kiosk, log_records):
    kiosk = make_kiosk(SMS_PER_NUMBER_PER_HOUR=0)
    kiosk.check_in(name="Kari Kanarifugl", phone=CANARY_PHONE_TYPED)
    [record] = [r for r in log_records if r.name == "kiosk.guard.abuse"]
    assert re.fullmatch(r"Check-in refused on device \d+: number_hour_limit", record.getMessage())


@pytest.fixture
def guarded(make_kiosk, tmp_path):
    """A kiosk after check-ins with the canary number that tripped every limit, with an open reader keeping the
    WAL from being folded away; returns the Kiosk."""
    kiosk = make_kiosk(SMS_BUDGET_PER_HOUR=4, SMS_PREFIX_NUMBERS_PER_HOUR=2)
    reader = sqlite3.connect(kiosk.app.config["DATABASE"])
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    for phone in [CANARY_PHONE_TYPED] * 4 + ["+4799990001", "+4799990002"]:
        kiosk.check_in(phone=phone)
    yield kiosk
    reader.close()


def test_r33_the_database_and_its_wal_never_hold_the_number_or_its_digits(guarded, tmp_path):
    assert guarded.to(CANARY_PHONE), "the canary must really have been texted"
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name.endswith("-wal") for path in written)
    canaries = [CANARY_PHONE.encode(), CANARY_PHONE[3:].encode(), b"99990001", b"99990002"]
    assert [(path.name, c) for path in written for c in canaries if c in path.read_bytes()] == []


def test_r33_every_counter_expires_within_24_hours(guarded):
    now = datetime.now().astimezone()
    rows = guarded.rows("SELECT key, expires_at FROM counters")
    assert {key.split(":")[0] for key, _ in rows} >= {"device", "number-hour", "number-day", "prefix", "nonce"}
    for key, expires_at in rows:
        assert now < datetime.fromisoformat(expires_at) <= now + timedelta(hours=24), key


def test_purge_expired_deletes_old_counters_and_they_never_count_before_that(kiosk):
    with frozen("2030-03-04 09:05") as clock:
        for _ in range(3):
            kiosk.check_in()
        clock.move_to("2030-03-05 09:06")
        with kiosk.app.app_context():
            assert abuse.purge_expired(get_db()) > 0
        assert kiosk.rows("SELECT count(*) FROM counters") == [(0,)]


# Counters that cannot be tied to a number (issue 9, item 3)


NORWEGIAN_MOBILES = 2 * 10 ** 7  # 8 digits, the first 4 or 9


def test_r4_a_number_tag_is_shared_by_more_than_a_thousand_norwegian_mobiles_even_with_the_key():
    import math
    tags = 2 ** abuse.NUMBER_TAG_BITS
    mean = NORWEGIAN_MOBILES / tags
    sd = math.sqrt(NORWEGIAN_MOBILES * (1 / tags) * (1 - 1 / tags))
    z = (mean - 1000) / sd
    assert mean > 1220 and z > 6
    # Chance that any one of the tags is shared by fewer than 1,000 numbers (a union bound over the normal tail).
    assert tags * math.exp(-z * z / 2) < 1e-4


def test_r4_number_tags_spread_evenly_so_the_arithmetic_holds(app):
    import random
    rng = random.Random(9)
    tags = 2 ** abuse.NUMBER_TAG_BITS
    counts = [0] * tags
    with app.app_context():
        for _ in range(10 * tags):
            counts[int(abuse.number_tag(f"+47{rng.choice('49')}{rng.randrange(10 ** 7):07d}"), 16)] += 1
    chi2 = sum((c - 10) ** 2 / 10 for c in counts)
    assert abs(chi2 - (tags - 1)) < 5 * (2 * (tags - 1)) ** 0.5


def test_r4_the_counters_hold_only_short_tags_of_a_number(kiosk):
    kiosk.check_in(phone=CANARY_PHONE_TYPED)
    keys = [key for (key,) in kiosk.rows("SELECT key FROM counters WHERE key LIKE 'number-%'")]
    assert len(keys) == 2 and all(re.fullmatch(r"number-(hour|day):[0-9a-f]{4}", key) for key in keys)
    with kiosk.app.app_context():
        assert abuse.keyed_hash(CANARY_PHONE) not in str(kiosk.rows("SELECT * FROM counters"))
