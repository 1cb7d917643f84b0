"""Issue 13: KIOSK_LOG_FORMAT=json writes one JSON object per line, with the same fields and the same canary
guarantees (R31) as the text format."""

import io
import json
import logging

import pytest
from flask.logging import default_handler

from tests.helpers import CANARY_NAME, CANARY_PHONE, CANARY_PHONE_TYPED, drain, post_check_in, tablet_client


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def written():
    """What the app's log handler writes, in the format the app gave it (Flask adds its handler to stderr only when
    no other handler listens, and pytest's does): a handler with that formatter on the "kiosk" logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("kiosk")
    logger.addHandler(handler)
    yield lambda: (handler.setFormatter(default_handler.formatter), stream)[1]
    logger.removeHandler(handler)


@pytest.fixture
def json_app(make_app):
    return make_app(LOG_FORMAT="json", LOG_LEVEL="DEBUG")


def test_each_record_is_one_json_object_even_with_line_breaks_and_a_traceback(json_app, written):
    stream = written()
    logger = logging.getLogger("kiosk.test")
    with json_app.app_context():
        logger.warning("a name typed as %s", "Kari\r\nINFO in forged: line")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    records = [json.loads(line) for line in lines(stream.getvalue())]
    assert [record["message"] for record in records] == ["a name typed as Kari\r\nINFO in forged: line", "it failed"]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["level"] == "WARNING" and records[0]["logger"] == "kiosk.test"
    assert "ValueError: boom" in records[1]["exception"]


def test_r31_a_check_in_logged_as_json_holds_no_canary(json_app, written):
    stream = written()
    with json_app.app_context():
        from kiosk.db import get_db
        from tests.helpers import create_host
        host = create_host(get_db(), phone="+4741234567")
    response = post_check_in(tablet_client(json_app), name=CANARY_NAME, phone=CANARY_PHONE_TYPED, host_id=host.id)
    assert response.status_code == 302
    drain(json_app)
    output = stream.getvalue()
    records = [json.loads(line) for line in lines(output)]
    assert any("SMS" in record["message"] or "sms" in record["logger"] for record in records), output[:2000]
    for canary in ("Kanarifugl", CANARY_PHONE, CANARY_PHONE[3:], CANARY_PHONE_TYPED):
        assert canary not in output


def test_the_text_format_stays_the_default(make_app, written):
    app = make_app()
    stream = written()
    with app.app_context():
        logging.getLogger("kiosk.test").warning("plain")
    assert lines(stream.getvalue())[-1].endswith("WARNING in test_logs: plain")
