"""Nobody is left waiting unannounced (issue 8): whatever fails, a check-in ends with the host or reception told,
the visitor's confirmation says only what is true, and no message stays in flight past its deadline."""

import re
import sqlite3
import threading
import time

import pytest
from freezegun import freeze_time

from kiosk.db import get_db
from kiosk.messaging import notify
from kiosk.sms import SentSms
from kiosk.walkin import checkin
from tests.helpers import (
    alerts,
    checkin_data,
    create_host,
    drain,
    get_page,
    in_flight,
    messages,
    sweep_now,
    tablet_client,
)
from tests.helpers import register_visit as register

HOST = "+4741234567"
VISITOR = "+4741234999"
RECEPTION = "+4741000000"  # TEST_CONFIG
HOST_TOLD = "Welcome to Velkommen, Ragnhild. Kari Ødegård has been told you are here."
RECEPTION_TOLD = "Welcome to Velkommen, Ragnhild. Reception has been told you are here."
DEAD_WORKER = "999999999:1"





# The visitor's confirmation tells the truth


def test_the_visitors_confirmation_goes_only_after_the_host_sms_was_accepted(app, db, host, sms):
    sms.fail(to=HOST, status=503, times=2)
    register(app, db, host)
    drain(app)
    assert [a.to for a in sms.attempts] == [HOST, HOST, HOST, VISITOR]
    assert sms.outbox[-1] == SentSms(VISITOR, HOST_TOLD)


def test_a_host_unreachable_for_good_makes_the_confirmation_say_reception_was_told(app, db, host, sms):
    sms.fail(to=HOST, code=21211)
    visit_id = register(app, db, host)
    drain(app)
    assert [s.to for s in sms.outbox] == [RECEPTION, VISITOR]
    assert sms.outbox[1].body == RECEPTION_TOLD
    assert {r: m["status"] for r, m in messages(db, visit_id).items()} == {
        "host": "failed", "reception": "sent", "visitor": "sent"}


def test_when_nobody_can_be_told_no_confirmation_goes_and_the_admins_are_alerted(app, db, host, sms, tablet):
    sms.fail(to=HOST, code=21211)
    sms.fail(to=RECEPTION, code=21610)
    visit_id = register(app, db, host, kiosk_id=tablet.id)
    drain(app)
    assert sms.outbox == []
    visitor = messages(db, visit_id)["visitor"]
    assert (visitor["status"], visitor["reason"]) == ("failed", "nobody_reached")
    [alert] = alerts(db)
    assert re.fullmatch(r"A visitor for Kari Ødegård checked in at \d\d:\d\d on Reception tablet and could not be "
                        r"announced\. Please help them\.", alert)
    assert in_flight(db) == 0


def test_a_visitor_for_reception_gets_the_reception_wording(app, db, sms):
    register(app, db, None)
    drain(app)
    assert sms.outbox[-1] == SentSms(VISITOR, RECEPTION_TOLD)


# Reception hears within a minute when the host's SMS is slow (HOST_ESCALATE_SECONDS)


@pytest.fixture
def slow_twilio_app(make_twilio_app):
    """The real SDK against the test server; the host is escalated after half a second of no acceptance."""
    return make_twilio_app(HOST_ESCALATE_SECONDS=0.5, SMS_RETRY_WINDOW_SECONDS=10, SMS_TIMEOUT_SECONDS=1,
                           SMS_RETRY_BASE_SECONDS=0.05, SMS_RETRY_MAX_SECONDS=0.1)


def test_a_slow_host_sms_tells_reception_at_once_while_its_retries_go_on(slow_twilio_app, twilio_server):
    app = slow_twilio_app
    twilio_server.hang(5, to=HOST, times=2)  # two timeouts of 1 s, then accepted
    with app.app_context():
        db = get_db()
        visit_id = register(app, db, create_host(db, name="Kari Ødegård", phone=HOST))
    drain(app)
    [reception] = twilio_server.accepted(RECEPTION)
    assert reception.form["Body"] == ("Ragnhild Berg is at reception to see Kari Ødegård. Our SMS is delayed; we keep "
                                      "trying. Please help them.")
    [host_sms] = twilio_server.accepted(HOST)
    assert reception.at < host_sms.at
    [visitor] = twilio_server.accepted(VISITOR)
    assert visitor.form["Body"] == RECEPTION_TOLD
    with app.app_context():
        assert {r: m["status"] for r, m in messages(get_db(), visit_id).items()} == {
            "host": "sent", "reception": "sent", "visitor": "sent"}


