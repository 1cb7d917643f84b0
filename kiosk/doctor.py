"""`flask --app app doctor`: checks a deployment, one line per check, and says what to do about each failure.

Each check is a small function of a Context that returns a Result; CHECKS runs them in order. A check that needs
what an earlier one found (the Twilio account before its sender, the sender before its webhook) reads it from the
Context, or says why it was skipped. Nothing printed holds a secret or a full phone number, and every network call
times out after NETWORK_TIMEOUT seconds.
"""

import re
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
import phonenumbers
import requests
from flask import current_app
from flask.cli import with_appcontext
from sqlite_utils import Database
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.response import Response
from twilio.rest import Client

from kiosk.db import connect, migrations, probe_write
from kiosk.phone import mask
from kiosk.sms.twilio import ApiUrlHttpClient

NETWORK_TIMEOUT = 5  # seconds for each call to Twilio and to the public URL
DATABASE_WRITE_TIMEOUT = 2  # seconds the write probe waits for another worker's lock
DISK_WARN_BYTES = 2**30  # free space where the database lives: 1 GiB
DISK_FAIL_BYTES = 100 * 2**20  # 100 MiB: SQLite soon stops writing, and check-ins fail
CLOCK_MAX_SKEW_SECONDS = 60
MIN_SECRET_KEY_LENGTH = 32  # what secrets.token_hex(16) gives; the README suggests token_hex(32)
INBOUND_PATH = "/webhooks/twilio/inbound"
# Twilio's alphanumeric sender ID: at most 11 letters, digits and spaces, at least one of them a letter.
ALPHANUMERIC_SENDER = re.compile(r"(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11}")
NEW_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
# What the Twilio SDK raises: Twilio's error answers, no answer, or an answer it cannot read (kiosk/sms/twilio.py).
TWILIO_ERRORS = (TwilioException, requests.RequestException, ValueError, KeyError, TypeError)


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 (a verdict, not a password)
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


PASS, WARN, FAIL, SKIP = Status.PASS, Status.WARN, Status.FAIL, Status.SKIP


@dataclass(frozen=True)
class Result:
    status: Status
    title: str
    detail: str  # what was checked, and after a failure what to do

    def __str__(self) -> str:
        return f"{self.status}  {self.title:<14}  {self.detail}"


@dataclass(frozen=True)
class Clock:
    """Another server's Date header, and this machine's time when it arrived."""

    owner: str  # whose clock, as in "ahead of Twilio's"
    date: str
    at: float

    def skew(self) -> float | None:
        """Seconds this machine's clock is ahead of the other's (behind, if negative); None for an unreadable Date."""
        try:
            return self.at - parsedate_to_datetime(self.date).timestamp()
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Inbound:
    """Where Twilio sends replies to our sender: the number's or the messaging service's incoming-message webhook."""

    owner: str  # "The number's"
    url: str
    method: str
    where: str  # where the Twilio console sets it


@dataclass
class Context:
    """The configuration, and what the checks found so far."""

    config: Mapping[str, Any]
    twilio: Client | None = None  # when the SMS backend is twilio
    account_active: bool = False
    inbound: Inbound | None = None
    no_inbound: str = "the sender check did not pass"  # why there is no inbound webhook to check
    clocks: list[Clock] = field(default_factory=list)


class _ClockedHttpClient(ApiUrlHttpClient):
    """The SMS backend's HTTP client (the same base URL rules), noting the Date of each answer for the clock check."""

    def __init__(self, api_url: str, timeout: float, clocks: list[Clock]) -> None:
        super().__init__(api_url, timeout)
        self.clocks = clocks

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response = super().request(method, url, *args, **kwargs)
        if response.headers and response.headers.get("Date"):
            self.clocks.append(Clock("Twilio's", response.headers["Date"], time.time()))
        return response


def make_context(config: Mapping[str, Any]) -> Context:
    ctx = Context(config)
    if config["SMS_BACKEND"] == "twilio":
        http_client = _ClockedHttpClient(config["TWILIO_API_URL"], NETWORK_TIMEOUT, ctx.clocks)
        ctx.twilio = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client)
    return ctx


