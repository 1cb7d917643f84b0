import logging
import sqlite3

import pytest

from kiosk import create_app
from kiosk.db import get_db
from tests.helpers import create_host, pair_tablet

pytest_plugins = ["tests.twilio_fixtures", "tests.browser"]

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SMS_BACKEND": "fake",
    "RECEPTION_PHONE": "+4741000000",
    "SMS_RETRY_BASE_SECONDS": 0.01,
    "SMS_RETRY_MAX_SECONDS": 0.05,
    "SMS_RETRY_WINDOW_SECONDS": 2,
    "SWEEP_SECONDS": 0,  # no sweeper thread per test app; tests/test_sweeper.py sweeps by hand and tests the ticker
    "FORM_MIN_SECONDS": 0,  # tests submit at once; tests/test_abuse.py checks the 3-second rule itself
    "DEFAULT_LOCALE": "en",  # existing tests read English; tests/test_i18n.py checks the other languages
}


@pytest.fixture
def make_app(tmp_path):
    """Build an app on a fresh database file, with settings on top of TEST_CONFIG."""
    apps = []

    def make(**settings):
        app = create_app({**TEST_CONFIG, "DATABASE": str(tmp_path / "kiosk.db"), **settings})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["dispatcher"].drain(timeout=10)


@pytest.fixture
def app(make_app):
    """An app with the fake SMS backend and a fresh database."""
    return make_app()


@pytest.fixture
def instance_app(make_app, tmp_path):
    """An app whose database lies in tmp_path / "instance", for tests that scan every byte written there. An idle
    reader stays connected, as another gunicorn worker would: it keeps SQLite from folding the WAL away on close."""
    app = make_app(DATABASE=str(tmp_path / "instance" / "kiosk.db"))
    reader = sqlite3.connect(app.config["DATABASE"])
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    yield app
    reader.close()


@pytest.fixture
def client(app):
    """A test client on a paired kiosk tablet."""
    client = app.test_client()
    pair_tablet(app, client)
    return client


@pytest.fixture
def no_script_client(app):
    """A test client on a paired kiosk tablet whose browser runs no JavaScript: forms are plain POSTs."""
    client = app.test_client()
    pair_tablet(app, client, script=False)
    return client


@pytest.fixture
def unpaired_client(app):
    """A test client of a browser that was never paired as a kiosk."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for `flask` commands."""
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The app's sqlite-utils Database (one kept connection per thread), without an app context held open, so each
    test request has its own `g`, as in production. Tests that call the app's functions directly add `ctx`."""
    with app.app_context():
        return get_db()


@pytest.fixture
def ctx(app):
    """An app context held open for the test, for calling the app's functions directly."""
    with app.app_context():
        yield


@pytest.fixture
def host(db):
    """Kari Ødegård, a host in the directory who reads English."""
    return create_host(db, name="Kari Ødegård", phone="+4741234567", language="en")


@pytest.fixture
def tablet(app):
    """The device row of a paired tablet named Reception tablet."""
    device, _ = pair_tablet(app, name="Reception tablet")
    return device


@pytest.fixture
def sms(app):
    """The fake SMS client: its outbox, and fail() to make sends fail."""
    return app.extensions["sms"]


@pytest.fixture
def sms_outbox(sms):
    """The list of SMS the fake backend accepted."""
    return sms.outbox


@pytest.fixture
def log_records():
    """Every log record emitted during the test, from every logger, at every level."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)