def test_the_status_sends_the_visitor_to_the_desk_once_the_host_sms_is_late(app, ctx, db, host, sms):
    app.config.update(SMS_RETRY_BASE_SECONDS=5, SMS_RETRY_MAX_SECONDS=5, SMS_RETRY_WINDOW_SECONDS=60)
    sms.fail(to=HOST, status=503)
    with freeze_time("2030-03-04 09:05:00", ignore=["kiosk.messaging.notify", "threading"]) as clock:
        visit_id = register(app, db, host)
        assert not checkin.get_visit_status(db, visit_id, kiosk_id=None).ask_desk
        clock.tick(61)
        status = checkin.get_visit_status(db, visit_id, kiosk_id=None)
    assert (status.host, status.ask_desk, status.reason, status.final) == ("sending", True, "host_slow", False)
    app.extensions["dispatcher"]._stop.set()  # end the pending retry now
    drain(app)


# Every send ends in a state (item 4)


def test_a_201_that_is_not_json_is_tried_again_and_the_row_is_settled(twilio_app, twilio_server):
    twilio_server.garble(to=HOST)
    with twilio_app.app_context():
        db = get_db()
        visit_id = register(twilio_app, db, create_host(db, phone=HOST), confirm=False)
        drain(twilio_app)
        host_row = messages(db, visit_id)["host"]
    assert [r.status for r in twilio_server.posts(HOST)] == [201, 201]
    assert (host_row["status"], host_row["attempts"]) == ("sent", 2)


def test_an_unforeseen_exception_in_the_sms_client_is_retried_not_lost(app, db, host, sms, monkeypatch,
                                                                        log_records):
    real_send, calls = sms._send, []

    def broken_once(to, body, *, ref):
        calls.append(to)
        if len(calls) == 1:
            raise AttributeError("'NoneType' object has no attribute 'sid' (+4741234567)")
        return real_send(to, body, ref=ref)

    monkeypatch.setattr(sms, "_send", broken_once)
    visit_id = register(app, db, host, confirm=False)
    drain(app)
    assert messages(db, visit_id)["host"]["status"] == "sent"
    logged = "\n".join(record.getMessage() for record in log_records)
    assert "failed in fake with AttributeError" in logged and "+4741234567" not in logged


@pytest.fixture
def locked(app):
    """Hold the database's write lock from another connection until released: `locked.release()`."""
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None, check_same_thread=False)

    class Lock:
        def take(self):
            other.execute("BEGIN IMMEDIATE")

        def release(self):
            if other.in_transaction:
                other.execute("ROLLBACK")

        def release_after(self, seconds):
            threading.Timer(seconds, self.release).start()

    lock = Lock()
    yield lock
    lock.release()
    other.close()


def lock_during_send(monkeypatch, sms, locked):
    """The database stops taking writes while the host's SMS is with the provider."""
    real_send = sms._send

    def send(to, body, *, ref):
        if to == HOST:
            locked.take()
        return real_send(to, body, ref=ref)

    monkeypatch.setattr(sms, "_send", send)


def test_a_status_write_the_database_refuses_at_first_is_tried_again(make_app, monkeypatch, locked):
    monkeypatch.setattr("kiosk.db.BUSY_TIMEOUT", 0.3)
    app = make_app()
    lock_during_send(monkeypatch, app.extensions["sms"], locked)
    locked.release_after(1.0)
    with app.app_context():
        db = get_db()
        visit_id = register(app, db, create_host(db, phone=HOST), confirm=False)
        drain(app)
        assert messages(db, visit_id)["host"]["status"] == "sent"


