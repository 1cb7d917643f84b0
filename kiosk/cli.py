"""Commands for operators: `flask --app app COMMAND`."""

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from kiosk import backup, demo, doctor, retention
from kiosk.admin import accounts
from kiosk.db import clock_time, get_db, office_datetime
from kiosk.devices import pairing as devices
from kiosk.hosts import directory, memberships
from kiosk.locations import locations
from kiosk.messaging import sweeper
from kiosk.phone import InvalidPhoneError, PhoneNumber, mask
from kiosk.scim import tokens as scim_tokens
from kiosk.settings import setting
from kiosk.sms import SmsSendError
from kiosk.spreadsheet import SpreadsheetError, read_table

hosts_cli = AppGroup("hosts", help="Keep the host directory: import, export, list.")
admin_cli = AppGroup("admin", help="Admin accounts.")
kiosk_cli = AppGroup("kiosk", help="Kiosk tablets: pairing.")
scim_cli = AppGroup("scim", help="SCIM directory sync (Entra ID, Okta).")
scim_token_cli = AppGroup("token", help="SCIM bearer tokens: create, list, revoke.")
scim_cli.add_command(scim_token_cli)
backup_cli = AppGroup("backup", help="Backups with Litestream: its configuration, a check, a restore.")

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_ROWS = 200_000
DEFAULT_BIND = "127.0.0.1:8000"


