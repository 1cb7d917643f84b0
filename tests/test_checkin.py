import pytest

from kiosk.phone import PhoneNumber
from kiosk.sms import SentSms
from kiosk.walkin import checkin
from kiosk.walkin.checkin import CheckIn
from tests.helpers import checkin_data, create_host, get_page

# These tests call the app's functions directly: an app context is held for each.
pytestmark = pytest.mark.usefixtures("ctx")

VISITOR = "+4741234999"
HOST = "+4741234567"
RECEPTION = "+4741000000"


@pytest.fixture
def host(db):
    """Kari Ødegård, a host in the directory."""
    return create_host(db, name="Kari Ødegård", phone=HOST, language="en")


def check_in(app, db, host, *, confirm=True, name="Ragnhild Berg"):
    """Register a walk-in visit and wait until its SMS are settled."""
    with app.test_request_context():
        visit_id = checkin.register(db, CheckIn(name=name, phone=PhoneNumber(VISITOR), host=host, confirm=confirm))
    app.extensions["dispatcher"].drain(timeout=10)
    return visit_id


def status(db, visit_id):
    return checkin.get_visit_status(db, visit_id, kiosk_id=None)


def test_host_and_visitor_get_the_texts_from_the_issue(app, db, host, sms_outbox):
    check_in(app, db, host)
    assert sorted(sms_outbox, key=lambda sms: sms.to) == [
        SentSms(HOST, "Ragnhild Berg has arrived at reception and is waiting for you."),
        SentSms(VISITOR, "Welcome to Velkommen, Ragnhild. Kari Ødegård has been told you are here."),
    ]


def test_company_name_comes_from_the_setting(make_app, sms):
    app = make_app(COMPANY_NAME="Fjordkraft")
    with app.app_context():
        from kiosk.db import get_db
        host = create_host(get_db())
        check_in(app, get_db(), host)
    assert any(sms.body.startswith("Welcome to Fjordkraft, Ragnhild.") for sms in app.extensions["sms"].outbox)


def test_r35_unticked_confirmation_texts_only_the_host(app, db, host, sms_outbox):
    visit_id = check_in(app, db, host, confirm=False)
    assert [sms.to for sms in sms_outbox] == [HOST]
    assert status(db, visit_id).visitor is None
    assert status(db, visit_id).final


def test_visit_status_is_sent_for_both_once_accepted(app, db, host):
    visit = status(db, check_in(app, db, host))
    assert (visit.host, visit.visitor, visit.reception, visit.ask_desk, visit.final) == (
        "sent", "sent", None, False, True)


def test_visitor_who_does_not_know_the_host_reaches_reception(app, db, sms_outbox):
    visit_id = check_in(app, db, None)
    assert sorted(sms_outbox, key=lambda sms: sms.to) == [
        SentSms(RECEPTION, "Ragnhild Berg is at reception and does not know whom to ask for. Please help them."),
        SentSms(VISITOR, "Welcome to Velkommen, Ragnhild. Reception has been told you are here."),
    ]
    assert status(db, visit_id).host == "sent"


def test_host_sms_failing_for_good_tells_reception_and_the_visitor_to_go_to_the_desk(app, db, host, sms):
    sms.fail(to=HOST, code=21211)
    visit = status(db, check_in(app, db, host))
    assert [s.to for s in sms.outbox if s.to == RECEPTION] == [RECEPTION]
    assert "Kari Ødegård, who could not be reached by SMS" in next(s.body for s in sms.outbox if s.to == RECEPTION)
    assert (visit.host, visit.reception, visit.ask_desk, visit.final) == ("failed", "sent", True, True)


def test_without_a_reception_phone_a_failed_host_sms_still_asks_for_the_desk(make_app):
    app = make_app(RECEPTION_PHONE=None)
    app.extensions["sms"].fail(code=21610)
    with app.app_context():
        from kiosk.db import get_db
        db = get_db()
        visit = status(db, check_in(app, db, create_host(db), confirm=False))
    assert (visit.host, visit.reception, visit.ask_desk, visit.final) == ("failed", None, True, True)
    assert app.extensions["sms"].outbox == []