def check_settings(ctx: Context) -> Result:
    """The app checked its settings before this command could run; this adds what a production kiosk needs."""
    cfg, backend, public_url = ctx.config, ctx.config["SMS_BACKEND"], ctx.config["PUBLIC_URL"]
    problems: list[tuple[Status, str]] = []
    if cfg.get("DEBUG"):
        problems.append((FAIL, "Flask debug mode is on, which shows code to visitors: unset FLASK_DEBUG"))
    if cfg["DEMO"]:
        problems.append((FAIL, "demo mode is on (KIOSK_DEMO): its secret key is generated and its cookies may go over "
                               f"plain http; unset KIOSK_DEMO and set KIOSK_SECRET_KEY to a new key ({NEW_KEY})"))
    elif cfg["SECRET_KEY"] == _demo_key(cfg):
        problems.append((FAIL, f"KIOSK_SECRET_KEY is the demo's generated key: set a new one ({NEW_KEY})"))
    elif len(str(cfg["SECRET_KEY"])) < MIN_SECRET_KEY_LENGTH:
        problems.append((WARN, f"KIOSK_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters: set a new one "
                               f"({NEW_KEY})"))
    if not cfg["COOKIE_SECURE"] and not cfg["DEMO"]:
        problems.append((FAIL, "KIOSK_COOKIE_SECURE=0 lets cookies go over plain http: unset it"))
    if not public_url or not str(public_url).startswith("https://"):
        problems.append((FAIL if backend == "twilio" or public_url else WARN,
                         f"KIOSK_PUBLIC_URL is {_shown_url(public_url) if public_url else 'not set'}: set it to the "
                         "https address Twilio calls, such as https://kiosk.example.no"))
    if backend != "twilio":
        problems.append((WARN, f"the SMS backend is {backend}, which sends no SMS: set TWILIO_ACCOUNT_SID, "
                               "TWILIO_AUTH_TOKEN and TWILIO_FROM"))
    if problems:
        worst = FAIL if any(status == FAIL for status, _ in problems) else WARN
        text = "; ".join(problem for _, problem in problems)
        return Result(worst, "Settings", f"{text[0].upper()}{text[1:]}.")
    return Result(PASS, "Settings", f"SMS backend twilio; KIOSK_SECRET_KEY set, not the demo's; debug off; "
                                    f"KIOSK_PUBLIC_URL {_shown_url(public_url)}.")


def _demo_key(cfg: Mapping[str, Any]) -> str | None:
    # Where demo mode keeps the key it generates (kiosk/config.py): next to the database.
    try:
        return (Path(cfg["DATABASE"]).parent / "secret_key").read_text().strip()
    except OSError:
        return None


def check_database(ctx: Context) -> Result:
    path = ctx.config["DATABASE"]
    try:
        db = connect(path)  # a connection of its own: the file as it is now, not one opened earlier
        try:
            probe_write(db, timeout=DATABASE_WRITE_TIMEOUT)
        finally:
            db.close()
    except sqlite3.Error as e:
        return Result(FAIL, "Database", f"{path} cannot be written ({e}): the user that runs the kiosk must be able "
                                        "to write the file and its folder (SQLite keeps -wal and -shm files beside "
                                        "it), and the disk must not be full or mounted read-only.")
    return Result(PASS, "Database", f"{path} can be written.")


def check_migrations(ctx: Context) -> Result:
    try:
        db = connect(ctx.config["DATABASE"])
        try:
            pending = [migration.name for migration in migrations.pending(db)]
            applied = [migration.name for migration in migrations.applied(db)]
        finally:
            db.close()
    except sqlite3.Error as e:
        return Result(FAIL, "Migrations", f"The database cannot be read ({e}): see the Database line.")
    known = [migration.name for migration in migrations.pending(Database(memory=True))]  # all this version has
    unknown = [name for name in applied if name not in known]
    if pending:
        return Result(FAIL, "Migrations", f"{len(pending)} of {len(known)} migrations are not applied "
                                          f"({', '.join(pending)}): restart the kiosk, which applies them as it "
                                          "starts, and see its log if it does not start.")
    if unknown:
        return Result(WARN, "Migrations", f"The database has migrations this version does not know "
                                          f"({', '.join(unknown)}): a newer version of the kiosk upgraded it; deploy "
                                          "that version again.")
    return Result(PASS, "Migrations", f"All {len(known)} migrations are applied (the last: {known[-1]}).")


