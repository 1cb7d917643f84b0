"""The twilio backend: the real twilio SDK over real HTTP to a Twilio-compatible test server (STYLE.md 15)."""

import logging
import threading
import time
import traceback

import pytest
from twilio.base.exceptions import TwilioRestException

from kiosk.db import get_db
from kiosk.messaging import notify
from kiosk.sms import SmsSendError
from kiosk.sms.twilio import TwilioSmsClient
from tests.helpers import (
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_PHONE_TYPED,
    checkin_data,
    create_host,
    get_page,
    tablet_client,
)
from tests.twilio_fixtures import ACCOUNT_SID, MESSAGING_SERVICE_SID, SENDER

HOST_PHONE = "+4741234567"
RECEPTION_PHONE = "+4741000000"  # TEST_CONFIG in conftest.py
BODY = f"{CANARY_NAME} has arrived at reception and is waiting for you."
PERMANENT_CODES = [21211, 21408, 21610, 21614, 30005, 30006, 30007]
# What the server is told to fail with -> the code and HTTP status the SmsSendError carries.
TWILIO_ERRORS = [*[(code, code, 400) for code in [*PERMANENT_CODES, 30003]], (429, 20429, 429), (500, 20500, 500)]


def send(app, to=CANARY_PHONE, body=BODY):
    return app.extensions["sms"].send(to, body, ref="visit/host")


def send_error(app, to=CANARY_PHONE):
    with pytest.raises(SmsSendError) as caught:
        send(app, to)
    return caught.value


def send_with_retries(app, to=CANARY_PHONE):
    """One visitor SMS through notify.send_with_retries; returns whether it was accepted, and its messages row."""
    with app.app_context():
        db = get_db()
        db["visits"].insert({"id": "v1", "created_at": "2025-01-01T08:00:00", "expires_at": "2999-01-01T00:00:00"})
        message_id = notify.create_message(db, "v1", "visitor")
        accepted = notify.send_with_retries(notify.OutgoingSms("v1", "visitor", to, BODY, message_id))
        return accepted, db["messages"].get(message_id)


def check_in(app):
    """Check a visitor (the canary) in over HTTP for a new host; returns the response and how long the POST took."""
    with app.app_context():
        host = create_host(get_db(), phone=HOST_PHONE)
    client = tablet_client(app)
    page = get_page(client, "/kiosk/checkin")
    start = time.monotonic()
    data = checkin_data(page, name=CANARY_NAME, phone=CANARY_PHONE_TYPED, host_id=host.id)
    response = client.post("/kiosk/checkin", data=data)
    return response, time.monotonic() - start


def visit_status(app, response):
    app.extensions["dispatcher"].drain(timeout=10)
    return tablet_client(app).get(response.location + "/status").get_json()


def formatted(record):
    return logging.Formatter("%(name)s %(message)s").format(record)


# What is posted


def test_a_send_posts_to_body_and_from_with_basic_auth_and_returns_the_sid_twilio_gave(twilio_app, twilio_server):
    sid = send(twilio_app)

    [request] = twilio_server.requests  # the server answers 401 unless Basic auth has the SID and token
    assert (request.method, request.account, request.status) == ("POST", ACCOUNT_SID, 201)
    assert request.form == {"To": CANARY_PHONE, "Body": BODY, "From": SENDER}
    assert sid == request.sid and sid.startswith("SM") and len(sid) == 34


def test_a_messaging_service_is_posted_instead_of_from(make_twilio_app, twilio_server):
    app = make_twilio_app(TWILIO_FROM=None, TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)

    send(app)

    [request] = twilio_server.accepted()
    assert request.form == {"To": CANARY_PHONE, "Body": BODY, "MessagingServiceSid": MESSAGING_SERVICE_SID}


@pytest.mark.parametrize("public_url, callback", [
    (None, None),
    ("https://kiosk.example.no", "https://kiosk.example.no/webhooks/twilio/status"),
    ("https://kiosk.example.no/", "https://kiosk.example.no/webhooks/twilio/status"),
])
def test_the_status_callback_is_posted_only_when_public_url_is_set(make_twilio_app, twilio_server, public_url,
                                                                   callback):
    send(make_twilio_app(PUBLIC_URL=public_url))

    assert twilio_server.accepted()[0].form.get("StatusCallback") == callback


@pytest.mark.parametrize("variable, value", [("TWILIO_EDGE", "dublin"), ("TWILIO_REGION", "ie1")])
def test_the_api_url_setting_wins_over_the_sdks_own_edge_and_region_variables(make_twilio_app, twilio_server,
                                                                               monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)  # read by the twilio SDK itself, not by our config

    send(make_twilio_app())

    assert len(twilio_server.accepted()) == 1


def test_a_wrong_auth_token_is_refused_with_twilio_code_20003(make_twilio_app, twilio_server):
    error = send_error(make_twilio_app(TWILIO_AUTH_TOKEN="not-the-token"))

    assert (error.code, error.status, error.permanent) == (20003, 401, True)


# How failures come back


