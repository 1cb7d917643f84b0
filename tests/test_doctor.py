"""Issue 13: `flask --app app doctor` checks a deployment line by line, against the Twilio-compatible test server and
the app under gunicorn behind a TLS-terminating proxy; each failure on its own, the exit status, and no secret or
full phone number in what it prints."""

import ipaddress
import json
import re
import shutil
import socket
import sqlite3
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlite_utils import Database

from kiosk import doctor
from kiosk.db import get_db, migrations
from tests.deployment import Gunicorn, free_port, gunicorn_env, make_instance
from tests.twilio_fixtures import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, SENDER

SECRET_KEY = "9f2c41d7e0b85a3c6d1e4f7a0b3c6d9e" * 2
CHECKS = ["Settings", "Database", "Migrations", "Disk", "Twilio account", "Sender", "Webhooks", "Public URL", "Clock"]
LINE = re.compile(r"(?P<status>PASS|WARN|FAIL|SKIP)  (?P<title>.{14})  (?P<detail>.+)")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (.cert, .key: PEM files), trusted only where a test says so."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    paths = SimpleNamespace(cert=folder / "cert.pem", key=folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


class TlsProxy:
    """A TLS-terminating proxy, as in front of a deployment: https on 127.0.0.1 and an ephemeral port, passed on as
    plain HTTP to `port`."""

    def __init__(self, port, certificate):
        self.port = port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate.cert, certificate.key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client):
        try:
            tls = self.context.wrap_socket(client, server_side=True)
        except OSError:  # a client that refused the certificate
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.port))
        threading.Thread(target=_pipe, args=(upstream, tls), daemon=True).start()
        _pipe(tls, upstream)

    def close(self):
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def _pipe(source, target):
    """Copy bytes until either side ends, then close both."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        source.close()
        target.close()


@pytest.fixture(scope="module")
def https_kiosk(tmp_path_factory, certificate):
    """The kiosk under gunicorn behind a TLS-terminating proxy with the self-signed certificate: its https URL."""
    folder = tmp_path_factory.mktemp("https-kiosk")
    instance = make_instance(folder)
    server = Gunicorn(gunicorn_env(instance, "http://127.0.0.1:9", SMS_BACKEND="fake"), folder / "gunicorn.log")
    proxy = TlsProxy(int(server.url.rsplit(":", 1)[1]), certificate)
    yield proxy.url
    proxy.close()
    server.stop()


@pytest.fixture
def trusted(monkeypatch, certificate):
    """Requests (and so the doctor) trust the self-signed certificate, as REQUESTS_CA_BUNDLE makes them."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert))


@pytest.fixture
def make_doctor_app(make_twilio_app, twilio_server, https_kiosk, trusted):
    """Build an app that passes every check: the https kiosk is its public URL, and Twilio's test server holds its
    sender, whose incoming-message webhook points there. Settings on top."""

    def make(**settings):
        app = make_twilio_app(**{"SECRET_KEY": SECRET_KEY, "PUBLIC_URL": https_kiosk, **settings})
        twilio_server.add_number(SENDER, sms_url=inbound_url(app))
        return app

    return make


@pytest.fixture
def doctor_app(make_doctor_app):
    """An app that passes every check."""
    return make_doctor_app()


def inbound_url(app):
    return f"{(app.config['PUBLIC_URL'] or '').rstrip('/')}/webhooks/twilio/inbound"


def run_doctor(app):
    """Run `flask doctor`: its exit code, each check's status and detail by title, and its output. Fails the test if
    the output holds a secret or a full phone number (canaries)."""
    result = app.test_cli_runner().invoke(args=["doctor"])
    checks = {m["title"].strip(): (m["status"], m["detail"]) for m in map(LINE.fullmatch, result.output.splitlines())
              if m}
    assert list(checks) == CHECKS, result.output
    cfg = app.config
    for canary in (cfg["SECRET_KEY"], cfg["TWILIO_AUTH_TOKEN"], AUTH_TOKEN, cfg["TWILIO_ACCOUNT_SID"], ACCOUNT_SID,
                   SENDER, SENDER[3:], "hunter2"):
        if canary:
            assert canary not in result.output
    return SimpleNamespace(code=result.exit_code, checks=checks, output=result.output)


