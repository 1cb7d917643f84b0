import io

import pytest

from kiosk.sms import SentSms
from kiosk.sms.console import ConsoleSmsClient
from tests.helpers import create_host

# These tests call the app's functions directly: an app context is held for each.
pytestmark = pytest.mark.usefixtures("ctx")


def test_demo_remove_deletes_the_demo_hosts_and_keeps_the_real_ones(runner, db):
    runner.invoke(args=["demo"])
    create_host(db, name="Real Person", phone="+4741299999")
    assert runner.invoke(args=["demo", "--remove"]).output == "Demo directory: 10 demo hosts deleted.\n"
    assert [row["name"] for row in db["hosts"].rows] == ["Real Person"]
    assert db.execute("SELECT count(*) FROM hosts_fts WHERE hosts_fts MATCH 'nordmann'").fetchone()[0] == 0


def test_demo_fills_an_empty_directory_once(runner, db):
    assert "10 hosts added" in runner.invoke(args=["demo"]).output
    assert "already present" in runner.invoke(args=["demo"]).output
    assert db["hosts"].count == 10


def test_send_test_sms_sends_one_message_and_shows_the_masked_number(runner, sms_outbox):
    result = runner.invoke(args=["send-test-sms", "412 34 567"])
    assert result.exit_code == 0
    assert "+47 4** ** *67" in result.output and "41234567" not in result.output
    assert sms_outbox == [SentSms("+4741234567", "Test message from Velkommen.")]


def test_send_test_sms_explains_a_bad_number(runner, sms_outbox):
    result = runner.invoke(args=["send-test-sms", "22 12 34 56"])
    assert result.exit_code != 0
    assert "Enter a mobile number" in result.output
    assert sms_outbox == []


def test_send_test_sms_reports_a_provider_error_with_its_code(runner, sms):
    sms.fail(code=21408)
    result = runner.invoke(args=["send-test-sms", "412 34 567"])
    assert result.exit_code != 0
    assert "code 21408" in result.output
    assert "Traceback" not in result.output


def test_purge_with_nothing_to_delete_says_so(runner):
    *lines, settled = runner.invoke(args=["purge"]).output.splitlines()
    assert lines[0] == "Deleted 0 expired visit records."
    assert all(line.startswith("Deleted 0 expired ") for line in lines)
    assert len(lines) == 9
    assert settled == "Settled 0 SMS left in flight by a stopped worker or past their deadline."


def test_purge_deletes_expired_pairing_codes_sessions_and_webhook_receipts(runner, db):
    from freezegun import freeze_time

    from kiosk.admin import accounts
    from kiosk.devices import pairing as devices
    from tests.helpers import create_admin
    with freeze_time("2026-11-01 10:00:00"):
        devices.create_pairing_code(db, "Old tablet")
        accounts.start_session(db, create_admin(db).id)
        db["webhook_events"].insert({"key": "SM1:delivered", "received_at": "2026-11-01T10:00:00+00:00"})
    with freeze_time("2026-11-03 10:00:00"):
        output = runner.invoke(args=["purge"]).output
    for line in ("Deleted 1 expired pairing codes.", "Deleted 1 expired admin sessions.",
                 "Deleted 1 expired webhook receipts."):
        assert line in output
    assert db["pairing_codes"].count == db["admin_sessions"].count == db["webhook_events"].count == 0


def test_the_running_app_purges_by_itself_at_most_hourly(app, client, db):
    db["webhook_events"].insert({"key": "SM1:sent", "received_at": "2000-01-01T00:00:00+00:00"})
    client.get("/kiosk/")
    app.extensions["dispatcher"].drain(timeout=5)
    assert db["webhook_events"].count == 0
    db["webhook_events"].insert({"key": "SM2:sent", "received_at": "2000-01-01T00:00:00+00:00"})
    client.get("/kiosk/")
    app.extensions["dispatcher"].drain(timeout=5)
    assert db["webhook_events"].count == 1  # not again within the hour


class CountingStream(io.StringIO):
    writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def test_console_backend_writes_each_sms_in_one_piece_so_two_workers_never_mix_their_lines():
    stream = CountingStream()
    ConsoleSmsClient(stream).send("+4741234567", "Hello", ref="test")
    assert stream.writes == 1


def test_console_backend_prints_a_masked_recipient_and_the_body():
    stream = io.StringIO()
    sid = ConsoleSmsClient(stream).send("+4741234567", "Hello", ref="test")
    assert stream.getvalue() == "[SMS to +47 4** ** *67] Hello\n"
    assert sid.startswith("SM")
