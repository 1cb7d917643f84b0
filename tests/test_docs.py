"""The README is part of the interface: every setting, backend and command must be in it."""

import tempfile
from pathlib import Path

import click
import pytest

from kiosk import create_app
from kiosk.config import DEFAULTS, SETTINGS, SMS_BACKENDS, TWILIO_ENV

README = (Path(__file__).parent.parent / "README.md").read_text()
# The public commands of DESIGN.md: they must stay, whatever else the CLI gains.
PUBLIC_COMMANDS = ["hosts import", "hosts export", "hosts list", "kiosk pair", "admin create", "demo", "purge",
                   "send-test-sms"]


def cli_commands(group, prefix=""):
    """Every command of the app's CLI, as typed after `flask --app app`, read from the CLI itself."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from cli_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


COMMANDS = list(cli_commands(create_app({"TESTING": True, "SECRET_KEY": "x", "SMS_BACKEND": "fake",
                                         "DATABASE": str(Path(tempfile.mkdtemp()) / "kiosk.db")}).cli))


def env_name(key):
    return key if key in TWILIO_ENV else f"KIOSK_{key}"


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_setting_is_in_readme(key):
    assert f"`{env_name(key)}`" in README


def shown(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


@pytest.mark.parametrize("key", sorted(key for key, setting in SETTINGS.items()
                                       if setting.default not in (None, False, "")))
def test_the_readme_table_gives_each_setting_its_default(key):
    [row] = [line for line in README.splitlines()
             if line.startswith("|") and f"`{env_name(key)}`" in line.split("|")[1]]  # the settings table's row
    assert f"`{shown(SETTINGS[key].default)}`" in row


@pytest.mark.parametrize("backend", SMS_BACKENDS)
def test_sms_backend_is_in_readme(backend):
    assert f"`{backend}`" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_in_readme(command):
    assert f"`{command}" in README


def test_the_cli_has_every_public_command():
    assert set(PUBLIC_COMMANDS) <= set(COMMANDS)


@pytest.mark.parametrize("command", PUBLIC_COMMANDS)
def test_command_exists(app, command):
    group = app.cli
    with app.app_context():
        for word in command.split():
            group = group.get_command(None, word)
            assert group is not None, command


def test_readme_starts_with_the_two_commands():
    top = README[:600]
    assert "make run" in top and "make test" in top