@pytest.mark.parametrize("told, code, status", TWILIO_ERRORS)
def test_each_twilio_error_becomes_one_sms_send_error_with_code_and_status(twilio_app, twilio_server, told, code,
                                                                           status):
    twilio_server.fail(told)

    error = send_error(twilio_app)

    assert (error.code, error.status) == (code, status)
    assert len(twilio_server.posts()) == 1


@pytest.mark.parametrize("code", [21211, 21408, 21614])
def test_a_twilio_error_that_quotes_the_number_leaves_it_out_of_the_sms_send_error(twilio_app, twilio_server, code):
    twilio_server.fail(code)

    error = send_error(twilio_app)

    assert CANARY_PHONE in error.__context__.msg  # Twilio quoted it...
    assert CANARY_PHONE not in str(error) and CANARY_PHONE not in repr(error)  # ...we did not,
    assert CANARY_PHONE not in "".join(traceback.format_exception(error))  # ...nor does a printed traceback


@pytest.mark.parametrize("status", [500, 503])
def test_a_bare_server_error_without_json_becomes_a_transient_sms_send_error(twilio_app, twilio_server, status):
    twilio_server.fail_plain(status)

    error = send_error(twilio_app)

    # Without a JSON body the SDK uses the HTTP status as the code.
    assert (error.status, error.code, error.transient) == (status, status, True)


def test_a_refused_connection_becomes_an_sms_send_error_without_code_or_status(twilio_app, twilio_server):
    twilio_server.stop()

    error = send_error(twilio_app)

    assert (error.code, error.status, error.transient) == (None, None, True)


def test_r17_a_hanging_server_is_abandoned_after_the_timeout(twilio_app, twilio_server):
    twilio_server.hang(30)

    start = time.monotonic()
    error = send_error(twilio_app)

    assert 0.9 < time.monotonic() - start < 3
    assert (error.code, error.status, error.transient) == (None, None, True)
    assert "in time" in str(error)


def test_r17_the_client_always_has_a_timeout(twilio_app):
    assert twilio_app.extensions["sms"].client.http_client.timeout == 1
    assert TwilioSmsClient(account_sid=ACCOUNT_SID, auth_token="t", sender=SENDER).client.http_client.timeout == 10


def test_the_test_server_stops_at_once_while_a_request_hangs(make_twilio_app, twilio_server):
    app = make_twilio_app(SMS_TIMEOUT_SECONDS=30)
    twilio_server.hang(30)
    sender = threading.Thread(target=send_error, args=(app,))
    sender.start()
    while not twilio_server.posts():
        time.sleep(0.01)

    start = time.monotonic()
    twilio_server.stop()
    sender.join(timeout=5)

    assert time.monotonic() - start < 1 and not sender.is_alive()


def test_deleting_a_message_through_the_sdk_is_answered_204_and_recorded(twilio_app, twilio_server):
    sid = send(twilio_app)

    assert twilio_app.extensions["sms"].client.messages(sid).delete() is True
    assert [(r.method, r.sid, r.status) for r in twilio_server.requests][-1] == ("DELETE", sid, 204)


def test_any_other_request_is_answered_404_with_twilio_code_20404(twilio_app, twilio_server):
    with pytest.raises(TwilioRestException) as caught:
        twilio_app.extensions["sms"].client.messages("SM" + "0" * 32).fetch()

    assert (caught.value.status, caught.value.code) == (404, 20404)


# Retries (SECURITY.md R16), through notify.send_with_retries


@pytest.mark.parametrize("code", PERMANENT_CODES)
def test_r16_a_permanent_error_is_sent_once_and_marked_failed(twilio_app, twilio_server, code):
    twilio_server.fail(code, times=5)

    accepted, row = send_with_retries(twilio_app)

    assert not accepted
    assert (len(twilio_server.posts()), row["status"], row["attempts"], row["error_code"]) == (1, "failed", 1, code)


@pytest.mark.parametrize("failures, requests, status", [(1, 2, "sent"), (2, 2, "failed"), (5, 2, "failed")])
def test_r16_an_unreachable_handset_30003_gets_one_delayed_retry(twilio_app, twilio_server, failures, requests,
                                                                 status):
    twilio_server.fail(30003, times=failures)

    accepted, row = send_with_retries(twilio_app)

    assert (len(twilio_server.posts()), row["status"], accepted) == (requests, status, status == "sent")


TRANSIENT = {
    "429 20429": lambda server, times: server.fail(429, times=times),
    "500 20500": lambda server, times: server.fail(500, times=times),
    "bare 503": lambda server, times: server.fail_plain(503, times=times),
    "timeout": lambda server, times: server.hang(30, times=times),
}