def test_status_stays_sending_while_a_retry_is_pending(app, db, host, sms):
    app.config.update(SMS_RETRY_BASE_SECONDS=0.5, SMS_RETRY_MAX_SECONDS=0.5)
    sms.fail(to=HOST, code=None, status=503)
    with app.test_request_context():
        visit_id = checkin.register(db, CheckIn("Ragnhild Berg", PhoneNumber(VISITOR), host, confirm=False))
    app.extensions["dispatcher"].drain(timeout=0.2)
    assert status(db, visit_id).host == "sending"
    assert not status(db, visit_id).final
    app.extensions["dispatcher"].drain(timeout=5)
    assert status(db, visit_id).host == "sent"


@pytest.mark.parametrize("code, status_code, attempts, final", [
    (21211, 400, 1, "failed"),
    (21408, 400, 1, "failed"),
    (21610, 400, 1, "failed"),
    (21614, 400, 1, "failed"),
    (30005, 400, 1, "failed"),
    (30006, 400, 1, "failed"),
    (30007, 400, 1, "failed"),
    (30003, 400, 2, "sent"),
    (20429, 429, 2, "sent"),
    (None, 500, 2, "sent"),
    (None, None, 2, "sent"),  # timeout or connection refused
])
def test_r16_each_error_class_gets_its_retry_policy(app, db, host, sms, code, status_code, attempts, final):
    sms.fail(to=HOST, code=code, status=status_code)
    visit_id = check_in(app, db, host, confirm=False)
    assert len([a for a in sms.attempts if a.to == HOST]) == attempts
    assert status(db, visit_id).host == final


def test_r16_transient_errors_stop_when_the_retry_window_closes(make_app):
    app = make_app(SMS_RETRY_WINDOW_SECONDS=0.3, RECEPTION_PHONE=None)
    app.extensions["sms"].fail(status=503, times=1000)
    with app.app_context():
        from kiosk.db import get_db
        db = get_db()
        visit = status(db, check_in(app, db, create_host(db), confirm=False))
    assert visit.host == "failed"
    assert 2 <= len(app.extensions["sms"].attempts) < 50


def test_visit_record_holds_no_name_and_no_phone(app, db, host):
    visit_id = check_in(app, db, host)
    row = db["visits"].get(visit_id)
    assert set(row) == {"id", "host_id", "kiosk_id", "created_at", "expires_at", "reply_asked", "escalate_at",
                        "acknowledged_at", "ack_minutes", "location_id"}
    assert row["host_id"] == host.id
    messages = list(db["messages"].rows_where("visit_id = ?", [visit_id]))
    assert {m["recipient"] for m in messages} == {"host", "visitor"}
    assert all(m["sid"].startswith("SM") for m in messages)


def test_r9_a_host_phone_in_the_post_is_ignored(client, db, host, app, sms_outbox):
    page = get_page(client, "/kiosk/checkin")
    client.post("/kiosk/checkin", data=checkin_data(page, host_id=host.id, host_phone="+4798765432",
                                                    phone="412 34 999"))
    app.extensions["dispatcher"].drain(timeout=5)
    assert {sms.to for sms in sms_outbox} == {HOST, VISITOR}


def test_expired_visits_are_not_shown_and_purge_deletes_them(app, db, host, runner):
    from freezegun import freeze_time
    visit_id = check_in(app, db, host)
    with freeze_time("2100-01-01"):
        assert status(db, visit_id) is None
        result = runner.invoke(args=["purge"])
    assert "Deleted 1 expired visit records." in result.output
    assert db["visits"].count == 0 and db["messages"].count == 0


def test_r18_a_message_that_waited_past_the_retry_window_is_not_sent_late(app, db, host, sms):
    from time import monotonic

    from kiosk.messaging import notify
    db["visits"].insert({"id": "visit-1", "host_id": host.id, "created_at": "2026", "expires_at": "2100"})
    with app.app_context():
        message_id = notify.create_message(db, "visit-1", "host")
        late = notify.OutgoingSms("visit-1", "host", HOST, "body", message_id, queued_at=monotonic() - 3)
        assert notify.send_with_retries(late) is False
    assert sms.attempts == []
    assert db["messages"].get(message_id)["status"] == "failed"