def statuses(report):
    return {title: status for title, (status, _) in report.checks.items()}


def only(report, title, status):
    """Assert that `title` has `status` and every other check passed."""
    assert statuses(report) == {name: status if name == title else "PASS" for name in CHECKS}, report.output


def test_every_check_passes_for_a_healthy_deployment(doctor_app, https_kiosk):
    report = run_doctor(doctor_app)
    assert statuses(report) == dict.fromkeys(CHECKS, "PASS"), report.output
    assert report.code == 0
    assert report.checks["Sender"][1] == "TWILIO_FROM +47 5** ** *00 is a phone number of this Twilio account."
    assert report.checks["Webhooks"][1] == f"The number's incoming-message webhook is {https_kiosk}" \
                                           "/webhooks/twilio/inbound (POST)."
    assert "Twilio's" in report.checks["Clock"][1]
    assert report.output.endswith("\n9 checks: 9 passed, 0 with a warning, 0 failed, 0 skipped.\n")


def test_a_messaging_service_with_its_webhook_passes(make_doctor_app, twilio_server):
    app = make_doctor_app(TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)
    twilio_server.numbers.clear()  # the service is checked, not TWILIO_FROM
    twilio_server.add_messaging_service(MESSAGING_SERVICE_SID, inbound_request_url=inbound_url(app))
    report = run_doctor(app)
    assert statuses(report) == dict.fromkeys(CHECKS, "PASS"), report.output
    assert report.checks["Webhooks"][1].startswith("The messaging service's incoming-message webhook is https://")


def test_a_wrong_auth_token_fails_and_skips_what_needs_the_account(make_doctor_app):
    report = run_doctor(make_doctor_app(TWILIO_AUTH_TOKEN="0badc0de" * 4))
    assert report.code == 1
    assert statuses(report) == {**dict.fromkeys(CHECKS, "PASS"), "Twilio account": "FAIL", "Sender": "SKIP",
                                "Webhooks": "SKIP"}
    assert report.checks["Twilio account"][1].startswith(
        "Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (HTTP 401, error 20003): copy both again")
    assert report.checks["Sender"][1] == "Skipped because the Twilio account check did not pass."
    assert "Do what the FAIL lines say" in report.output


def test_a_suspended_account_fails(doctor_app, twilio_server):
    twilio_server.set_account_status("suspended")
    report = run_doctor(doctor_app)
    assert report.code == 1
    assert report.checks["Twilio account"] == ("FAIL", "Twilio account AC…cdef is suspended, and sends no SMS: sign "
                                                       "in to the Twilio console (Billing, and its notice of why), or "
                                                       "ask Twilio support.")


def test_a_sender_that_is_not_on_the_account_fails_with_its_number_masked(doctor_app, twilio_server):
    twilio_server.numbers.clear()
    # Twilio lists this one too when asked for TWILIO_FROM: a partial number matches every number that holds it.
    twilio_server.add_number(SENDER + "9", sms_url=inbound_url(doctor_app))
    report = run_doctor(doctor_app)
    assert report.code == 1
    assert report.checks["Sender"] == ("FAIL", "TWILIO_FROM +47 5** ** *00 is not a phone number of this Twilio "
                                               "account: set it to one of the account's numbers (Phone Numbers → "
                                               "Active numbers), or buy or port this one.")
    assert report.checks["Webhooks"] == ("SKIP", "Skipped because the sender check did not pass.")
    [listed] = [r for r in twilio_server.requests if r.path.endswith("/IncomingPhoneNumbers.json")]
    assert listed.query["PhoneNumber"] == SENDER


def test_a_missing_messaging_service_fails(make_doctor_app):
    report = run_doctor(make_doctor_app(TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID))
    assert report.code == 1
    assert report.checks["Sender"][0] == "FAIL"
    assert report.checks["Sender"][1].startswith("TWILIO_MESSAGING_SERVICE_SID MG…6789 is not a messaging service of "
                                                 "this Twilio account")


