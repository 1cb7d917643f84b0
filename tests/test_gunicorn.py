"""The whole walk-in check-in as deployed: gunicorn with two workers, a real SQLite file, the real twilio SDK
talking HTTP to a Twilio-compatible server, and a byte scan of every file and log line it wrote."""

import os
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests

from tests.deployment import (
    HOST_PHONE,
    RECEPTION,
    Gunicorn,
    gunicorn_env,
    make_instance,
    post_form,
    start_check_in,
    tablet_session,
    wait_until,
)
from tests.helpers import CANARY_NAME, CANARY_PHONE, CANARY_PHONE_TYPED
from tests.twilio_fixtures import SENDER

PUBLIC_URL = "https://kiosk.example.org"
CANARIES = [b"Kanarifugl", CANARY_PHONE.encode(), CANARY_PHONE[3:].encode(), CANARY_PHONE_TYPED.encode()]


@pytest.fixture
def instance(tmp_path):
    """An instance folder with a database holding one host and one paired tablet: .folder, .host_id, .credential."""
    return make_instance(tmp_path / "instance")


@pytest.fixture
def gunicorn(instance, twilio_server, tmp_path):
    """The app under gunicorn, configured for the twilio backend pointed at twilio_server."""
    server = Gunicorn(gunicorn_env(instance, twilio_server.url), tmp_path / "gunicorn.log")
    yield server
    server.stop()


def check_in(url, instance, *, name=CANARY_NAME, phone=CANARY_PHONE_TYPED):
    """Fill and send the kiosk form like a browser; returns the settled status JSON, the status page URL and
    how long the POST took."""
    session, status_url, elapsed = start_check_in(url, instance, name=name, phone=phone)
    wait_until(lambda: session.get(status_url, timeout=5).json()["final"], what="the SMS to settle")
    return session.get(status_url, timeout=5).json(), status_url.removeprefix(url).removesuffix("/status"), elapsed


def scan(paths):
    return [(path.name, canary) for path in paths for canary in CANARIES if canary in path.read_bytes()]


def test_check_in_under_gunicorn_texts_host_and_visitor_through_the_twilio_api(gunicorn, instance, twilio_server):
    status, location, elapsed = check_in(gunicorn.url, instance)
    assert status == {"host": "sent", "visitor": "sent", "reception": None, "ask_desk": False, "reason": None,
                      "visitor_reason": None, "final": True, "coming": None}
    host_sms, visitor_sms = twilio_server.accepted(HOST_PHONE), twilio_server.accepted(CANARY_PHONE)
    assert [r.form["Body"] for r in host_sms] == [f"{CANARY_NAME} has arrived at reception and is waiting for you."]
    assert [r.form["Body"] for r in visitor_sms] == [
        "Welcome to Velkommen, Kari. Kari Ødegård has been told you are here."]
    assert {r.form["From"] for r in host_sms + visitor_sms} == {SENDER}
    assert "Kanarifugl" not in location and "9999" not in location
    assert elapsed < 2


def test_unreachable_host_under_gunicorn_reaches_reception(gunicorn, instance, twilio_server):
    twilio_server.fail(21211, to=HOST_PHONE)
    status, _, _ = check_in(gunicorn.url, instance)
    assert (status["host"], status["reception"], status["ask_desk"]) == ("failed", "sent", True)
    assert len(twilio_server.posts(HOST_PHONE)) == 1
    assert len(twilio_server.accepted(RECEPTION)) == 1


def test_r18_check_in_answers_at_once_while_twilio_hangs(gunicorn, instance, twilio_server):
    twilio_server.hang(10, times=2)  # two timeouts of 2 s: the third try is still inside the 5-second window
    status, _, elapsed = check_in(gunicorn.url, instance)
    assert elapsed < 2
    assert (status["host"], status["visitor"]) == ("sent", "sent")
    assert len(twilio_server.accepted(HOST_PHONE)) == 1 and len(twilio_server.accepted(CANARY_PHONE)) == 1


