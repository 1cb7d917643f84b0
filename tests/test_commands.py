import io

from kiosk.sms import SentSms
from kiosk.sms.console import ConsoleSmsClient


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
    assert runner.invoke(args=["purge"]).output.strip() == "Deleted 0 expired visit records."


def test_console_backend_prints_a_masked_recipient_and_the_body():
    stream = io.StringIO()
    sid = ConsoleSmsClient(stream).send("+4741234567", "Hello", ref="test")
    assert stream.getvalue() == "[SMS to +47 4** ** *67] Hello\n"
    assert sid.startswith("SM")