def test_an_alphanumeric_sender_passes_and_has_no_webhook_to_check(make_doctor_app):
    report = run_doctor(make_doctor_app(TWILIO_FROM="Velkommen"))
    assert report.code == 0
    assert report.checks["Sender"][0] == "PASS"
    assert "'Velkommen' is an alphanumeric sender ID" in report.checks["Sender"][1]
    assert report.checks["Webhooks"] == ("SKIP", "Skipped because an alphanumeric sender ID receives no replies.")


@pytest.mark.parametrize("sender", ["+47 59", "Velkommen AS Reception", "4759440000"])
def test_a_sender_that_is_neither_a_number_nor_an_alphanumeric_id_fails(make_doctor_app, sender):
    report = run_doctor(make_doctor_app(TWILIO_FROM=sender))
    assert report.checks["Sender"][0] == "FAIL"
    assert "59440000" not in report.output


def test_a_webhook_pointing_elsewhere_fails_and_hides_its_password(doctor_app, twilio_server):
    twilio_server.add_number(SENDER, sms_url="https://relay:hunter2@demo.twilio.com/welcome/sms/reply")
    report = run_doctor(doctor_app)
    assert report.code == 1
    only(report, "Webhooks", "FAIL")
    assert report.checks["Webhooks"][1].startswith(
        "The number's incoming-message webhook is https://demo.twilio.com/welcome/sms/reply, so hosts' replies (their "
        f"numbers and words) go there instead: set it to {inbound_url(doctor_app)}, method POST")


def test_an_unset_webhook_fails_since_hosts_are_asked_to_reply(doctor_app, twilio_server):
    twilio_server.add_number(SENDER, sms_url="")
    report = run_doctor(doctor_app)
    assert report.code == 1
    only(report, "Webhooks", "FAIL")
    assert "not set, so hosts' replies to the arrival SMS go nowhere and reception is texted about every visit" in \
        report.checks["Webhooks"][1]


def test_a_webhook_called_with_get_fails(doctor_app, twilio_server):
    twilio_server.add_number(SENDER, sms_url=inbound_url(doctor_app), sms_method="GET")
    report = run_doctor(doctor_app)
    only(report, "Webhooks", "FAIL")
    assert "uses GET, and the kiosk answers POST only" in report.checks["Webhooks"][1]


def test_a_public_url_over_http_fails(make_doctor_app, https_kiosk):
    report = run_doctor(make_doctor_app(PUBLIC_URL=https_kiosk.replace("https://", "http://")))
    assert report.code == 1
    assert report.checks["Settings"][0] == "FAIL"
    assert report.checks["Public URL"][0] == "FAIL"
    assert report.checks["Public URL"][1].startswith("KIOSK_PUBLIC_URL is not https (http://127.0.0.1:")


def test_an_unreachable_public_url_fails(make_doctor_app):
    report = run_doctor(make_doctor_app(PUBLIC_URL=f"https://127.0.0.1:{free_port()}"))
    only(report, "Public URL", "FAIL")
    assert report.checks["Public URL"][1].startswith("Nothing answered at https://127.0.0.1:")


def test_a_public_url_with_an_untrusted_certificate_fails(doctor_app, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    report = run_doctor(doctor_app)
    only(report, "Public URL", "FAIL")
    assert report.checks["Public URL"][1].startswith("The TLS certificate of 127.0.0.1:")
    assert "is refused (self-signed certificate)" in report.checks["Public URL"][1]


def test_a_public_url_that_is_not_the_kiosk_fails(make_doctor_app, https_kiosk):
    report = run_doctor(make_doctor_app(PUBLIC_URL=f"{https_kiosk}/kiosk"))
    assert report.checks["Public URL"][0] == "FAIL"
    assert "answered HTTP 404, but not as the kiosk does" in report.checks["Public URL"][1]


# The Date header has whole seconds, so what the doctor measures is within a second of the skew.
UNHEALTHY = json.dumps({"status": "error", "database": "read-only", "sms_backend": "twilio"}).encode()


@pytest.mark.parametrize("status, headers, body, words", [
    # What the kiosk's /healthz answers when its database cannot be written.
    (503, {"Content-Type": "application/json"}, UNHEALTHY,
     "/healthz answered HTTP 503, database read-only: the kiosk that serves it is not healthy"),
    (301, {"Location": "https://kiosk.example.no/healthz"}, b"",
     "/healthz redirects to https://kiosk.example.no/healthz: set KIOSK_PUBLIC_URL to the address itself"),
])
def test_a_public_url_that_does_not_answer_ok_fails(make_doctor_app, certificate, status, headers, body, words):
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Answer) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        proxy = TlsProxy(server.server_port, certificate)
        report = run_doctor(make_doctor_app(PUBLIC_URL=proxy.url))
        proxy.close()
        server.shutdown()
    only(report, "Public URL", "FAIL")
    assert report.checks["Public URL"][1].startswith(proxy.url + words)


