"""Fixtures for the twilio backend: a Twilio-compatible server, and apps whose real twilio SDK talks to it."""

import pytest

from tests.twilio_server import TwilioServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SENDER = "+4759440000"
MESSAGING_SERVICE_SID = "MG" + "abcdef0123456789" * 2


@pytest.fixture
def twilio_server():
    """A Twilio-compatible HTTP server on 127.0.0.1; records requests, answers as told by fail() and hang()."""
    with TwilioServer(ACCOUNT_SID, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def make_twilio_app(twilio_server, make_app):
    """Build an app with the twilio backend pointed at twilio_server, with settings on top."""

    def make(**settings):
        return make_app(**{
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": SENDER,
            "TWILIO_API_URL": twilio_server.url,
            "SMS_TIMEOUT_SECONDS": 1,
            **settings,
        })

    return make


@pytest.fixture
def twilio_app(make_twilio_app):
    """An app whose SMS go through the real twilio SDK to twilio_server."""
    return make_twilio_app()
