"""Fault rehearsal under gunicorn with 2 workers and the real twilio SDK (issue 8): a worker killed mid-send, a
reload during an outage, a database that stops taking writes. Each ends with a person told, no message left in
flight and the visitor's screen saying the truth. bench/faults.py runs the same faults with the default timings and
prints how long each took."""

import os
import re
import signal
import sqlite3

import pytest

from tests.deployment import HOST_PHONE, RECEPTION, Gunicorn, gunicorn_env, make_instance, start_check_in, wait_until
from tests.helpers import CANARY_PHONE

# Short timings: reception is texted after 2 s, sweeps run every second, a stopping worker drains for 3 s.
FAST = {"HOST_ESCALATE_SECONDS": 2, "SWEEP_SECONDS": 1, "SMS_RETRY_WINDOW_SECONDS": 20, "SMS_TIMEOUT_SECONDS": 1,
        "SMS_RETRY_MAX_SECONDS": 1, "GRACEFUL_TIMEOUT": 8}
UNANNOUNCED = re.compile(r"A visitor for Kari Ødegård checked in at \d\d:\d\d on Reception tablet and could not be "
                         r"announced\. Please help them\.")


@pytest.fixture
def instance(tmp_path):
    return make_instance(tmp_path / "instance")


@pytest.fixture
def gunicorn(instance, twilio_server, tmp_path):
    server = Gunicorn(gunicorn_env(instance, twilio_server.url, **FAST), tmp_path / "gunicorn.log")
    yield server
    server.stop()


def rows(instance):
    with sqlite3.connect(instance.folder / "kiosk.db") as db:
        return db.execute("SELECT recipient, status, reason, owner FROM messages ORDER BY id").fetchall()


def owner_pid(instance, recipient="host"):
    owners = [owner for r, _status, _reason, owner in rows(instance) if r == recipient and owner]
    return int(owners[0].split(":")[0]) if owners else None


def reception_told(server):
    return [r.form["Body"] for r in server.accepted(RECEPTION)]


def test_a_worker_killed_mid_send_leaves_reception_told_without_the_visitors_name(gunicorn, instance,
                                                                                 twilio_server):
    twilio_server.hang(60, to=HOST_PHONE)
    session, status_url, _ = start_check_in(gunicorn.url, instance)
    wait_until(lambda: twilio_server.posts(HOST_PHONE), what="the host SMS to be in flight")
    os.kill(owner_pid(instance), signal.SIGKILL)

    wait_until(lambda: reception_told(twilio_server), what="reception to be told", seconds=30)

    [body] = reception_told(twilio_server)
    assert UNANNOUNCED.fullmatch(body), body
    assert twilio_server.accepted(CANARY_PHONE) == []  # the visitor was never told the host knew
    wait_until(lambda: all(status != "sending" for _r, status, _reason, _o in rows(instance)), what="rows settled")
    assert {(r, s, reason) for r, s, reason, _o in rows(instance)} == {
        ("host", "failed", "worker_stopped"), ("visitor", "failed", "worker_stopped"), ("reception", "sent", None)}
    status = session.get(status_url, timeout=5).json()
    assert (status["ask_desk"], status["reason"], status["reception"]) == (True, "host_failed", "sent")


def test_a_reload_during_an_outage_hands_reception_over_to_the_new_workers(gunicorn, instance, twilio_server):
    twilio_server.fail(500, times=10_000)
    session, status_url, _ = start_check_in(gunicorn.url, instance)
    wait_until(lambda: len(twilio_server.posts(HOST_PHONE)) >= 2, what="the host SMS to be retried")
    old_workers = set(gunicorn.workers())

    gunicorn.reload()
    wait_until(lambda: not old_workers & set(gunicorn.workers()), what="the old workers to stop", seconds=30)
    twilio_server.recover()

    wait_until(lambda: reception_told(twilio_server), what="reception to be told", seconds=30)
    assert UNANNOUNCED.fullmatch(reception_told(twilio_server)[0])
    wait_until(lambda: all(status != "sending" for _r, status, _reason, _o in rows(instance)), what="rows settled")
    assert ("host", "failed", "worker_stopped") in {(r, s, reason) for r, s, reason, _o in rows(instance)}
    assert session.get(status_url, timeout=5).json()["ask_desk"] is True
    assert b"handed over to the other workers" in gunicorn.log.read_bytes()


def test_a_database_that_stops_taking_writes_mid_send_still_ends_settled(gunicorn, instance, twilio_server):
    twilio_server.hang(1.5, to=HOST_PHONE)
    lock = sqlite3.connect(instance.folder / "kiosk.db", isolation_level=None)
    session, status_url, _ = start_check_in(gunicorn.url, instance)
    wait_until(lambda: twilio_server.posts(HOST_PHONE), what="the host SMS to be in flight")
    lock.execute("BEGIN IMMEDIATE")  # nobody else can write until it ends
    try:
        health = session.get(f"{gunicorn.url}/healthz", timeout=10)
        assert (health.status_code, health.json()["database"]) == (503, "read-only")
        wait_until(lambda: twilio_server.accepted(HOST_PHONE), what="the host SMS to be accepted")
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    wait_until(lambda: session.get(status_url, timeout=5).json()["final"], what="the SMS to settle", seconds=40)
    assert {(r, s) for r, s, _reason, _o in rows(instance)} == {("host", "sent"), ("visitor", "sent")}
    assert session.get(f"{gunicorn.url}/healthz", timeout=5).json() == {
        "status": "ok", "database": "ok", "sms_backend": "twilio", "overdue": 0}