@pytest.fixture
def one_connection_per_worker(monkeypatch):
    """Make each gunicorn worker take one connection at a time, so concurrent requests reach both workers
    (otherwise the first worker to wake accepts them all). Request it before `gunicorn`."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--threads 1 --worker-connections 1")


def test_r4_r7_the_per_number_limit_holds_across_both_workers(one_connection_per_worker, gunicorn, instance,
                                                              twilio_server):
    # Four sessions of the tablet post at once; both workers serve them and race on the same counter.
    sessions = [tablet_session(instance) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda session: post_form(session, gunicorn.url, name=CANARY_NAME,
                                                            phone=CANARY_PHONE_TYPED, host_id=instance.host_id),
                                  sessions))
    assert sorted(r.status_code for r in responses) == [302, 302, 302, 429]
    wait_until(lambda: len(twilio_server.accepted(HOST_PHONE)) == 3, what="the host SMS")
    wait_until(lambda: len(twilio_server.accepted(CANARY_PHONE)) == 3, what="the visitor SMS")
    assert len(twilio_server.posts(CANARY_PHONE)) == 3


def test_r33_r31_nothing_the_deployment_wrote_holds_a_canary(gunicorn, instance, twilio_server):
    # An open reader keeps SQLite from folding the WAL into the database when the workers' connections close.
    reader = sqlite3.connect(instance.folder / "kiosk.db")
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    check_in(gunicorn.url, instance)
    twilio_server.fail(30003, to=HOST_PHONE, times=3)  # retries, a failure and the reception fallback log too
    check_in(gunicorn.url, instance)
    refused = post_form(tablet_session(instance), gunicorn.url, name=CANARY_NAME, phone="22 12 34 56", host_id="")
    assert refused.status_code == 422
    written = [path for path in instance.folder.rglob("*") if path.is_file()]
    assert {"kiosk.db", "kiosk.db-wal"} <= {path.name for path in written}
    assert scan(written) == []
    log = gunicorn.stop()
    assert b"accepted by twilio" in log and b"+47 9** ** *99" in log, "the scan must see the SMS log lines"
    assert [canary for canary in CANARIES if canary in log] == []
    assert scan([path for path in instance.folder.rglob("*") if path.is_file()]) == []
    reader.close()


@pytest.fixture
def replying_gunicorn(instance, twilio_server, tmp_path):
    """gunicorn with host replies on: KIOSK_PUBLIC_URL is the address Twilio calls (a proxy forwards it to gunicorn),
    and the sender number's incoming-message webhook points there, as in the Twilio console."""
    twilio_server.add_number(SENDER, sms_url=f"{PUBLIC_URL}/webhooks/twilio/inbound")
    server = Gunicorn(gunicorn_env(instance, twilio_server.url, PUBLIC_URL=PUBLIC_URL), tmp_path / "gunicorn.log")
    yield server
    server.stop()


@contextmanager
def paused(pid, server):
    """SIGSTOP a worker: until SIGCONT, every new connection is accepted by the other one. A worker stopped in the
    middle of a write (its first request's purge, say) would hold SQLite's lock and keep the other from writing: then
    it is let go and stopped again a moment later, until the other worker's /healthz (a small write) answers."""
    for _ in range(10):
        os.kill(pid, signal.SIGSTOP)
        try:
            if requests.get(f"{server.url}/healthz", timeout=3).ok:
                break
        except requests.RequestException:
            pass
        os.kill(pid, signal.SIGCONT)
        time.sleep(1)
    else:
        raise AssertionError("the other worker never answered alone")
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_host_reply_reaches_the_other_worker_and_the_tablet_says_on_the_way(replying_gunicorn, instance,
                                                                              twilio_server):
    first, second = replying_gunicorn.workers()
    with paused(first, replying_gunicorn):  # the check-in and its SMS are the second worker's
        session, status_url, _ = start_check_in(replying_gunicorn.url, instance)
        wait_until(lambda: session.get(status_url, timeout=5).json()["final"], what="the SMS to settle")
    [host_sms] = [r.form["Body"] for r in twilio_server.accepted(HOST_PHONE)]
    assert host_sms.endswith(" Reply OK when you are on your way, or a number of minutes.")
    with paused(second, replying_gunicorn):  # the reply, and the tablet's next poll, reach the first worker
        response = twilio_server.send_reply(from_=HOST_PHONE, body="Kommer, 5 min", to=SENDER,
                                            deliver_to=replying_gunicorn.url)
        assert (response.status_code, response.headers["Content-Type"]) == (200, "text/xml; charset=utf-8")
        status = tablet_session(instance).get(status_url, timeout=5).json()  # a new connection: kept-alive ones wait
    assert status["coming"] == "Kari Ødegård is on the way (about 5 minutes)."
    board = session.get(f"{replying_gunicorn.url}/kiosk/on-the-way", timeout=5).json()
    assert board == [{"host": "Kari Ø.", "when": "about 5 min"}]
    # Only the second worker sent SMS; the first handled the reply. Neither kept the reply's text.
    log = replying_gunicorn.stop()
    assert b"is on the way to visit" in log and b"Kommer" not in log and HOST_PHONE[3:].encode() not in log
    database = sqlite3.connect(instance.folder / "kiosk.db")
    assert database.execute("SELECT ack_minutes FROM visits").fetchall() == [(5,)]
    assert scan([path for path in instance.folder.rglob("*") if path.is_file()]) == []
