import pytest

from kiosk import create_app
from kiosk.config import ConfigError


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean KIOSK_/TWILIO_ environment with the database in a temporary folder."""
    import os
    for key in list(os.environ):
        if key.startswith(("KIOSK_", "TWILIO_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("KIOSK_DATABASE", str(tmp_path / "kiosk.db"))
    return monkeypatch


def test_settings_come_from_kiosk_environment_variables(env):
    env.setenv("KIOSK_SECRET_KEY", "s3cret")
    env.setenv("KIOSK_COMPANY_NAME", "Fjordkraft")
    env.setenv("KIOSK_ALLOWED_COUNTRIES", "NO, se")
    env.setenv("KIOSK_RECEPTION_PHONE", "41000000")
    app = create_app()
    assert app.config["COMPANY_NAME"] == "Fjordkraft"
    assert app.config["ALLOWED_COUNTRIES"] == ("NO", "SE")
    assert app.config["RECEPTION_PHONE"] == "41000000"
    assert app.config["SMS_BACKEND"] == "console"


def test_twilio_is_the_default_backend_when_credentials_are_set(env):
    env.setenv("KIOSK_SECRET_KEY", "s3cret")
    env.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    env.setenv("TWILIO_AUTH_TOKEN", "token")
    env.setenv("TWILIO_FROM", "Velkommen")
    env.setenv("KIOSK_TWILIO_API_URL", "http://127.0.0.1:9")
    app = create_app()
    assert app.config["SMS_BACKEND"] == "twilio"
    assert app.extensions["sms"].name == "twilio"
    assert app.config["TWILIO_API_URL"] == "http://127.0.0.1:9"


def test_without_a_secret_key_the_app_refuses_to_start_with_a_clear_message(env):
    with pytest.raises(ConfigError, match="KIOSK_SECRET_KEY is not set"):
        create_app()


def test_demo_mode_generates_a_secret_key_beside_the_database_and_keeps_it(env, tmp_path):
    env.setenv("KIOSK_DEMO", "1")
    app = create_app()
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == app.config["SECRET_KEY"]
    assert len(app.config["SECRET_KEY"]) == 64
    assert key_file.stat().st_mode & 0o077 == 0
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


@pytest.mark.parametrize("settings, message", [
    ({"SMS_BACKEND": "carrier-pigeon"}, "KIOSK_SMS_BACKEND must be one of"),
    ({"SMS_BACKEND": "twilio"}, "needs TWILIO_ACCOUNT_SID"),
    ({"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "needs TWILIO_FROM"),
    ({"DEFAULT_REGION": "XX"}, "KIOSK_DEFAULT_REGION"),
    ({"ALLOWED_COUNTRIES": "NO,Norway"}, "KIOSK_ALLOWED_COUNTRIES"),
    ({"SEARCH_LIMIT": "many"}, "not a number"),
    ({"RECEPTION_PHONE": "22 12 34 56"}, "KIOSK_RECEPTION_PHONE"),
    ({"PUBLIC_URL": "http://kiosk.example.org"}, "must start with https://"),
    ({"TIMEZONE": "Europe/Atlantis"}, "KIOSK_TIMEZONE 'Europe/Atlantis' is not a time zone name"),
    ({"TIMEZONE": "../../etc/passwd"}, "KIOSK_TIMEZONE"),
])
def test_a_setting_that_cannot_work_stops_start_up_with_its_name(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "k.db"), **settings})


def test_a_configuration_problem_is_one_plain_message_without_a_traceback(tmp_path):
    """`flask --app app admin create` next to the demo, without KIOSK_DEMO=1 (issue 11, item 5)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parent.parent
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KIOSK_", "TWILIO_"))}
    env["KIOSK_DATABASE"] = str(tmp_path / "kiosk.db")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "admin", "create", "ana"], cwd=root,
                            env=env, capture_output=True, text=True, timeout=60, input="")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Velkommen cannot start:")
    assert "KIOSK_DEMO=1 flask --app app admin create NAME" in result.stderr