def check_disk(ctx: Context) -> Result:
    folder = Path(ctx.config["DATABASE"]).parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError as e:
        return Result(FAIL, "Disk", f"The free space in {folder} cannot be read ({e.strerror}).")
    where = f"{_size(free)} free where the database lives ({folder})"
    if free < DISK_FAIL_BYTES:
        return Result(FAIL, "Disk", f"Only {where}: SQLite stops writing when the disk is full, and check-ins then "
                                    "fail. Free some space, or move KIOSK_DATABASE to a larger disk.")
    if free < DISK_WARN_BYTES:
        return Result(WARN, "Disk", f"Only {where}, less than {_size(DISK_WARN_BYTES)}: free some space before it "
                                    f"runs out (below {_size(DISK_FAIL_BYTES)} this fails).")
    return Result(PASS, "Disk", f"{where[0].upper()}{where[1:]}.")


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def check_twilio_account(ctx: Context) -> Result:
    if ctx.twilio is None:
        return _not_twilio(ctx, "Twilio account")
    sid = ctx.config["TWILIO_ACCOUNT_SID"]
    try:
        account = ctx.twilio.api.v2010.accounts(sid).fetch()
    except TWILIO_ERRORS as e:
        return Result(FAIL, "Twilio account", _twilio_failure(ctx, e))
    if account.status != "active":
        return Result(FAIL, "Twilio account", f"Twilio account {_sid(sid)} is {account.status}, and sends no SMS: "
                                              "sign in to the Twilio console (Billing, and its notice of why), or ask "
                                              "Twilio support.")
    ctx.account_active = True
    return Result(PASS, "Twilio account", f"Twilio accepts TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; account "
                                          f"{_sid(sid)} is active.")


def check_sender(ctx: Context) -> Result:
    if ctx.twilio is None:
        return _not_twilio(ctx, "Sender")
    if not ctx.account_active:
        return Result(SKIP, "Sender", "Skipped because the Twilio account check did not pass.")
    service_sid, sender = ctx.config["TWILIO_MESSAGING_SERVICE_SID"], ctx.config["TWILIO_FROM"]
    try:
        if service_sid:  # the SMS backend sends through the service when both are set
            return _messaging_service(ctx, ctx.twilio, service_sid)
        if sender.startswith("+"):
            return _phone_number(ctx, ctx.twilio, sender)
    except TWILIO_ERRORS as e:
        return Result(FAIL, "Sender", _twilio_failure(ctx, e))
    return _alphanumeric_sender(ctx, sender)


def _messaging_service(ctx: Context, twilio: Client, sid: str) -> Result:
    try:
        service = twilio.messaging.v1.services(sid).fetch()
    except TwilioRestException as e:
        if e.status != 404:
            raise
        return Result(FAIL, "Sender", f"TWILIO_MESSAGING_SERVICE_SID {_sid(sid)} is not a messaging service of this "
                                      "Twilio account: copy its SID (MG…) from the Twilio console, Messaging → "
                                      "Services.")
    ctx.inbound = Inbound("The messaging service's", service.inbound_request_url or "", service.inbound_method or "",
                          "Messaging → Services → the service → Integration")
    return Result(PASS, "Sender", f"Messaging service {_sid(sid)} (TWILIO_MESSAGING_SERVICE_SID) is on this Twilio "
                                  "account.")


def _phone_number(ctx: Context, twilio: Client, sender: str) -> Result:
    shown = _masked(sender)
    if shown is None:
        return Result(FAIL, "Sender", "TWILIO_FROM starts with + but is not a phone number: write it as + and the "
                                      "country code and digits, without spaces.")
    found = [number for number in twilio.incoming_phone_numbers.list(phone_number=sender, limit=20)
             if number.phone_number == sender]
    if not found:
        return Result(FAIL, "Sender", f"TWILIO_FROM {shown} is not a phone number of this Twilio account: set it to "
                                      "one of the account's numbers (Phone Numbers → Active numbers), or buy or "
                                      "port this one.")
    ctx.inbound = Inbound("The number's", found[0].sms_url or "", found[0].sms_method or "",
                          "Phone Numbers → Active numbers → the number → Messaging")
    return Result(PASS, "Sender", f"TWILIO_FROM {shown} is a phone number of this Twilio account.")


def _alphanumeric_sender(ctx: Context, sender: str) -> Result:
    if not ALPHANUMERIC_SENDER.fullmatch(sender):
        return Result(FAIL, "Sender", "TWILIO_FROM is neither a phone number written +47… nor an alphanumeric "
                                      "sender ID (at most 11 letters, digits or spaces, one at least a letter).")
    ctx.no_inbound = "an alphanumeric sender ID receives no replies"
    return Result(PASS, "Sender", f"TWILIO_FROM {sender!r} is an alphanumeric sender ID. Twilio keeps no list of these "
                                  "to check it against: it works in the countries that accept alphanumeric senders "
                                  "(see Twilio's SMS guidelines for each), and nobody can reply to it.")


