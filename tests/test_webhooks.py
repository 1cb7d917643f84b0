"""Twilio webhooks: signed status callbacks move a message forward, inbound replies leave no trace.

Requests are signed as Twilio signs them (RequestValidator.compute_signature) and posted with the Flask test client;
redaction goes through the real twilio SDK to the Twilio-compatible test server (tests/twilio_server.py).
"""

import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from kiosk.db import get_db
from kiosk.messaging import delivery
from kiosk.phone import PhoneNumber
from kiosk.walkin import checkin
from kiosk.walkin.checkin import CheckIn
from tests.helpers import CANARY_NAME, CANARY_PHONE, create_host, pair_tablet, parse_page
from tests.twilio_fixtures import AUTH_TOKEN

PUBLIC_URL = "https://kiosk.example.org"
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"
VISITOR = "+4741234999"
HOST = "+4741234567"
RECEPTION = "+4741000000"  # TEST_CONFIG in conftest.py
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WEBHOOK_SETTINGS = {"PUBLIC_URL": PUBLIC_URL, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}


@pytest.fixture
def app(make_app):
    """An app with the fake SMS backend whose webhooks can check signatures."""
    return make_app(**WEBHOOK_SETTINGS)


@pytest.fixture
def twilio(app):
    """A test client without a kiosk's device cookie, as Twilio calls us."""
    return app.test_client()


@pytest.fixture
def tablet(app):
    """A paired kiosk tablet: its test client and its device id."""
    client = app.test_client()
    device, _ = pair_tablet(app, client)
    return SimpleNamespace(client=client, id=device.id)


@pytest.fixture
def host(db):
    """Kari Ødegård, a host in the directory."""
    return create_host(db, name="Kari Ødegård", phone=HOST)


def sign(params, url, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, params, *, path=STATUS, url=None, token=AUTH_TOKEN, **headers):
    """POST form params with the signature Twilio would send for `url` (our public URL + path by default)."""
    signature = sign(params, url or PUBLIC_URL + path, token)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **headers})


def callback(sid, status, **extra):
    """A status callback's form, with the recipient's number in it as Twilio sends it."""
    return {"MessageSid": sid, "MessageStatus": status, "SmsSid": sid, "SmsStatus": status, "To": CANARY_PHONE,
            "From": "+4759440000", "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", **extra}


def check_in(app, db, host, *, kiosk_id=None, confirm=True):
    """Register a walk-in visit (as the kiosk view does) and wait until its SMS are sent; returns the visit id."""
    with app.test_request_context():
        visit_id = checkin.register(db, CheckIn(CANARY_NAME, PhoneNumber(VISITOR), host, confirm=confirm),
                                    kiosk_id=kiosk_id)
    app.extensions["dispatcher"].drain(timeout=10)
    return visit_id


def message(db, visit_id, recipient):
    [row] = db["messages"].rows_where("visit_id = ? AND recipient = ?", [visit_id, recipient])
    return row


def sid_of(db, visit_id, recipient="host"):
    return message(db, visit_id, recipient)["sid"]


def status_of(db, visit_id, recipient="host"):
    return message(db, visit_id, recipient)["status"]


def set_status(db, visit_id, status, recipient="host"):
    db["messages"].update(message(db, visit_id, recipient)["id"], {"status": status})


def formatted(records):
    return "\n".join(logging.Formatter("%(name)s %(levelname)s %(message)s").format(r) for r in records)


# R11: authenticate first


def test_r11_a_signed_status_callback_is_accepted_and_moves_the_status(app, db, host, twilio):
    visit_id = check_in(app, db, host)

    response = post_signed(twilio, callback(sid_of(db, visit_id), "delivered"))

    assert response.status_code == 204 and response.data == b""
    assert status_of(db, visit_id) == "delivered"


