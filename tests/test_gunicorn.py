"""The whole walk-in check-in as deployed: gunicorn with two workers, a real SQLite file, the real twilio SDK
talking HTTP to a Twilio-compatible server, and a byte scan of every file and log line it wrote."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

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
                      "visitor_reason": None, "final": True}
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