def _masked(number: str) -> str | None:
    """The number masked (+47 5** ** *00), or None if it is no possible phone number."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    return mask(number) if phonenumbers.is_possible_number(parsed) else None


def check_webhooks(ctx: Context) -> Result:
    if ctx.twilio is None:
        return _not_twilio(ctx, "Webhooks")
    public_url = ctx.config["PUBLIC_URL"]
    if not public_url:
        return Result(SKIP, "Webhooks", "Skipped because KIOSK_PUBLIC_URL is not set.")
    if ctx.inbound is None:
        return Result(SKIP, "Webhooks", f"Skipped because {ctx.no_inbound}.")
    inbound, expected = ctx.inbound, public_url.rstrip("/") + INBOUND_PATH
    todo = f"set it to {expected}, method POST, in the Twilio console ({inbound.where})"
    if not inbound.url:
        # Hosts are asked to reply (issue 14): with no webhook every reply is lost, every visit escalates.
        return Result(FAIL, "Webhooks", f"{inbound.owner} incoming-message webhook is not set, so hosts' replies to "
                                        "the arrival SMS go nowhere and reception is texted about every visit after "
                                        f"KIOSK_ESCALATE_MINUTES: {todo}.")
    if inbound.url != expected:
        return Result(FAIL, "Webhooks", f"{inbound.owner} incoming-message webhook is {_shown_url(inbound.url)}, so "
                                        f"hosts' replies (their numbers and words) go there instead: {todo}.")
    if inbound.method.upper() != "POST":
        return Result(FAIL, "Webhooks", f"{inbound.owner} incoming-message webhook uses {inbound.method}, and the "
                                        f"kiosk answers POST only: {todo}.")
    return Result(PASS, "Webhooks", f"{inbound.owner} incoming-message webhook is {expected} (POST).")


def check_public_url(ctx: Context) -> Result:
    public_url = ctx.config["PUBLIC_URL"]
    if not public_url:
        return Result(SKIP, "Public URL", "Skipped because KIOSK_PUBLIC_URL is not set.")
    url = _shown_url(public_url.rstrip("/") + "/healthz")
    if not public_url.startswith("https://"):
        return Result(FAIL, "Public URL", f"KIOSK_PUBLIC_URL is not https ({_shown_url(public_url)}): Twilio calls "
                                          "webhooks over https with a CA-issued certificate. Set it to the https "
                                          "address of the TLS proxy in front of the kiosk.")
    try:
        response = requests.get(public_url.rstrip("/") + "/healthz", timeout=NETWORK_TIMEOUT, allow_redirects=False)
    except requests.exceptions.SSLError as e:
        return Result(FAIL, "Public URL", f"The TLS certificate of {urlsplit(url).netloc} is refused "
                                          f"({_tls_reason(e)}): install one from a public CA, such as Let's Encrypt, "
                                          "with its full chain on the proxy; Twilio refuses any other.")
    except requests.Timeout:
        return Result(FAIL, "Public URL", f"{url} did not answer within {NETWORK_TIMEOUT} s: check that the proxy "
                                          "and the kiosk are running, and that the firewall lets HTTPS in.")
    except requests.RequestException:
        return Result(FAIL, "Public URL", f"Nothing answered at {url}: check its DNS name, that the proxy and the "
                                          "kiosk are running, and that the firewall lets HTTPS in.")
    if response.headers.get("Date"):
        ctx.clocks.append(Clock("the public URL's", response.headers["Date"], time.time()))
    return _health(url, response)


def _health(url: str, response: requests.Response) -> Result:
    if response.is_redirect:
        return Result(FAIL, "Public URL", f"{url} redirects to {_shown_url(response.headers['Location'])}: set "
                                          "KIOSK_PUBLIC_URL to the address itself (Twilio's signature covers it).")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "database" not in body:
        return Result(FAIL, "Public URL", f"{url} answered HTTP {response.status_code}, but not as the kiosk does: "
                                          "check that KIOSK_PUBLIC_URL is this kiosk's address and that the proxy "
                                          "forwards it to gunicorn (KIOSK_BIND).")
    if response.status_code != 200 or body.get("status") != "ok":
        return Result(FAIL, "Public URL", f"{url} answered HTTP {response.status_code}, database "
                                          f"{body.get('database')}: the kiosk that serves it is not healthy; see its "
                                          "log, and the Database line if this is the same server.")
    return Result(PASS, "Public URL", f"{url} answered ok over https, with a trusted certificate.")


def _tls_reason(error: requests.exceptions.SSLError) -> str:
    found = re.search(r"certificate verify failed: ([^(]+?)\s*\(", str(error))
    return found.group(1) if found else "the TLS handshake failed"


def check_clock(ctx: Context) -> Result:
    readings = [clock for clock in ctx.clocks if clock.skew() is not None]
    if not readings:
        return Result(SKIP, "Clock", "Skipped because neither Twilio nor KIOSK_PUBLIC_URL answered with a time to "
                                     "compare with.")
    clock = readings[0]  # Twilio's, when it answered: the checks that ask Twilio run first
    skew = clock.skew() or 0.0
    if abs(skew) > CLOCK_MAX_SKEW_SECONDS:
        return Result(FAIL, "Clock", f"This server's clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} "
                                     f"{clock.owner} (more than {CLOCK_MAX_SKEW_SECONDS} s): TLS certificate checks, "
                                     "OIDC sign-in and every time in SMS, statistics and retention need the right "
                                     "time. Turn on time sync: `timedatectl set-ntp true` (systemd-timesyncd), or "
                                     "install chrony.")
    note = " (which may be this server's own clock)" if clock.owner == "the public URL's" else ""
    return Result(PASS, "Clock", f"This server's clock is within {max(1, round(abs(skew)))} s of {clock.owner}"
                                 f"{note}; the limit is {CLOCK_MAX_SKEW_SECONDS} s.")


def _twilio_failure(ctx: Context, error: Exception) -> str:
    """What went wrong in plain words, with Twilio's codes but never its message, which can quote a number."""
    host = urlsplit(_shown_url(ctx.config["TWILIO_API_URL"])).netloc
    if isinstance(error, TwilioRestException) and error.status == 401:
        return (f"Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (HTTP 401, error {error.code}): copy both "
                "again from the Twilio console, Account info (an auth token stops working once it is rotated).")
    if isinstance(error, TwilioRestException):
        return (f"Twilio answered HTTP {error.status}, error {error.code}: see "
                f"https://www.twilio.com/docs/errors/{error.code}.")
    if isinstance(error, requests.Timeout):
        return f"Twilio did not answer within {NETWORK_TIMEOUT} s: check that this server reaches {host} over HTTPS."
    if isinstance(error, requests.RequestException | TwilioException):
        return (f"Twilio could not be reached at {host} ({type(error).__name__}): check DNS, the firewall and any "
                "HTTPS proxy.")
    return "Twilio's answer could not be read: something between this server and Twilio may answer in its place."