@pytest.mark.parametrize("outage", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_r16_a_transient_failure_is_retried_until_it_succeeds(make_twilio_app, twilio_server, outage):
    app = make_twilio_app(SMS_TIMEOUT_SECONDS=0.2)
    outage(twilio_server, 2)

    accepted, row = send_with_retries(app)

    [message] = twilio_server.accepted()
    assert accepted and len(twilio_server.posts()) == 3
    assert (row["status"], row["attempts"], row["sid"]) == ("sent", 3, message.sid)


@pytest.mark.parametrize("outage", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_r16_a_transient_failure_that_lasts_is_marked_failed_when_the_retry_window_closes(make_twilio_app,
                                                                                        twilio_server, outage):
    app = make_twilio_app(SMS_TIMEOUT_SECONDS=0.2, SMS_RETRY_WINDOW_SECONDS=0.6)
    outage(twilio_server, 1000)

    start = time.monotonic()
    accepted, row = send_with_retries(app)

    assert not accepted and row["status"] == "failed"
    assert len(twilio_server.posts()) >= 3 and not twilio_server.accepted()
    assert time.monotonic() - start < 0.6 + 0.2 + 0.5  # the window, one last attempt, slack


def test_r16_retries_back_off_exponentially_with_jitter_up_to_the_cap(make_twilio_app, twilio_server):
    app = make_twilio_app(SMS_RETRY_BASE_SECONDS=0.05, SMS_RETRY_MAX_SECONDS=0.2)
    twilio_server.fail(500, times=4)

    send_with_retries(app)

    times = [request.at for request in twilio_server.posts()]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    ceilings = [0.05, 0.1, 0.2, 0.2]
    assert len(gaps) == len(ceilings)
    for gap, ceiling in zip(gaps, ceilings, strict=True):
        assert ceiling / 2 <= gap < ceiling + 0.3


# Whole check-ins over HTTP


def test_r2_a_region_not_enabled_21408_is_sent_once_and_raises_an_alert_without_the_number(
    twilio_app, twilio_server, log_records
):
    twilio_server.fail(21408, to=CANARY_PHONE)
    response, _ = check_in(twilio_app)

    assert visit_status(twilio_app, response)["visitor"] == "failed"
    assert len(twilio_server.posts(CANARY_PHONE)) == 1
    alerts = [r for r in log_records if r.levelno >= logging.ERROR and "ALERT" in r.getMessage()]
    assert len(alerts) == 1 and "21408" in alerts[0].getMessage()
    for number in (CANARY_PHONE, HOST_PHONE):
        assert not [formatted(r) for r in log_records if number[3:] in formatted(r)]


def test_r15_an_opted_out_visitor_21610_is_sent_once_and_shown_as_failed(twilio_app, twilio_server):
    twilio_server.fail(21610, to=CANARY_PHONE, times=5)
    response, _ = check_in(twilio_app)

    status = visit_status(twilio_app, response)

    assert (status["visitor"], status["host"], status["ask_desk"]) == ("failed", "sent", False)
    assert len(twilio_server.posts(CANARY_PHONE)) == 1


OUTAGES = {
    "errors": lambda server: server.fail(500, times=6),
    "hang": lambda server: server.hang(30, times=2),
}


@pytest.mark.parametrize("outage", OUTAGES.values(), ids=OUTAGES.keys())
def test_r18_a_provider_outage_does_not_delay_check_in_and_sends_each_sms_once_after_recovery(
    make_twilio_app, twilio_server, outage
):
    app = make_twilio_app(SMS_TIMEOUT_SECONDS=0.5)
    outage(twilio_server)

    response, elapsed = check_in(app)

    assert response.status_code == 302 and elapsed < 2
    status = visit_status(app, response)
    assert (status["host"], status["visitor"], status["ask_desk"]) == ("sent", "sent", False)
    assert [r.form["To"] for r in twilio_server.accepted()].count(HOST_PHONE) == 1
    assert [r.form["To"] for r in twilio_server.accepted()].count(CANARY_PHONE) == 1
    assert len(twilio_server.posts()) > 2 and not twilio_server.posts(RECEPTION_PHONE)


HOST_FAILURES = {
    "permanent 21614": lambda server: server.fail(21614, to=HOST_PHONE),
    "lasting outage": lambda server: server.fail(500, to=HOST_PHONE, times=1000),
}


@pytest.mark.parametrize("failure", HOST_FAILURES.values(), ids=HOST_FAILURES.keys())
def test_r18_a_host_sms_failing_for_good_sends_one_sms_to_reception_and_asks_the_visitor_to_see_the_desk(
    make_twilio_app, twilio_server, failure
):
    app = make_twilio_app(SMS_RETRY_WINDOW_SECONDS=0.5)
    failure(twilio_server)

    response, _ = check_in(app)
    status = visit_status(app, response)

    assert (status["host"], status["reception"], status["ask_desk"], status["final"]) == ("failed", "sent", True, True)
    [fallback] = twilio_server.posts(RECEPTION_PHONE)
    assert fallback.status == 201 and CANARY_NAME in fallback.form["Body"]


def test_the_twilio_sdk_logs_no_number_or_body_at_the_levels_the_app_lets_through(
    twilio_app, twilio_server, log_records
):
    twilio_server.fail(21211, to=CANARY_PHONE)
    response, _ = check_in(twilio_app)
    visit_status(twilio_app, response)

    assert len(twilio_server.posts()) == 2
    # Its INFO lines (request URL, headers) never reach a handler; whatever does must be clean.
    assert not [r for r in log_records if r.name.startswith("twilio") and r.levelno < logging.WARNING]
    assert not [line for line in map(formatted, log_records) if CANARY_PHONE[3:] in line or CANARY_NAME in line]
