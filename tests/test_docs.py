"""The README is part of the interface: every setting, backend and command must be in it."""

from pathlib import Path

import pytest

from kiosk.config import DEFAULTS, SMS_BACKENDS, TWILIO_ENV

README = (Path(__file__).parent.parent / "README.md").read_text()
COMMANDS = ["hosts import", "hosts export", "hosts list", "kiosk pair", "admin create", "demo", "purge",
            "send-test-sms"]


def env_name(key):
    return key if key in TWILIO_ENV else f"KIOSK_{key}"


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_setting_is_in_readme(key):
    assert f"`{env_name(key)}`" in README


@pytest.mark.parametrize("backend", SMS_BACKENDS)
def test_sms_backend_is_in_readme(backend):
    assert f"`{backend}`" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_in_readme(command):
    assert f"`{command}" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_command_exists(app, command):
    group = app.cli
    with app.app_context():
        for word in command.split():
            group = group.get_command(None, word)
            assert group is not None, command


def test_readme_starts_with_the_two_commands():
    top = README[:600]
    assert "make run" in top and "make test" in top