def _not_twilio(ctx: Context, title: str) -> Result:
    return Result(SKIP, title, f"Skipped because the SMS backend is {ctx.config['SMS_BACKEND']}, not twilio.")


def _sid(sid: str) -> str:
    """AC…cdef: enough of a SID to tell which, no more."""
    return f"{sid[:2]}…{sid[-4:]}"


def _shown_url(url: str) -> str:
    """The URL without a user name and password (Twilio webhooks may carry them)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


CHECKS: list[Callable[[Context], Result]] = [
    check_settings, check_database, check_migrations, check_disk, check_twilio_account, check_sender,
    check_webhooks, check_public_url, check_clock,
]


def run(config: Mapping[str, Any]) -> list[Result]:
    ctx = make_context(config)
    return [check(ctx) for check in CHECKS]


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check this deployment: settings, database, disk, Twilio, webhooks, the public URL, the clock.

    One line per check, PASS, WARN, FAIL or SKIP, with what to do about a failure. Exits with 1 when a check failed.
    """
    results = run(current_app.config)
    for result in results:
        click.echo(str(result))
    counts = Counter(result.status for result in results)
    click.echo(f"\n{len(results)} checks: {counts[PASS]} passed, {counts[WARN]} with a warning, {counts[FAIL]} failed, "
               f"{counts[SKIP]} skipped.")
    if counts[FAIL]:
        click.echo("Do what the FAIL lines say, then run `flask --app app doctor` again.")
        raise SystemExit(1)