def register(app: Flask) -> None:
    app.cli.add_command(hosts_cli)
    app.cli.add_command(admin_cli)
    app.cli.add_command(kiosk_cli)
    app.cli.add_command(scim_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(send_test_sms_command)
    app.cli.add_command(doctor.doctor_command)


@hosts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows even if some rows have problems.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate the hosts who are not in FILE (they stay in the directory and can be reactivated).")
def import_hosts_command(file: Path, skip_invalid: bool, deactivate_missing: bool) -> None:
    """Add or update hosts from a CSV or Excel (.xlsx) FILE.

    Columns: name and phone (or navn and mobil), optional department, email, language. A host already in
    the directory is updated, matched on the phone number, else on the e-mail address. A column the file
    does not have is left as it is for every host.
    """
    try:
        table = read_table(_read_import_file(file), file.name, max_rows=IMPORT_MAX_ROWS)
        result = directory.parse_hosts(table, region=current_app.config["DEFAULT_REGION"],
                                       places=memberships.ids_by_name(get_db()))
    except SpreadsheetError as e:
        raise click.ClickException(f"{file.name}: {e}") from e
    for error in result.errors:
        click.echo(f"line {error.line}: {error.message}", err=True)
    if result.errors and not skip_invalid:
        raise click.ClickException(_nothing_imported(result))
    saved = directory.save_hosts(get_db(), result.hosts, deactivate_missing=deactivate_missing)
    total = saved.added + saved.updated + saved.unchanged
    click.echo(f"Imported {total} host{'' if total == 1 else 's'}: "
               f"{saved.added} added, {saved.updated} updated, {saved.unchanged} unchanged"
               + (f", {saved.deactivated} deactivated." if deactivate_missing else "."))
    if result.errors:
        click.echo(f"Skipped {len(result.errors)} rows with problems (listed above).")
    if result.ignored_columns:
        click.echo(f"Ignored the columns: {', '.join(result.ignored_columns)}.")


def _read_import_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(IMPORT_MAX_BYTES + 1)
    except OSError as e:
        raise SpreadsheetError(f"The file cannot be opened: {e.strerror}.") from e
    if len(data) > IMPORT_MAX_BYTES:
        raise SpreadsheetError(
            f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MB. Split it into smaller files and import each."
        )
    return data


def _nothing_imported(result: directory.HostImport) -> str:
    bad, good = len(result.errors), len(result.hosts)
    return (
        f"Nothing was imported: {bad} {'row has' if bad == 1 else 'rows have'} problems (listed above). "
        f"Fix them and import the file again, or add --skip-invalid to import the other {good} rows."
    )


@hosts_cli.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def export_hosts_command(output: Path | None) -> None:
    """Write the directory as CSV (name, phone, department, email, language) to stdout or --output."""
    if output is None:
        with click.open_file("-", "wb") as stdout:
            _export(stdout)
        return
    try:
        with open(output, "wb", opener=_private) as handle:
            count = _export(handle)
    except OSError as e:
        raise click.ClickException(f"Cannot write {output}: {e.strerror}.") from e
    click.echo(f"Exported {count} hosts to {output}.", err=True)


def _export(binary: IO[bytes]) -> int:
    stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    count = directory.export_hosts(get_db(), stream)
    stream.detach()  # flushes, and leaves the binary stream open for its owner
    return count


def _private(path: str, flags: int) -> int:
    # The export holds names and mobile numbers: readable by its owner only.
    return os.open(path, flags, 0o600)


@hosts_cli.command("list")
def list_hosts_command() -> None:
    """Show the directory: id, name, masked phone number, department, language."""
    hosts = directory.list_hosts(get_db())
    if not hosts:
        click.echo("The directory is empty. Add hosts with: flask hosts import FILE")
        return
    rows = [("ID", "Name", "Phone", "Department", "Language")]
    rows += [(str(h.id), h.name, mask(h.phone) if h.phone else "needs a mobile number", h.department or "",
              h.language or "") for h in hosts]
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    click.echo("\n".join(line.rstrip() for line in lines))


def _location_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return click.option("--location", "location_name", metavar="NAME", help=help_text)


def _location_id(name: str | None) -> int | None:
    """The id of the location called `name` (in any case), None for no name; a plain error for an unknown one."""
    if name is None:
        return None
    found = locations.id_named(get_db(), name)
    if found is None:
        raise click.ClickException(f"There is no location called {name}. The locations are: {_location_names()}.")
    return found


def _location_names() -> str:
    return ", ".join(location.name for location in locations.list_locations(get_db()))


@admin_cli.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_location_option("Make an admin of this location only (its tablets, hosts, school visits and statistics).")
def create_admin_command(username: str, password_stdin: bool, location_name: str | None) -> None:
    """Create an admin account USERNAME; the password (at least 12 characters) is asked for twice."""
    location_id = _location_id(location_name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        admin = accounts.create_admin(get_db(), username, password, location_id=location_id)
    except accounts.AccountError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Created the admin account {admin.username}"
               + (f", admin of {location_name.strip()} only." if location_name else "."))


@admin_cli.command("set-location")
@click.argument("username")
@_location_option("The location the admin manages; without it, the whole installation.")
def set_admin_location_command(username: str, location_name: str | None) -> None:
    """Make USERNAME an admin of one location, or (without --location) of the whole installation. An admin who signs
    in with your identity provider (OIDC) is an installation admin until this command says otherwise."""
    location_id = _location_id(location_name)
    if not accounts.set_location(get_db(), accounts.normalise_username(username), location_id):
        raise click.ClickException(f"There is no admin called {username}.")
    click.echo(f"{username} is now an admin of {location_name.strip()} only." if location_name
               else f"{username} is now an admin of the whole installation.")


@kiosk_cli.command("pair")
@click.option("--name", required=True, help="A name for the tablet, such as 'Reception left'.")
@_location_option("The location the tablet stands at; needed once there are several.")
def pair_command(name: str, location_name: str | None) -> None:
    """Print a one-time link (and code) that registers a tablet as a kiosk."""
    if location_name is None and locations.several(get_db()):
        raise click.ClickException(f"There are several locations: say where the tablet stands with --location NAME "
                                   f"({_location_names()}).")
    location_id = _location_id(location_name) or locations.DEFAULT_ID
    code = devices.create_pairing_code(get_db(), name, location_id=location_id)
    # Without a public URL, the address gunicorn listens on (gunicorn.conf.py reads KIOSK_BIND too).
    base = (current_app.config["PUBLIC_URL"] or f"http://{os.environ.get('KIOSK_BIND', DEFAULT_BIND)}").rstrip("/")
    click.echo(f"Pairing code for {code.name}: {code.code} (valid until {clock_time(code.expires_at)}, "
               f"{current_app.config['TIMEZONE']} time)")
    click.echo(f"Open on the tablet: {base}/kiosk/pair?code={code.code}")


@scim_token_cli.command("create")
@click.option("--name", required=True, help="Who holds the token, such as 'Entra ID'.")
def create_scim_token_command(name: str) -> None:
    """Create a SCIM bearer token and print it once: it is stored only as a hash."""
    if not name.strip():
        raise click.ClickException("Give the token a name, such as --name 'Entra ID'.")
    token, secret = scim_tokens.create_token(get_db(), name)
    click.echo(f"Created SCIM token {token.id} ({token.name}):")
    click.echo(secret)
    click.echo("This token is shown only now: copy it into the identity provider. "
               f"Revoke it with: flask --app app scim token revoke {token.id}")


@scim_token_cli.command("list")
def list_scim_tokens_command() -> None:
    """Show the SCIM tokens: id, name, created, last used, revoked (never the token)."""
    found = scim_tokens.list_tokens(get_db())
    if not found:
        click.echo("There are no SCIM tokens. Create one with: flask --app app scim token create --name NAME")
        return
    rows = [("ID", "Name", "Created", "Last used", "Revoked")]
    rows += [(str(t.id), t.name, office_datetime(t.created_at), office_datetime(t.last_used_at) or "never",
              office_datetime(t.revoked_at)) for t in found]
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    click.echo("\n".join(line.rstrip() for line in lines))


@scim_token_cli.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
def revoke_scim_token_command(token_id: int) -> None:
    """Revoke the SCIM token ID at once."""
    if not scim_tokens.revoke_token(get_db(), token_id):
        raise click.ClickException(f"There is no live SCIM token {token_id} (see: flask --app app scim token list).")
    click.echo(f"Revoked SCIM token {token_id}.")


@click.command("demo")
@click.option("--remove", is_flag=True, help="Delete the demo hosts and keep every other host.")
@with_appcontext
def demo_command(remove: bool) -> None:
    """Fill an empty directory with demo hosts (fictional names and numbers), or remove them with --remove."""
    if remove:
        removed = demo.remove(get_db())
        click.echo(f"Demo directory: {removed} demo host{'' if removed == 1 else 's'} deleted.")
        return
    added = demo.seed(get_db())
    click.echo(f"Demo directory: {added} hosts added." if added else "Demo directory: hosts already present.")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete what is past its retention (visit records, abuse counters, codes, sessions, receipts, previews) and
    settle SMS left in flight."""
    for what, count in retention.purge(get_db()).items():
        click.echo(f"Deleted {count} expired {what}.")
    click.echo(f"Settled {sweeper.sweep(get_db())} SMS left in flight by a stopped worker or past their deadline.")
    current_app.extensions["dispatcher"].drain()  # reception SMS that the sweep started


@click.command("send-test-sms")
@with_appcontext
@click.argument("number")
def send_test_sms_command(number: str) -> None:
    """Send one test SMS to NUMBER through the configured backend."""
    cfg = current_app.config
    try:
        phone = PhoneNumber.parse(number, region=cfg["DEFAULT_REGION"])
    except InvalidPhoneError as e:
        raise click.ClickException(e.message) from e
    client = current_app.extensions["sms"]
    try:
        sid = client.send(phone.e164, f"Test message from {setting('COMPANY_NAME')}.", ref="test")
    except SmsSendError as e:
        raise click.ClickException(f"The SMS was not sent (code {e.code}, HTTP status {e.status}).") from e
    click.echo(f"Sent to {phone.masked} with {client.name}: {sid}")


def _backup_schedule() -> backup.Schedule:
    return backup.Schedule.hours(current_app.config["BACKUP_RETENTION_HOURS"])


def _replica() -> str:
    replica = current_app.config["BACKUP_REPLICA"]
    if not replica:
        raise click.ClickException("Set KIOSK_BACKUP_REPLICA first, such as file:///var/backups/velkommen "
                                   "(docs/backups.md).")
    return str(replica)


@backup_cli.command("config")
def backup_config_command() -> None:
    """Print Litestream's configuration for this database and KIOSK_BACKUP_REPLICA: run
    `litestream replicate -config FILE` with it (docs/backups.md)."""
    click.echo(backup.litestream_config(current_app.config["DATABASE"], _replica(), _backup_schedule(),
                                        s3_endpoint=current_app.config["BACKUP_S3_ENDPOINT"]), nl=False)


@backup_cli.command("check")
def backup_check_command() -> None:
    """Restore the replica into a scratch folder and compare it with the database; exit 1 when something fails."""
    failed = False
    for line in backup.check(current_app.config["DATABASE"], current_app.config["BACKUP_REPLICA"],
                             _backup_schedule()):
        click.echo(f"{'PASS' if line.ok else 'FAIL'}  {line.text}")
        failed = failed or not line.ok
    if failed:
        sys.exit(1)


@backup_cli.command("restore")
@click.option("--to", "target", required=True, type=click.Path(path_type=Path),
              help="Where to write the restored database; it must not exist yet.")
def backup_restore_command(target: Path) -> None:
    """Restore the replica's latest state into a new file (the restore drill: docs/backups.md)."""
    if target.exists():
        raise click.ClickException(f"{target} exists already: restore into a new path, then move it into place.")
    try:
        backup.restore(_replica(), target)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    counts = backup.row_counts(target)
    click.echo(f"Restored {sum(counts.values())} rows in {len(counts)} tables into {target} "
               f"(integrity check: {backup.integrity(target)}).")
