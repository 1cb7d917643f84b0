"""The sweeper and the drain on shutdown (issue 8): no message stays in flight past its deadline, a worker that died
or stopped leaves its visitors announced by another, and the health check says what it sees."""

import re
import sqlite3
import time

from freezegun import freeze_time

from kiosk.db import get_db
from kiosk.messaging import notify
from tests.helpers import (
    alerts,
    create_host,
    drain,
    in_flight,
    messages,
    pair_tablet,
    register_visit,
    sweep_now,
    tablet_client,
)

HOST = "+4741234567"
VISITOR = "+4741234999"
RECEPTION = "+4741000000"  # TEST_CONFIG
DEAD_WORKER = "999999999:1"

UNANNOUNCED = re.compile(r"A visitor for Kari Ødegård checked in at (\d\d:\d\d) on Reception tablet and could not be "
                         r"announced\. Please help them\.")




def orphan(db, visit_id, *recipients, owner=DEAD_WORKER):
    """Make the visit's messages look like those of a worker killed mid-send: still `sending`, owner gone."""
    for recipient in recipients:
        db.execute("UPDATE messages SET status = 'sending', sid = NULL, owner = ? WHERE visit_id = ? AND recipient = ?",
                   [owner, visit_id, recipient])
    db.conn.commit()



def test_a_host_sms_whose_worker_died_tells_reception_without_the_visitors_name(app, db, host, tablet, sms):
    visit_id = register_visit(app, db, host, kiosk_id=tablet.id)
    drain(app)
    orphan(db, visit_id, "host", "visitor")
    sms.outbox.clear()

    assert sweep_now(app) == 2

    [told] = sms.outbox
    assert told.to == RECEPTION and UNANNOUNCED.fullmatch(told.body), told.body
    assert "Ragnhild" not in told.body and VISITOR[3:] not in told.body
    rows = messages(db, visit_id)
    assert {r: (m["status"], m["reason"]) for r, m in rows.items()} == {
        "host": ("failed", "worker_stopped"), "visitor": ("failed", "worker_stopped"), "reception": ("sent", None)}
    assert in_flight(db) == 0


def test_the_time_in_the_reception_sms_is_the_offices_clock(app, db, host, tablet, sms):
    with freeze_time("2030-01-15 09:02:00"):  # 10:02 in Oslo in winter
        visit_id = register_visit(app, db, host, kiosk_id=tablet.id, confirm=False)
        drain(app)
        orphan(db, visit_id, "host")
        sweep_now(app)
    assert UNANNOUNCED.fullmatch(sms.outbox[-1].body).group(1) == "10:02"


def test_a_second_sweep_changes_nothing_and_reception_is_told_once(app, db, host, tablet, sms):
    visit_id = register_visit(app, db, host, kiosk_id=tablet.id)
    drain(app)
    orphan(db, visit_id, "host")
    sweep_now(app)
    sent = len(sms.outbox)
    assert sweep_now(app) == 0
    assert len(sms.outbox) == sent


def test_a_message_past_its_deadline_is_settled_as_timed_out(app, db, host, sms):
    visit_id = register_visit(app, db, host, confirm=False)
    drain(app)
    orphan(db, visit_id, "host", owner=notify.this_worker())  # alive, but silent
    assert sweep_now(app) == 0
    with freeze_time(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3600))):
        sweep_now(app)
    assert (messages(db, visit_id)["host"]["status"], messages(db, visit_id)["host"]["reason"]) == (
        "failed", "timed_out")


def test_a_live_but_silent_worker_is_backed_up_after_the_escalation_time(app, db, host, tablet, sms):
    app.config.update(SMS_RETRY_WINDOW_SECONDS=600)
    visit_id = register_visit(app, db, host, kiosk_id=tablet.id, confirm=False)
    drain(app)
    orphan(db, visit_id, "host", owner=notify.this_worker())
    with freeze_time(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 95))):
        sweep_now(app)
    assert messages(db, visit_id)["host"]["status"] == "sending"  # its own worker may still settle it
    assert UNANNOUNCED.fullmatch(sms.outbox[-1].body)


def test_a_reception_sms_left_by_a_stopped_worker_is_sent_by_another(app, db, host, tablet, sms):
    sms.fail(to=HOST, code=21211)
    visit_id = register_visit(app, db, host, kiosk_id=tablet.id, confirm=False)
    drain(app)
    orphan(db, visit_id, "reception", owner=None)
    sms.outbox.clear()
    sweep_now(app)
    [told] = sms.outbox
    assert UNANNOUNCED.fullmatch(told.body)
    assert messages(db, visit_id)["reception"]["status"] == "sent"