# The Date header has whole seconds, so what the doctor measures is within a second of the skew.
def test_a_public_url_whose_kiosk_is_not_healthy_fails(make_doctor_app, certificate):
    class Unhealthy(BaseHTTPRequestHandler):
        def do_GET(self):  # what the kiosk's /healthz answers when its database cannot be written
            body = json.dumps({"status": "error", "database": "read-only", "sms_backend": "twilio"}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        proxy = TlsProxy(server.server_port, certificate)
        report = run_doctor(make_doctor_app(PUBLIC_URL=proxy.url))
        proxy.close()
        server.shutdown()
    only(report, "Public URL", "FAIL")
    assert report.checks["Public URL"][1].startswith(f"{proxy.url}/healthz answered HTTP 503, database read-only: the "
                                                     "kiosk that serves it is not healthy")


@pytest.mark.parametrize("server_skew, status, words", [
    (-120, "FAIL", r"is 12[01] s ahead of Twilio's \(more than 60 s\)"),
    (120, "FAIL", r"is 1(19|20) s behind Twilio's \(more than 60 s\)"),
    (-30, "PASS", r"is within 3[01] s of Twilio's; the limit is 60 s\.$"),
])
def test_the_clock_is_compared_with_twilios(doctor_app, twilio_server, server_skew, status, words):
    twilio_server.skew_clock(server_skew)
    report = run_doctor(doctor_app)
    assert report.checks["Clock"][0] == status
    assert re.search(words, report.checks["Clock"][1]), report.checks["Clock"][1]
    assert report.code == (1 if status == "FAIL" else 0)


def test_a_skewed_clock_says_how_to_turn_on_time_sync(doctor_app, twilio_server):
    twilio_server.skew_clock(600)
    assert "timedatectl set-ntp true" in run_doctor(doctor_app).checks["Clock"][1]


def test_a_database_that_cannot_be_written_fails(doctor_app, monkeypatch):
    # Tests run as root here, whom chmod does not stop: the doctor's connection is opened read-only instead.
    monkeypatch.setattr(doctor, "connect", lambda path: Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True)))
    report = run_doctor(doctor_app)
    assert report.code == 1
    only(report, "Database", "FAIL")
    assert "cannot be written (attempt to write a readonly database)" in report.checks["Database"][1]


def test_a_pending_migration_fails(doctor_app):
    with doctor_app.app_context():
        db = get_db()
        last = migrations.applied(db)[-1].name
        db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [last])
        db.conn.commit()
    report = run_doctor(doctor_app)
    assert report.code == 1
    only(report, "Migrations", "FAIL")
    total = len(migrations.pending(Database(memory=True)))
    assert report.checks["Migrations"][1].startswith(f"1 of {total} migrations are not applied ({last}): restart")


def test_a_migration_of_a_newer_version_warns(doctor_app):
    with doctor_app.app_context():
        get_db()["_sqlite_migrations"].insert({"migration_set": "velkommen", "name": "m999_from_the_future",
                                               "applied_at": "2030-01-01"})
    report = run_doctor(doctor_app)
    assert report.code == 0
    only(report, "Migrations", "WARN")
    assert "(m999_from_the_future): a newer version of the kiosk upgraded it" in report.checks["Migrations"][1]