def test_a_row_the_database_never_let_us_settle_is_settled_by_the_sweeper(make_app, monkeypatch, locked):
    monkeypatch.setattr("kiosk.db.BUSY_TIMEOUT", 0.1)
    monkeypatch.setattr("kiosk.messaging.notify.RECORD_WITHIN_SECONDS", 0.5)
    app = make_app(SMS_RETRY_WINDOW_SECONDS=0.2, SMS_TIMEOUT_SECONDS=0.1)
    lock_during_send(monkeypatch, app.extensions["sms"], locked)
    with app.app_context():
        db = get_db()
        visit_id = register(app, db, create_host(db, phone=HOST), confirm=False)
        drain(app)
        locked.release()
        monkeypatch.undo()
        assert messages(db, visit_id)["host"]["status"] == "sending"
        with freeze_time(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 60))):
            sweep_now(app, visit_id=visit_id)
        assert (messages(db, visit_id)["host"]["status"], messages(db, visit_id)["host"]["reason"]) == (
            "failed", "timed_out")


# Messages carry a deadline and an owner


def test_each_message_in_flight_carries_its_deadline_and_worker(app, db, host, sms):
    sms.fail(to=HOST, status=503)
    app.config.update(SMS_RETRY_BASE_SECONDS=0.5, SMS_RETRY_MAX_SECONDS=0.5)
    visit_id = register(app, db, host)
    rows = messages(db, visit_id)
    assert rows["host"]["owner"] == notify.this_worker() and notify.is_alive(rows["host"]["owner"])
    assert rows["host"]["deadline"] > rows["host"]["updated_at"]
    assert rows["visitor"]["deadline"] > rows["host"]["deadline"]  # it waits for the host's first
    drain(app)


def test_a_worker_that_is_gone_is_not_alive_even_if_its_pid_comes_back():
    pid = int(notify.this_worker().split(":")[0])
    assert not notify.is_alive(f"{pid}:0")
    assert not notify.is_alive(DEAD_WORKER)
    assert not notify.is_alive(None)


# A refused check-in still brings help (item 7)


@pytest.fixture
def kiosk_client(app):
    """The paired tablet's test client."""
    return tablet_client(app)


def refused_check_in(app, client, host_id, phone=VISITOR):
    """A check-in the guard refuses: its honeypot is filled, as a bot's would be."""
    page = get_page(client, "/kiosk/checkin")
    response = client.post("/kiosk/checkin", data=checkin_data(page, host_id=host_id, phone=phone, website="x"))
    drain(app)
    assert response.status_code == 400
    return response


HELP = re.compile(r"Someone at Reception tablet asked for help at \d\d:\d\d\.")


def test_a_refused_check_in_texts_reception_once_and_says_the_desk_was_told(app, host, sms, kiosk_client):
    response = refused_check_in(app, kiosk_client, host.id)
    [help_sms] = sms.outbox
    assert help_sms.to == RECEPTION and HELP.fullmatch(help_sms.body)
    assert "The desk has been told that someone needs help here." in response.get_data(as_text=True)


def test_a_tablet_brings_reception_at_most_one_help_sms_in_ten_minutes(app, host, sms, kiosk_client):
    with freeze_time("2030-03-04 09:05:00", ignore=["kiosk.messaging.notify"]) as clock:
        for _ in range(5):
            response = refused_check_in(app, kiosk_client, host.id)
            clock.tick(60)
        assert "The desk has been told" in response.get_data(as_text=True)
        assert len(sms.outbox) == 1
        clock.tick(6 * 60)
        refused_check_in(app, kiosk_client, host.id)
    assert len(sms.outbox) == 2
    assert all(s.to == RECEPTION for s in sms.outbox)


def test_without_a_reception_phone_the_host_picked_hears_of_a_refused_visitor(make_app):
    app = make_app(RECEPTION_PHONE=None)
    with app.app_context():
        host = create_host(get_db(), phone=HOST, language="en")
    refused_check_in(app, tablet_client(app), host.id)
    [help_sms] = app.extensions["sms"].outbox
    assert help_sms.to == HOST and HELP.fullmatch(help_sms.body)


