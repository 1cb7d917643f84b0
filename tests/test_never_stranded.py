"""Nobody is left waiting unannounced (issue 8): whatever fails, a check-in ends with the host or reception told,
the visitor's confirmation says only what is true, and no message stays in flight past its deadline."""

import re
import sqlite3
import threading
import time

import pytest
from freezegun import freeze_time

from kiosk import checkin, notify, sweeper
from kiosk.db import get_db
from kiosk.sms import SentSms
from tests.helpers import (
    alerts,
    create_host,
    drain,
    in_flight,
    messages,
    pair_tablet,
)
from tests.helpers import register_visit as register

HOST = "+4741234567"
VISITOR = "+4741234999"
RECEPTION = "+4741000000"  # TEST_CONFIG
HOST_TOLD = "Welcome to Velkommen, Ragnhild. Kari Ødegård has been told you are here."
RECEPTION_TOLD = "Welcome to Velkommen, Ragnhild. Reception has been told you are here."
DEAD_WORKER = "999999999:1"


@pytest.fixture
def host(db):
    """Kari Ødegård, a host in the directory."""
    return create_host(db, name="Kari Ødegård", phone=HOST, language="en")


@pytest.fixture
def tablet(app):
    """The paired tablet's device row."""
    device, _ = pair_tablet(app, name="Reception tablet")
    return device


def sweep(app, visit_id=None):
    with app.app_context():
        settled = sweeper.sweep(get_db(), visit_id=visit_id)
    drain(app)
    return settled


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
    assert reception.form["Body"] == ("Ragnhild Berg is at reception to see Kari Ødegård. Our SMS to Kari Ødegård "
                                      "has not gone through yet, and we keep trying. Please help them.")
    [host_sms] = twilio_server.accepted(HOST)
    assert reception.at < host_sms.at
    [visitor] = twilio_server.accepted(VISITOR)
    assert visitor.form["Body"] == RECEPTION_TOLD
    with app.app_context():
        assert {r: m["status"] for r, m in messages(get_db(), visit_id).items()} == {
            "host": "sent", "reception": "sent", "visitor": "sent"}


def test_the_status_sends_the_visitor_to_the_desk_once_the_host_sms_is_late(app, db, host, sms):
    app.config.update(SMS_RETRY_BASE_SECONDS=5, SMS_RETRY_MAX_SECONDS=5, SMS_RETRY_WINDOW_SECONDS=60)
    sms.fail(to=HOST, status=503)
    with freeze_time("2030-03-04 09:05:00", ignore=["kiosk.notify", "threading"]) as clock:
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
    monkeypatch.setattr("kiosk.notify.RECORD_TRIES", 1)
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
            sweep(app, visit_id)
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