@pytest.mark.parametrize("free, status, words", [
    (50 * 2**20, "FAIL", "Only 50 MiB free where the database lives"),
    (500 * 2**20, "WARN", "Only 500 MiB free where the database lives"),
    (20 * 2**30, "PASS", "20.0 GiB free where the database lives"),
])
def test_free_disk_space_is_checked_where_the_database_lives(doctor_app, monkeypatch, free, status, words):
    folders = []

    def disk_usage(path):
        folders.append(Path(path))
        return SimpleNamespace(total=100 * 2**30, used=100 * 2**30 - free, free=free)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    report = run_doctor(doctor_app)
    assert report.checks["Disk"][0] == status
    assert report.checks["Disk"][1].startswith(words)
    assert folders == [Path(doctor_app.config["DATABASE"]).parent]


@pytest.mark.parametrize("settings, words", [
    ({"DEMO": True}, "Demo mode is on (KIOSK_DEMO)"),
    ({"COOKIE_SECURE": False}, "KIOSK_COOKIE_SECURE=0 lets cookies go over plain http"),
    ({"PUBLIC_URL": None}, "KIOSK_PUBLIC_URL is not set: set it to the https address Twilio calls"),
])
def test_settings_a_production_kiosk_cannot_have_fail(make_doctor_app, settings, words):
    report = run_doctor(make_doctor_app(**settings))
    assert report.code == 1
    assert report.checks["Settings"][0] == "FAIL"
    assert report.checks["Settings"][1].startswith(words)


def test_flask_debug_mode_fails(doctor_app, monkeypatch):
    # Flask's command line sets app.debug from FLASK_DEBUG, whatever the app's settings say.
    monkeypatch.setenv("FLASK_DEBUG", "1")
    report = run_doctor(doctor_app)
    assert report.code == 1
    only(report, "Settings", "FAIL")
    assert report.checks["Settings"][1] == "Flask debug mode is on, which shows code to visitors: unset FLASK_DEBUG."


def test_the_demos_generated_secret_key_fails(make_doctor_app, tmp_path):
    (tmp_path / "secret_key").write_text(SECRET_KEY + "\n")  # where demo mode keeps it, next to the database
    report = run_doctor(make_doctor_app())
    assert report.checks["Settings"] == ("FAIL", "KIOSK_SECRET_KEY is the demo's generated key: set a new one "
                                                 "(python -c 'import secrets; print(secrets.token_hex(32))').")


def test_a_short_secret_key_warns(make_doctor_app):
    report = run_doctor(make_doctor_app(SECRET_KEY="short-but-set"))
    assert report.code == 0
    only(report, "Settings", "WARN")


def test_without_twilio_the_twilio_checks_are_skipped_and_the_clock_is_the_public_urls(make_doctor_app):
    report = run_doctor(make_doctor_app(SMS_BACKEND="console"))
    assert report.code == 0
    assert statuses(report) == {**dict.fromkeys(CHECKS, "PASS"), "Settings": "WARN", "Twilio account": "SKIP",
                                "Sender": "SKIP", "Webhooks": "SKIP"}
    assert report.checks["Sender"][1] == "Skipped because the SMS backend is console, not twilio."
    assert "of the public URL's (which may be this server's own clock)" in report.checks["Clock"][1]


def test_every_network_call_gives_up_after_the_timeout(make_doctor_app, monkeypatch):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    url = f"127.0.0.1:{silent.getsockname()[1]}"
    monkeypatch.setattr(doctor, "NETWORK_TIMEOUT", 0.5)
    app = make_doctor_app(TWILIO_API_URL=f"http://{url}", PUBLIC_URL=f"https://{url}")
    started = time.monotonic()
    report = run_doctor(app)
    elapsed = time.monotonic() - started
    silent.close()
    assert report.checks["Twilio account"] == ("FAIL", f"Twilio did not answer within 0.5 s: check that this server "
                                                       f"reaches {url} over HTTPS.")
    assert report.checks["Public URL"][1].startswith(f"https://{url}/healthz did not answer within 0.5 s")
    assert report.checks["Clock"][0] == "SKIP"
    assert elapsed < 3