def test_without_a_reception_phone_a_dead_workers_visit_raises_an_admin_alert(make_app, sms):
    app = make_app(RECEPTION_PHONE=None)
    device, _ = pair_tablet(app, name="Reception tablet")
    with app.app_context():
        db = get_db()
        visit_id = register_visit(app, db, create_host(db, name="Kari Ødegård", phone=HOST), kiosk_id=device.id)
        drain(app)
        orphan(db, visit_id, "host")
        sweep_now(app)
        assert UNANNOUNCED.fullmatch(alerts(db)[0])


def test_the_status_poll_sweeps_its_visit(app, db, host, sms):
    client = tablet_client(app)
    device_id = db.execute("SELECT id FROM devices").fetchone()[0]
    visit_id = register_visit(app, db, host, kiosk_id=device_id)
    drain(app)
    orphan(db, visit_id, "host", "visitor")
    status = client.get(f"/kiosk/visits/{visit_id}/status").get_json()
    drain(app)
    assert (status["host"], status["ask_desk"], status["reason"]) == ("failed", True, "host_failed")
    assert client.get(f"/kiosk/visits/{visit_id}/status").get_json()["reception"] == "sent"


def test_the_ticker_sweeps_in_each_worker_without_any_status_poll(make_app):
    app = make_app(SWEEP_SECONDS=0.2)
    with app.app_context():
        db = get_db()
        visit_id = register_visit(app, db, create_host(db, phone=HOST), confirm=False)
        drain(app)
        orphan(db, visit_id, "host")
        app.test_client().get("/kiosk/")  # the first request starts the worker's ticker
        deadline = time.monotonic() + 5
        while messages(db, visit_id)["host"]["status"] == "sending" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert messages(db, visit_id)["host"]["reason"] == "worker_stopped"
    app.extensions["dispatcher"]._stop.set()  # the ticker ends with its dispatcher


# Shutdown drains (gunicorn's worker_exit hook calls Dispatcher.shutdown)


def test_a_stopping_worker_tells_reception_by_name_while_it_can(app, db, host, sms):
    app.config.update(SMS_RETRY_WINDOW_SECONDS=60, SMS_RETRY_BASE_SECONDS=30, SMS_RETRY_MAX_SECONDS=30)
    sms.fail(to=HOST, status=503, times=100)
    visit_id = register_visit(app, db, host)
    time.sleep(0.2)

    assert app.extensions["dispatcher"].shutdown(0.3) is False

    assert [s.to for s in sms.outbox] == [RECEPTION, VISITOR]
    assert sms.outbox[0].body == ("Ragnhild Berg is at reception to see Kari Ødegård, who could not be reached by "
                                  "SMS. Please help them.")
    rows = messages(db, visit_id)
    assert (rows["host"]["status"], rows["host"]["reason"]) == ("failed", "worker_stopped")
    assert in_flight(db) == 0


def test_what_a_stopping_worker_cannot_send_is_left_to_the_others(app, db, host, sms):
    app.config.update(SMS_RETRY_WINDOW_SECONDS=60, SMS_RETRY_BASE_SECONDS=30, SMS_RETRY_MAX_SECONDS=30)
    sms.fail(status=503, times=100)  # the provider is down for everyone
    visit_id = register_visit(app, db, host)
    time.sleep(0.2)

    app.extensions["dispatcher"].shutdown(0.3)

    rows = messages(db, visit_id)
    assert (rows["host"]["status"], rows["visitor"]["status"]) == ("failed", "failed")
    assert (rows["reception"]["status"], rows["reception"]["owner"]) == ("sending", None)
    assert not notify.is_alive(rows["reception"]["owner"])  # so the next sweep elsewhere takes it over


def test_a_worker_with_nothing_in_flight_stops_at_once(app):
    started = time.monotonic()
    assert app.extensions["dispatcher"].shutdown(10) is True
    assert time.monotonic() - started < 1


# Health tells the truth


def test_health_reports_messages_past_their_deadline(app, db, host, client):
    visit_id = register_visit(app, db, host, confirm=False)
    drain(app)
    orphan(db, visit_id, "host", owner=notify.this_worker())
    db.execute("UPDATE messages SET deadline = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    assert client.get("/healthz").json["overdue"] == 1


def test_health_answers_503_when_the_database_cannot_be_written(app, client):
    client.get("/healthz")
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = client.get("/healthz")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503
    assert response.json["database"] == "read-only"
    assert time.monotonic() - started < 5
    assert client.get("/healthz").status_code == 200
