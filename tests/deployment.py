"""The app as deployed, for tests and the fault rehearsal (bench/faults.py): an instance folder with a host and a
paired tablet, gunicorn with 2 workers on an ephemeral port talking to a Twilio-compatible server, and a tablet
that fills the check-in form over HTTP like a browser."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import requests

from kiosk import create_app
from kiosk.db import get_db
from tests.helpers import CANARY_NAME, CANARY_PHONE_TYPED, create_host, pair_tablet
from tests.twilio_fixtures import ACCOUNT_SID, AUTH_TOKEN, SENDER

ROOT = Path(__file__).parent.parent
HOST_PHONE = "+4741234567"
RECEPTION = "+4741000000"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_instance(folder):
    """An instance folder whose database holds one host and one paired tablet: .folder, .host_id, .credential."""
    app = create_app({"SECRET_KEY": "x", "SMS_BACKEND": "fake", "DATABASE": str(folder / "kiosk.db")})
    with app.app_context():
        host = create_host(get_db(), phone=HOST_PHONE, language="en")
    _, credential = pair_tablet(app)
    return SimpleNamespace(folder=folder, host_id=host.id, credential=credential)


def gunicorn_env(instance, twilio_url, **settings):
    """The environment of a gunicorn serving `instance` with the twilio backend pointed at `twilio_url`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TWILIO_"))},
        "KIOSK_DATABASE": str(instance.folder / "kiosk.db"), "KIOSK_SECRET_KEY": "gunicorn-test",
        # requests sends no Secure cookie over http; the flags themselves are tested in test_hardening.py.
        "KIOSK_COOKIE_SECURE": "0",
        "KIOSK_LOG_LEVEL": "DEBUG", "KIOSK_RECEPTION_PHONE": RECEPTION,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": SENDER,
        "KIOSK_TWILIO_API_URL": twilio_url, "KIOSK_SMS_TIMEOUT_SECONDS": "2",
        "KIOSK_SMS_RETRY_BASE_SECONDS": "0.1", "KIOSK_SMS_RETRY_WINDOW_SECONDS": "5",
        "KIOSK_FORM_MIN_SECONDS": "0",  # these requests fill the form at once
        "KIOSK_DEFAULT_LOCALE": "en",  # the texts below are the English source
        **{f"KIOSK_{key}": str(value) for key, value in settings.items()},
    }


class Gunicorn:
    """gunicorn with 2 workers on an ephemeral port, its output in a log file."""

    def __init__(self, env, log):
        self.log = log
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
                cwd=ROOT, env={**env, "KIOSK_BIND": f"127.0.0.1:{port}"}, stdout=output, stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"{self.url}/healthz", timeout=2).ok, what="gunicorn to answer")

    def workers(self):
        """The pids of the worker processes now running."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def reload(self):
        """HUP: new workers start, the old ones stop gracefully (and drain their SMS)."""
        self.process.send_signal(signal.SIGHUP)

    def stop(self):
        """Stop gracefully and return everything it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        return self.log.read_bytes()


def wait_until(check, *, what, seconds=20):
    """Poll `check` every 0.1 s until it is true; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        try:
            if check():
                return time.monotonic() - started
        except requests.RequestException:  # not listening yet, or still starting up
            pass
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def post_form(session, url, **fields):
    form = session.get(f"{url}/kiosk/checkin", timeout=5).text
    token, form_token = (re.search(rf'name="{name}" type="hidden" value="([^"]+)"', form).group(1)
                         for name in ("csrf_token", "form_token"))
    return session.post(f"{url}/kiosk/checkin",
                        data={"csrf_token": token, "form_token": form_token, "confirm": "y", **fields},
                        headers={"X-Requested-With": "fetch"},  # as static/js/submit.js sends it
                        timeout=5, allow_redirects=False)


def tablet_session(instance):
    """An HTTP session holding the paired tablet's credential."""
    session = requests.Session()
    session.cookies.set("kiosk_device", instance.credential)
    return session


def start_check_in(url, instance, *, name=CANARY_NAME, phone=CANARY_PHONE_TYPED):
    """Send the kiosk form like a browser; returns the tablet's session, the status JSON URL and the POST's time."""
    session = tablet_session(instance)
    started = time.monotonic()
    response = post_form(session, url, name=name, phone=phone, host_id=instance.host_id)
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.text[:300]
    return session, url + response.headers["Location"] + "/status", elapsed