def test_a_refusal_with_nobody_to_tell_says_only_ask_at_the_desk(make_app):
    app = make_app(RECEPTION_PHONE=None)
    response = refused_check_in(app, tablet_client(app), "")
    assert app.extensions["sms"].outbox == []
    assert "The desk has been told" not in response.get_data(as_text=True)


def test_r4_the_help_sms_never_goes_to_the_typed_number(app, host, sms, kiosk_client):
    refused_check_in(app, kiosk_client, host.id, phone="412 34 999")
    assert VISITOR not in [s.to for s in sms.attempts]


# Any mobile may check in; ALLOWED_COUNTRIES limits only where confirmations go (item 8)


FOREIGN_MOBILES = {"+48": "+48 512 345 678", "+380": "+380 50 123 4567", "+44": "+44 7911 123456",
                   "+1": "+1 202 555 0143"}


@pytest.mark.parametrize("typed", FOREIGN_MOBILES.values(), ids=FOREIGN_MOBILES.keys())
def test_r1_a_foreign_mobile_checks_in_with_the_confirmation_skipped(app, host, sms, kiosk_client, typed):
    page = get_page(kiosk_client, "/kiosk/checkin")
    response = kiosk_client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id, phone=typed,
                                                                     confirm=False))
    drain(app)
    assert response.status_code == 302
    assert [s.to for s in sms.attempts] == [HOST]


@pytest.mark.parametrize("typed", FOREIGN_MOBILES.values(), ids=FOREIGN_MOBILES.keys())
def test_r1_a_foreign_mobile_asking_for_a_confirmation_is_told_it_cannot_go_to_that_country(
        app, host, sms, kiosk_client, typed):
    page = get_page(kiosk_client, "/kiosk/checkin")
    response = kiosk_client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id, phone=typed))
    drain(app)
    assert [s.to for s in sms.attempts] == [HOST]
    status_page = get_page(kiosk_client, response.headers["Location"])
    visitor = status_page.select_one("li[data-recipient=visitor]")
    assert (visitor["data-state"], visitor["data-reason"]) == ("failed", "country_not_allowed")
    assert "We cannot send text messages to numbers from your country, but you are checked in." in visitor.text
    status = kiosk_client.get(response.headers["Location"] + "/status").get_json()
    assert (status["host"], status["visitor"], status["visitor_reason"]) == ("sent", "failed", "country_not_allowed")


def test_r4_a_foreign_number_that_gets_no_sms_is_not_counted_against_the_number_limits(app, host, sms,
                                                                                      kiosk_client):
    for _ in range(5):
        page = get_page(kiosk_client, "/kiosk/checkin")
        response = kiosk_client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id,
                                                                         phone=FOREIGN_MOBILES["+48"]))
        assert response.status_code == 302
    drain(app)
    assert [s.to for s in sms.attempts] == [HOST] * 5


@pytest.mark.parametrize("typed, message", [
    ("+48 22 123 45 67", "Enter a mobile number. We can only send text messages to mobile phones."),  # landline
    ("+44 909 879 0000", "Enter a mobile number. We can only send text messages to mobile phones."),  # premium
    ("820 12 345", "Enter a mobile number. We can only send text messages to mobile phones."),  # NO shared cost
])
def test_r3_premium_shared_cost_and_landline_numbers_stay_refused(app, host, sms, kiosk_client, typed, message):
    page = get_page(kiosk_client, "/kiosk/checkin")
    response = kiosk_client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id, phone=typed))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    drain(app)
    assert sms.attempts == []


def test_when_another_worker_told_reception_first_no_false_alarm_is_raised(app, db, host, sms, monkeypatch):
    monkeypatch.setattr("kiosk.messaging.notify.claim_reception", lambda db, visit_id: None)
    sms.fail(to=HOST, code=21211)
    visit_id = register(app, db, host)
    drain(app)
    assert alerts(db) == []  # reception is being told by whoever claimed its SMS
    visitor = messages(db, visit_id)["visitor"]
    assert (visitor["status"], visitor["reason"]) == ("failed", None)
    assert sms.outbox == []