def test_r11_r20_a_signed_callback_needs_no_csrf_token_and_no_kiosk_cookie(app, db, host, twilio):
    visit_id = check_in(app, db, host)

    assert post_signed(twilio, callback(sid_of(db, visit_id), "sent")).status_code == 204


def test_r11_the_signature_is_checked_against_the_public_url_not_the_host_header(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    params = callback(sid_of(db, visit_id), "delivered")

    # Behind a proxy the request arrives on an internal address; the signature is still for the public URL.
    response = twilio.post(STATUS, data=params, base_url="http://10.0.0.5:8000",
                           headers={"X-Twilio-Signature": sign(params, PUBLIC_URL + STATUS)})

    assert response.status_code == 204


def altered_param(params):
    return {"data": {**params, "MessageStatus": "undelivered"},
            "headers": {"X-Twilio-Signature": sign(params, PUBLIC_URL + STATUS)}}


def missing_header(params):
    return {"data": params}


def wrong_token(params):
    return {"data": params, "headers": {"X-Twilio-Signature": sign(params, PUBLIC_URL + STATUS, "not-the-token")}}


def http_instead_of_https(params):
    return {"data": params, "headers": {"X-Twilio-Signature": sign(params, "http://kiosk.example.org" + STATUS)}}


def another_host(params):
    # What a check built from the Host header would accept: the URL the attacker called.
    return {"data": params, "base_url": "https://evil.example.com",
            "headers": {"X-Twilio-Signature": sign(params, "https://evil.example.com" + STATUS)}}


def empty_signature(params):
    return {"data": params, "headers": {"X-Twilio-Signature": ""}}


@pytest.mark.parametrize("forge", [altered_param, missing_header, wrong_token, http_instead_of_https, another_host,
                                   empty_signature])
def test_r11_a_callback_without_a_valid_signature_is_refused_with_403_and_changes_nothing(app, db, host, twilio,
                                                                                         forge):
    visit_id = check_in(app, db, host)

    response = twilio.post(STATUS, **forge(callback(sid_of(db, visit_id), "delivered")))

    assert response.status_code == 403
    assert status_of(db, visit_id) == "sent"


def test_r11_r31_a_refused_callback_is_logged_with_path_and_address_only(app, db, host, twilio, log_records):
    visit_id = check_in(app, db, host)
    log_records.clear()

    twilio.post(STATUS, data=callback(sid_of(db, visit_id), "delivered", Body=CANARY_NAME),
                environ_base={"REMOTE_ADDR": "203.0.113.9"})

    [record] = [r for r in log_records if r.name == "kiosk.webhooks"]
    assert record.levelno == logging.WARNING
    assert STATUS in record.getMessage() and "203.0.113.9" in record.getMessage()
    assert CANARY_PHONE not in formatted(log_records) and "Kanarifugl" not in formatted(log_records)


@pytest.mark.parametrize("missing", ["PUBLIC_URL", "TWILIO_AUTH_TOKEN"])
@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_r11_webhooks_answer_403_when_signatures_cannot_be_checked(make_app, missing, path):
    app = make_app(**{**WEBHOOK_SETTINGS, missing: None})

    response = post_signed(app.test_client(), callback("SM" + "1" * 32, "delivered"), path=path)

    assert response.status_code == 403


def test_r11_the_inbound_webhook_refuses_an_unsigned_reply(twilio):
    assert twilio.post(INBOUND, data={"From": CANARY_PHONE, "Body": "STOP"}).status_code == 403


# Required fields


@pytest.mark.parametrize("params, errors", [
    ({}, ["MessageSid is required.", "MessageStatus is required."]),
    ({"MessageStatus": "delivered"}, ["MessageSid is required."]),
    ({"MessageSid": "SM" + "1" * 32}, ["MessageStatus is required."]),
    ({"MessageSid": "", "MessageStatus": "delivered"}, ["MessageSid is required."]),
])
def test_a_callback_without_message_sid_or_status_is_answered_400_listing_what_is_missing(twilio, params, errors):
    response = post_signed(twilio, params)

    assert response.status_code == 400
    assert response.get_json() == {"errors": errors}


# R13: replays and duplicates are harmless, status only moves forward


def test_r13_the_same_callback_twice_changes_the_status_once(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    params = callback(sid_of(db, visit_id), "delivered")
    post_signed(twilio, params)
    set_status(db, visit_id, "sent")  # so that only the dedupe, not the forward-only rule, can stop a change

    assert post_signed(twilio, params).status_code == 204
    assert status_of(db, visit_id) == "sent"


def test_r13_a_retry_with_the_same_idempotency_token_changes_nothing(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    post_signed(twilio, callback(sid_of(db, visit_id), "sent"), **{"I-Twilio-Idempotency-Token": "token-1"})

    response = post_signed(twilio, callback(sid_of(db, visit_id), "delivered"),
                           **{"I-Twilio-Idempotency-Token": "token-1"})

    assert response.status_code == 204
    assert status_of(db, visit_id) == "sent"


def test_r13_a_new_idempotency_token_for_the_same_status_is_news(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    params = callback(sid_of(db, visit_id), "delivered")
    post_signed(twilio, params, **{"I-Twilio-Idempotency-Token": "token-1"})
    set_status(db, visit_id, "sent")

    post_signed(twilio, params, **{"I-Twilio-Idempotency-Token": "token-2"})

    assert status_of(db, visit_id) == "delivered"


def test_r13_sent_after_delivered_is_ignored(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    post_signed(twilio, callback(sid_of(db, visit_id), "delivered"))

    assert post_signed(twilio, callback(sid_of(db, visit_id), "sent")).status_code == 204
    assert status_of(db, visit_id) == "delivered"


@pytest.mark.parametrize("first, then", [
    ("delivered", "undelivered"), ("delivered", "failed"), ("undelivered", "delivered"), ("undelivered", "read"),
    ("failed", "delivered"), ("failed", "undelivered"), ("delivered", "sending"), ("undelivered", "queued"),
])
def test_r13_a_final_status_is_never_overwritten(app, db, host, twilio, first, then):
    visit_id = check_in(app, db, host)
    post_signed(twilio, callback(sid_of(db, visit_id), first, ErrorCode="30003"))

    post_signed(twilio, callback(sid_of(db, visit_id), then, ErrorCode="30005"))

    assert (status_of(db, visit_id), message(db, visit_id, "host")["error_code"]) == (first, 30003)


@pytest.mark.parametrize("twilio_status, ours", [
    ("queued", "sent"), ("accepted", "sent"), ("sending", "sent"), ("sent", "sent"),
    ("delivered", "delivered"), ("read", "delivered"), ("undelivered", "undelivered"), ("failed", "failed"),
    ("canceled", "failed"), ("receiving", "sent"), ("no-such-status", "sent"),
])
def test_twilio_statuses_map_onto_ours_and_never_move_a_sent_message_back(app, db, host, twilio, twilio_status,
                                                                           ours):
    visit_id = check_in(app, db, host)

    assert post_signed(twilio, callback(sid_of(db, visit_id), twilio_status)).status_code == 204
    assert status_of(db, visit_id) == ours


def test_a_status_moves_from_sending_through_sent_to_delivered(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    set_status(db, visit_id, "sending")
    sid = sid_of(db, visit_id)

    seen = []
    for twilio_status in ("queued", "sent", "queued", "delivered"):
        post_signed(twilio, callback(sid, twilio_status))
        seen.append(status_of(db, visit_id))

    assert seen == ["sending", "sent", "sent", "delivered"]


@pytest.mark.parametrize("raw, stored", [("30003", 30003), ("", None), ("0", None), ("abc", None), ("٣", None)])
def test_the_error_code_twilio_gives_is_recorded(app, db, host, twilio, raw, stored):
    visit_id = check_in(app, db, host)

    post_signed(twilio, callback(sid_of(db, visit_id), "undelivered", ErrorCode=raw))

    assert message(db, visit_id, "host")["error_code"] == stored


def test_r13_a_callback_for_an_unknown_sid_is_answered_and_changes_nothing(app, db, host, twilio):
    check_in(app, db, host)
    before = list(db["messages"].rows)

    response = post_signed(twilio, callback("SM" + "f" * 32, "undelivered"))

    assert response.status_code == 204  # a 2xx, so Twilio does not retry
    assert list(db["messages"].rows) == before
    assert len(app.extensions["sms"].outbox) == 2  # the host's and the visitor's, nothing for reception


# What the kiosk shows


def test_delivered_and_undelivered_are_in_the_visit_status_json(app, db, host, twilio, tablet):
    visit_id = check_in(app, db, host, kiosk_id=tablet.id)
    post_signed(twilio, callback(sid_of(db, visit_id), "delivered"))
    post_signed(twilio, callback(sid_of(db, visit_id, "visitor"), "undelivered", ErrorCode="30005"))

    status = tablet.client.get(f"/kiosk/visits/{visit_id}/status").get_json()

    assert status == {"host": "delivered", "visitor": "undelivered", "reception": None, "ask_desk": False,
                      "reason": None, "visitor_reason": None, "final": True, "coming": None}


def test_the_status_page_says_in_plain_words_what_was_delivered(app, db, host, twilio, tablet):
    visit_id = check_in(app, db, host, kiosk_id=tablet.id)
    post_signed(twilio, callback(sid_of(db, visit_id), "delivered"))
    post_signed(twilio, callback(sid_of(db, visit_id, "visitor"), "delivered"))

    page = parse_page(tablet.client.get(f"/kiosk/visits/{visit_id}"))

    def shown(recipient):
        item = page.select_one(f"li[data-recipient={recipient}]")
        return item.select_one(f".state[data-when={item['data-state']}]").text.strip()

    assert shown("host") == "Kari Ødegård's phone has received the message."
    assert shown("visitor") == "Your confirmation has arrived on your phone."


def test_the_status_page_says_when_the_hosts_message_was_not_delivered(app, db, host, twilio, tablet):
    visit_id = check_in(app, db, host, kiosk_id=tablet.id)
    post_signed(twilio, callback(sid_of(db, visit_id), "undelivered"))

    page = parse_page(tablet.client.get(f"/kiosk/visits/{visit_id}"))

    item = page.select_one("li[data-recipient=host]")
    assert item["data-state"] == "undelivered"
    assert item.select_one(".state[data-when=undelivered]").text.strip() == (
        "The message to Kari Ødegård could not be delivered.")
    assert page.select_one("#visit-status")["data-ask-desk"] == "true"


# R18: an undelivered host SMS tells reception, once


@pytest.mark.parametrize("twilio_status", ["undelivered", "failed"])
def test_r18_an_undelivered_host_sms_texts_reception_exactly_once(app, db, host, twilio, tablet, twilio_status):
    visit_id = check_in(app, db, host, kiosk_id=tablet.id)
    sid = sid_of(db, visit_id)

    post_signed(twilio, callback(sid, twilio_status, ErrorCode="30003"))
    post_signed(twilio, callback(sid, twilio_status, ErrorCode="30003"), **{"I-Twilio-Idempotency-Token": "again"})
    post_signed(twilio, callback(sid, "undelivered" if twilio_status == "failed" else "failed"))
    app.extensions["dispatcher"].drain(timeout=10)

    to_reception = [sms for sms in app.extensions["sms"].outbox if sms.to == RECEPTION]
    assert [sms.body for sms in to_reception] == [
        "A visitor at reception for Kari Ødegård could not be announced: the SMS to Kari was not delivered. "
        "Please help them."]
    status = tablet.client.get(f"/kiosk/visits/{visit_id}/status").get_json()
    assert (status["host"], status["reception"], status["ask_desk"], status["final"]) == (
        twilio_status, "sent", True, True)


def test_r18_an_undelivered_visitor_sms_does_not_text_reception(app, db, host, twilio):
    visit_id = check_in(app, db, host)

    post_signed(twilio, callback(sid_of(db, visit_id, "visitor"), "undelivered"))
    app.extensions["dispatcher"].drain(timeout=10)

    assert [sms.to for sms in app.extensions["sms"].outbox].count(RECEPTION) == 0


def test_r18_an_hour_after_the_visit_reception_is_no_longer_texted(app, db, host, twilio):
    visit_id = check_in(app, db, host)
    db["visits"].update(visit_id, {"created_at": "2020-01-01T08:00:00+00:00"})

    post_signed(twilio, callback(sid_of(db, visit_id), "undelivered"))
    app.extensions["dispatcher"].drain(timeout=10)

    assert RECEPTION not in [sms.to for sms in app.extensions["sms"].outbox]


def test_r18_without_a_reception_phone_an_undelivered_host_sms_still_asks_for_the_desk(make_app):
    app = make_app(**WEBHOOK_SETTINGS, RECEPTION_PHONE=None)
    with app.app_context():
        db = get_db()
        visit_id = check_in(app, db, create_host(db), confirm=False)
        post_signed(app.test_client(), callback(sid_of(db, visit_id), "undelivered"))
        visit = checkin.get_visit_status(db, visit_id, kiosk_id=None)

    assert (visit.host, visit.reception, visit.ask_desk, visit.final) == ("undelivered", None, True, True)
    assert [sms.to for sms in app.extensions["sms"].outbox] == [HOST]


# R14 and R19: redaction at Twilio, off the request thread


@pytest.fixture
def redacting_app(monkeypatch, make_twilio_app):
    """An app whose SMS go through the real SDK to twilio_server, redacting bodies once final."""
    # monkeypatch comes first, so it is undone only after the app's dispatcher has drained.
    monkeypatch.setattr(delivery, "REDACT_RETRY_SECONDS", 0.05)
    return make_twilio_app(**WEBHOOK_SETTINGS, TWILIO_REDACT=True)


def drained(app):
    assert app.extensions["dispatcher"].drain(timeout=10)
    return app


def host_sms_called_back(app, status):
    """Check in (no confirmation SMS), post a signed `status` callback for the host SMS and wait until the app has
    acted on it; returns the host SMS's messages row."""
    with app.app_context():
        db = get_db()
        visit_id = check_in(app, db, create_host(db, phone=HOST), confirm=False)
        post_signed(app.test_client(), callback(sid_of(db, visit_id), status))
        drained(app)
        return message(db, visit_id, "host")


def test_r19_a_final_status_redacts_the_message_at_twilio_once_and_notes_when(redacting_app, twilio_server):
    app = redacting_app
    with app.app_context():
        db = get_db()
        visit_id = check_in(app, db, create_host(db, phone=HOST), confirm=False)
        sid = sid_of(db, visit_id)
        client = app.test_client()
        post_signed(client, callback(sid, "sent"))
        assert drained(app) and twilio_server.redactions() == []
        post_signed(client, callback(sid, "delivered"))
        post_signed(client, callback(sid, "delivered"), **{"I-Twilio-Idempotency-Token": "retry"})
        drained(app)
        row = message(db, visit_id, "host")

    assert [r.sid for r in twilio_server.redactions()] == [sid]
    assert twilio_server.messages[sid]["body"] == ""
    assert row["redacted_at"] is not None


def test_r19_nothing_is_redacted_when_redaction_is_off(make_twilio_app, twilio_server):
    row = host_sms_called_back(make_twilio_app(**WEBHOOK_SETTINGS), "delivered")

    assert twilio_server.redactions() == []
    assert row["redacted_at"] is None


@pytest.mark.parametrize("told", ["fail", "hang"])
def test_r19_a_redaction_twilio_cannot_do_yet_is_tried_once_more_later(redacting_app, twilio_server, told):
    if told == "fail":
        twilio_server.fail_redaction(20009)
    else:
        twilio_server.hang_redaction(5)
    row = host_sms_called_back(redacting_app, "undelivered")

    assert len([r for r in twilio_server.requests if r.form == {"Body": ""}]) == 2
    assert len(twilio_server.redactions()) == 1
    assert row["redacted_at"] is not None


def test_r19_a_redaction_twilio_refuses_is_logged_with_its_code_and_not_retried(redacting_app, twilio_server,
                                                                               log_records):
    twilio_server.fail_redaction(20404, times=2)
    row = host_sms_called_back(redacting_app, "delivered")
    sid = row["sid"]

    assert len([r for r in twilio_server.requests if r.form == {"Body": ""}]) == 1
    assert row["redacted_at"] is None
    [error] = [r for r in log_records if r.name == "kiosk.messaging.delivery" and r.levelno == logging.ERROR]
    assert sid in error.getMessage() and "code=20404" in error.getMessage()


def test_r14_the_status_webhook_answers_within_a_second_while_twilio_hangs(redacting_app, twilio_server):
    twilio_server.hang_redaction(5, times=2)
    app = redacting_app
    with app.app_context():
        db = get_db()
        visit_id = check_in(app, db, create_host(db, phone=HOST), confirm=False)
        params = callback(sid_of(db, visit_id), "delivered")
        start = time.monotonic()
        response = post_signed(app.test_client(), params)
        elapsed = time.monotonic() - start

    assert response.status_code == 204
    assert elapsed < 1
    twilio_server.stop()  # end the hang, so the test does not wait for it
    assert drained(app)


# R15: inbound replies


def test_r15_an_inbound_reply_gets_empty_twiml_and_leaves_no_trace(app, twilio, tmp_path, log_records):
    reply = {"MessageSid": "SM" + "2" * 32, "From": CANARY_PHONE, "To": "+4759440000",
             "Body": f"STOP {CANARY_NAME}", "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}

    response = post_signed(twilio, reply, path=INBOUND)
    app.extensions["dispatcher"].drain(timeout=10)

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.data == EMPTY_TWIML
    files = [path for path in Path(tmp_path).rglob("*") if path.is_file()]
    assert not [path for path in files if CANARY_PHONE[3:].encode() in path.read_bytes()
                or b"Kanarifugl" in path.read_bytes()]
    assert CANARY_PHONE[3:] not in formatted(log_records) and "Kanarifugl" not in formatted(log_records)


def test_r31_status_callbacks_log_no_number_or_name(app, db, host, twilio, log_records):
    visit_id = check_in(app, db, host)
    sid = sid_of(db, visit_id)

    for status in ("sent", "undelivered", "delivered"):
        post_signed(twilio, callback(sid, status, Body=CANARY_NAME))
    twilio.post(STATUS, data=callback(sid, "delivered", Body=CANARY_NAME))
    app.extensions["dispatcher"].drain(timeout=10)

    text = formatted(log_records)
    assert CANARY_PHONE[3:] not in text and "Kanarifugl" not in text


# R38: no input yields a 500

FIELDS = st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "To", "From", "Body", "SmsStatus"])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
HEADER = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)  # what HTTP headers can carry


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.one_of(FIELDS, TEXT), st.one_of(TEXT, st.sampled_from(list(delivery.STATUSES)))),
       token=st.one_of(st.none(), HEADER))
def test_r38_any_signed_form_to_the_status_webhook_gets_a_204_or_a_400_never_a_500(twilio, params, token):
    headers = {} if token is None else {"I-Twilio-Idempotency-Token": token}

    response = post_signed(twilio, params, **headers)

    assert response.status_code in (204, 400)
