"""Commands for operators: `flask --app app COMMAND`."""

import click
from flask import current_app
from flask.cli import AppGroup

from kiosk import checkin, demo
from kiosk.db import get_db
from kiosk.phone import InvalidPhoneError, PhoneNumber
from kiosk.sms import SmsSendError

hosts_cli = AppGroup("hosts", help="Keep the host directory: import, export, list.")


def register(app):
    app.cli.add_command(hosts_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(send_test_sms_command)


@click.command("demo")
def demo_command():
    """Fill an empty directory with demo hosts (fictional names and numbers)."""
    added = demo.seed(get_db())
    click.echo(f"Demo directory: {added} hosts added." if added else "Demo directory: hosts already present.")


@click.command("purge")
def purge_command():
    """Delete visit records older than KIOSK_VISIT_RETENTION_DAYS."""
    click.echo(f"Deleted {checkin.purge_expired(get_db())} expired visit records.")


@click.command("send-test-sms")
@click.argument("number")
def send_test_sms_command(number):
    """Send one test SMS to NUMBER through the configured backend."""
    cfg = current_app.config
    try:
        phone = PhoneNumber.parse(number, region=cfg["DEFAULT_REGION"])
    except InvalidPhoneError as e:
        raise click.ClickException(e.message) from e
    client = current_app.extensions["sms"]
    try:
        sid = client.send(phone.e164, f"Test message from {cfg['COMPANY_NAME']}.", ref="test")
    except SmsSendError as e:
        raise click.ClickException(f"The SMS was not sent (code {e.code}, HTTP status {e.status}).") from e
    click.echo(f"Sent to {phone.masked} with {client.name}: {sid}")
