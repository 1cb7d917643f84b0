"""Named settings with safe defaults, read from KIOSK_* (and TWILIO_*) environment variables.

create_app(test_config) skips the environment entirely, so tests never depend on it.
"""

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import Config, Flask

from kiosk.backup import DEFAULT_RETENTION_HOURS, check_replica_url, max_retention_hours
from kiosk.db import DEFAULT_TIMEZONE
from kiosk.phone import InvalidPhoneError, PhoneNumber

SMS_BACKENDS = ("twilio", "console", "fake")
BADGE_SIZES = ("label62", "a7")  # static/css/badge.css has a page size for each


@dataclass(frozen=True)
class Setting:
    """A named setting: its default, and the kind of value its environment text is read as (None: kept as given).

    This table is the one place a setting is declared; tests/test_docs.py checks that the README's table lists
    each one with this default."""

    default: object
    kind: type | None = None


SETTINGS = {
    "DATABASE": Setting(None),  # instance/kiosk.db
    "SECRET_KEY": Setting(None),
    "DEMO": Setting(False, bool),
    "SMS_BACKEND": Setting(None),  # twilio when TWILIO_ACCOUNT_SID is set, else console
    "TWILIO_ACCOUNT_SID": Setting(None),
    "TWILIO_AUTH_TOKEN": Setting(None),
    "TWILIO_FROM": Setting(None, str),
    "TWILIO_MESSAGING_SERVICE_SID": Setting(None),
    "TWILIO_API_URL": Setting("https://api.twilio.com"),
    "PUBLIC_URL": Setting(None),
    "COMPANY_NAME": Setting("Velkommen", str),
    "DEFAULT_REGION": Setting("NO", str),
    "ALLOWED_COUNTRIES": Setting("NO,SE,DK,FI"),
    "RECEPTION_PHONE": Setting(None, str),
    "DEFAULT_LOCALE": Setting("nb", str),
    "TIMEZONE": Setting(DEFAULT_TIMEZONE, str),
    "SEARCH_MIN_CHARS": Setting(2, int),
    "SEARCH_LIMIT": Setting(8, int),
    "NAME_MAX_LENGTH": Setting(60, int),
    "IDLE_SECONDS": Setting(60, int),
    "STATUS_RESET_SECONDS": Setting(10, int),
    "SMS_TIMEOUT_SECONDS": Setting(10, float),
    "SMS_RETRY_WINDOW_SECONDS": Setting(600, float),
    "SMS_RETRY_BASE_SECONDS": Setting(2.0, float),
    "SMS_RETRY_MAX_SECONDS": Setting(60.0, float),
    "SMS_WORKERS": Setting(4, int),
    # Reception is texted when the host's SMS has not been accepted this long after check-in (issue 8).
    "HOST_ESCALATE_SECONDS": Setting(60, float),
    # How often each worker settles messages left in flight (kiosk/messaging/sweeper.py); 0: never.
    "SWEEP_SECONDS": Setting(15, float),
    # Host replies (issue 14, docs/sms.md): a reply is matched to the host's latest visit this recent; the welcome
    # screen's "On the way" board shows a reply this long (0: no board); reception is texted when a host has not
    # replied this long after check-in (0: never). Only while replies can reach us (KIOSK_PUBLIC_URL).
    "REPLY_WINDOW_MINUTES": Setting(30, int),
    "ON_THE_WAY_MINUTES": Setting(10, int),
    "ESCALATE_MINUTES": Setting(5, int),
    "VISIT_RETENTION_DAYS": Setting(30, int),
    "MAX_CONTENT_LENGTH": Setting(2 * 1024 * 1024),
    "LOG_LEVEL": Setting("INFO", str),
    "WELCOME_TEXT": Setting("", str),
    "ACCENT_COLOR": Setting("#0b5cad", str),
    # Abuse guard (SECURITY.md R4-R8); the office can change the SMS_* and CHECKINS_* limits in the admin area.
    "SMS_PER_NUMBER_PER_HOUR": Setting(3, int),
    "SMS_PER_NUMBER_PER_DAY": Setting(5, int),
    "SMS_PREFIX_NUMBERS_PER_HOUR": Setting(10, int),
    "SMS_BUDGET_PER_HOUR": Setting(40, int),
    "SMS_BUDGET_PER_DAY": Setting(200, int),
    "CHECKINS_PER_DEVICE_PER_HOUR": Setting(60, int),
    "FORM_MIN_SECONDS": Setting(3, int),
    "FORM_MAX_SECONDS": Setting(900, int),
    # Admin sessions (R22) and login lockout (R30).
    "ADMIN_IDLE_MINUTES": Setting(15, int),
    "ADMIN_SESSION_HOURS": Setting(12, int),
    "LOGIN_MAX_FAILURES": Setting(10, int),
    "PAIRING_CODE_MINUTES": Setting(10, int),
    # Twilio webhooks (R19): redact a message's body at Twilio once its status is final.
    "TWILIO_REDACT": Setting(False, bool),
    # Cookies are Secure with a __Host- name (R21); off by default only in demo mode, which runs on plain http.
    "COOKIE_SECURE": Setting(None, bool),
    # A logo file on the server (SVG, PNG, JPEG or WebP, at most 200 KB), shown in the kiosk's header.
    "LOGO_FILE": Setting(None),
    # School visits (issue 4): roster size, and days to keep a visit after its day ends (0: at midnight, Oslo).
    "ROSTER_MAX_ROWS": Setting(2000, int),
    "SCHOOL_VISIT_KEEP_DAYS": Setting(0, int),
    # The version of the privacy policy that an apprenticeship consent is given under, kept with each consent.
    "CONSENT_POLICY_VERSION": Setting("1", str),
    # Metrics (issue 13, docs/monitoring.md): /metrics answers a scraper that sends this as its bearer token; while it
    # is unset, /metrics is a 404 and nothing is exposed.
    "METRICS_TOKEN": Setting(None, str),
    # OIDC sign-in for the admin area (issue 12, docs/oidc.md): the provider, this app's registration with it, and who
    # may enter. Nobody may while neither OIDC_ADMIN_GROUP nor OIDC_ALLOWED_DOMAINS is set (the check below says so).
    # LOCAL_LOGIN=0 hides the password form; `flask --app app admin create` still works, for break-glass.
    "OIDC_ISSUER": Setting(None, str),
    "OIDC_CLIENT_ID": Setting(None, str),
    "OIDC_CLIENT_SECRET": Setting(None, str),
    "OIDC_ADMIN_GROUP": Setting(None, str),
    "OIDC_ALLOWED_DOMAINS": Setting(None),
    # Issue 16: groups (or app roles) that make an account an admin of one location: "Bergen=group-id; Oslo=…".
    "OIDC_LOCATION_GROUPS": Setting(None),
    "OIDC_NAME": Setting(None, str),  # the sign-in button's "Sign in with ...", such as "Microsoft"
    "OIDC_SCOPES": Setting("openid email profile", str),  # Okta's org authorization server sends groups for "groups"
    "LOCAL_LOGIN": Setting(1, bool),
    # Backups (issue 13, docs/backups.md): Litestream's replica, file:///folder or s3://bucket/path, and how long
    # it keeps a snapshot; deleted data then leaves the replica within retention + 2 hours (kiosk/backup.py).
    "BACKUP_REPLICA": Setting(None, str),
    "BACKUP_RETENTION_HOURS": Setting(DEFAULT_RETENTION_HOURS, int),
    "BACKUP_S3_ENDPOINT": Setting(None, str),  # an S3-compatible service's address (MinIO, Backblaze, Scaleway…)
    # Logs: "text" (one readable line per record) or "json" (one JSON object per line, for a log collector).
    "LOG_FORMAT": Setting("text", str),
    # The visitor badge (issue 15): the tablet prints one after a check-in (BADGE, also in the admin area), on 62 mm
    # continuous labels cut at 100 mm or on A7 (BADGE_SIZE). The browser builds it; the server never sees it.
    "BADGE": Setting(False, bool),
    "BADGE_SIZE": Setting("label62", str),
}
DEFAULTS = {name: setting.default for name, setting in SETTINGS.items()}

# Twilio's own variable names, read without the KIOSK_ prefix.
TWILIO_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID")
# Read exactly as written: from_prefixed_env() parses JSON, which would turn a secret such as 1e5 into 100000.0.
VERBATIM_ENV = ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ADMIN_GROUP", "METRICS_TOKEN")
OIDC_REQUIRED = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
METRICS_TOKEN_MIN_LENGTH = 32
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


class ConfigError(Exception):
    """The configuration cannot work; the message says what to change."""


def load(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("KIOSK")
        app.config.update({key: os.environ[key] for key in TWILIO_ENV if os.environ.get(key)})
        app.config.update({key: os.environ[f"KIOSK_{key}"] for key in VERBATIM_ENV if os.environ.get(f"KIOSK_{key}")})
    else:
        app.config.update(test_config)
    _normalise(app)
    _check(app.config)


def _normalise(app: Flask) -> None:
    cfg = app.config
    _coerce_types(cfg)
    cfg["DEFAULT_REGION"] = (cfg["DEFAULT_REGION"] or "").upper()
    cfg["LOG_LEVEL"] = (cfg["LOG_LEVEL"] or "INFO").upper()
    cfg["BADGE_SIZE"] = (cfg["BADGE_SIZE"] or "").lower()
    if isinstance(cfg["ALLOWED_COUNTRIES"], str):
        cfg["ALLOWED_COUNTRIES"] = tuple(c.strip().upper() for c in cfg["ALLOWED_COUNTRIES"].split(",") if c.strip())
    domains = cfg["OIDC_ALLOWED_DOMAINS"] or ()
    if isinstance(domains, str):
        domains = domains.split(",")
    cfg["OIDC_ALLOWED_DOMAINS"] = tuple(str(d).strip().lstrip("@").lower() for d in domains if str(d).strip())
    cfg["OIDC_LOCATION_GROUPS"] = _location_groups(cfg["OIDC_LOCATION_GROUPS"])
    if not cfg["DATABASE"]:
        cfg["DATABASE"] = str(Path(app.instance_path) / "kiosk.db")
    if not cfg["SMS_BACKEND"]:
        cfg["SMS_BACKEND"] = "twilio" if cfg["TWILIO_ACCOUNT_SID"] else "console"
    if not cfg["SECRET_KEY"] and cfg["DEMO"]:
        cfg["SECRET_KEY"] = _demo_secret_key(Path(cfg["DATABASE"]).parent)
    _cookies(cfg)


def _coerce_types(cfg: Config) -> None:
    # from_prefixed_env() parses values as JSON, so KIOSK_RECEPTION_PHONE=41234567 arrives as an int.
    if cfg["COOKIE_SECURE"] is None:
        cfg["COOKIE_SECURE"] = not _flag(cfg["DEMO"])
    for key, setting in SETTINGS.items():
        if setting.kind is str and cfg[key] is not None:
            cfg[key] = str(cfg[key]).strip() or None
        elif setting.kind is bool:
            cfg[key] = _flag(cfg[key])
        elif setting.kind in (int, float):
            try:
                cfg[key] = setting.kind(cfg[key])
            except (TypeError, ValueError) as e:
                raise ConfigError(f"KIOSK_{key} is not a number: {cfg[key]!r}.") from e


def _flag(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def _cookies(cfg: Config) -> None:
    secure = cfg["COOKIE_SECURE"]
    cfg.update(
        SESSION_COOKIE_NAME="__Host-session" if secure else "velkommen_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        DEVICE_COOKIE_NAME="__Host-kiosk_device" if secure else "kiosk_device",
        # A sign-in with the OIDC provider under way (kiosk/admin/oidc.py): SameSite=Lax, for the provider's redirect.
        OIDC_COOKIE_NAME="__Host-oidc_sign_in" if secure else "velkommen_oidc_sign_in",
    )


def _check(cfg: Config) -> None:
    problems = [*_backend_problems(cfg), *_region_problems(cfg), *_value_problems(cfg), *_sign_in_problems(cfg)]
    if problems:
        raise ConfigError("Velkommen cannot start:\n  " + "\n  ".join(problems))


def _backend_problems(cfg: Config) -> Iterator[str]:
    if not cfg["SECRET_KEY"]:
        yield ("KIOSK_SECRET_KEY is not set. For the demo that `make run` starts, set KIOSK_DEMO=1 (it keeps a "
               "generated key in instance/), as in: KIOSK_DEMO=1 flask --app app admin create NAME")
    if cfg["SMS_BACKEND"] not in SMS_BACKENDS:
        yield f"KIOSK_SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}."
    if cfg["SMS_BACKEND"] == "twilio":
        if not (cfg["TWILIO_ACCOUNT_SID"] and cfg["TWILIO_AUTH_TOKEN"]):
            yield "The twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
        if not (cfg["TWILIO_FROM"] or cfg["TWILIO_MESSAGING_SERVICE_SID"]):
            yield "The twilio SMS backend needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID."


def _region_problems(cfg: Config) -> Iterator[str]:
    regions = phonenumbers.SUPPORTED_REGIONS
    if cfg["DEFAULT_REGION"] not in regions:
        yield f"KIOSK_DEFAULT_REGION {cfg['DEFAULT_REGION']!r} is not a known region code, such as NO."
    if not cfg["ALLOWED_COUNTRIES"] or any(c not in regions for c in cfg["ALLOWED_COUNTRIES"]):
        yield "KIOSK_ALLOWED_COUNTRIES must list region codes, such as NO,SE,DK,FI."
    if cfg["RECEPTION_PHONE"] and cfg["DEFAULT_REGION"] in regions:
        try:
            PhoneNumber.parse(cfg["RECEPTION_PHONE"], region=cfg["DEFAULT_REGION"])
        except InvalidPhoneError as e:
            yield f"KIOSK_RECEPTION_PHONE is not a mobile number: {e.message}"


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".webp": "image/webp"}
LOGO_MAX_BYTES = 200 * 1024


def _logo_problems(cfg: Config) -> Iterator[str]:
    logo = cfg["LOGO_FILE"]
    if not logo:
        return
    path = Path(str(logo))
    if path.suffix.lower() not in LOGO_TYPES or not path.is_file():
        yield f"KIOSK_LOGO_FILE must name an SVG, PNG, JPEG or WebP file on this server: {path} is not one."
    elif path.stat().st_size > LOGO_MAX_BYTES:
        yield "KIOSK_LOGO_FILE is larger than 200 KB: the kiosk page must stay light."


def _value_problems(cfg: Config) -> Iterator[str]:
    yield from _logo_problems(cfg)
    trial = cfg["DEMO"] or cfg.get("TESTING")
    if cfg["PUBLIC_URL"] and not str(cfg["PUBLIC_URL"]).startswith("https://") and not trial:
        yield "KIOSK_PUBLIC_URL must start with https://: Twilio sends webhooks there (R12)."
    if cfg.get("DEBUG") and not trial:
        yield "Flask debug mode is on: it shows code and lets visitors run it. Unset FLASK_DEBUG (R32)."
    if cfg["SEARCH_MIN_CHARS"] < 1 or cfg["SEARCH_LIMIT"] < 1:
        yield "KIOSK_SEARCH_MIN_CHARS and KIOSK_SEARCH_LIMIT must be at least 1."
    if cfg["LOG_LEVEL"] not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        yield "KIOSK_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR."
    if cfg["LOG_FORMAT"] not in ("text", "json"):
        yield "KIOSK_LOG_FORMAT must be text or json."
    if cfg["BADGE_SIZE"] not in BADGE_SIZES:
        yield (f"KIOSK_BADGE_SIZE must be label62 (62 mm continuous labels, cut at 100 mm) or a7 (74 × 105 mm), "
               f"not {cfg['BADGE_SIZE']!r}.")
    yield from _backup_problems(cfg)
    try:
        ZoneInfo(str(cfg["TIMEZONE"]))
    except (ValueError, OSError, ZoneInfoNotFoundError):  # "Europe" is a folder of zones: IsADirectoryError
        yield f"KIOSK_TIMEZONE {cfg['TIMEZONE']!r} is not a time zone name, such as Europe/Oslo."
    if not is_colour(cfg["ACCENT_COLOR"]):
        yield "KIOSK_ACCENT_COLOR must be a colour written #rrggbb, like #0b5cad."
    if cfg["METRICS_TOKEN"] and len(cfg["METRICS_TOKEN"]) < METRICS_TOKEN_MIN_LENGTH:
        yield (f"KIOSK_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters long, such as the output "
               "of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")


def _backup_problems(cfg: Config) -> Iterator[str]:
    longest = max_retention_hours()
    if not 1 <= cfg["BACKUP_RETENTION_HOURS"] <= longest:
        yield (f"KIOSK_BACKUP_RETENTION_HOURS must be between 1 and {longest}: deleted data stays in a backup for the "
               "retention and up to two hours more, and the policy allows 24 hours at most.")
    if cfg["BACKUP_REPLICA"] and (problem := check_replica_url(cfg["BACKUP_REPLICA"])):
        yield problem


def _location_groups(value: object) -> dict[str, str]:
    """KIOSK_OIDC_LOCATION_GROUPS, "Bergen=group-id; Oslo=other-id", as {location name: group}; a dict is kept. A
    pair without "=" keeps an empty group, which _sign_in_problems reports."""
    if isinstance(value, Mapping):
        return {str(name).strip(): str(group).strip() for name, group in value.items()}
    pairs = (pair.partition("=") for pair in str(value or "").split(";") if pair.strip())
    return {name.strip(): group.strip() for name, _, group in pairs}


def oidc_configured(cfg: Mapping[str, Any]) -> bool:
    """True when OIDC sign-in is set up: the provider, the client id and its secret."""
    return all(cfg[key] for key in OIDC_REQUIRED)


def _sign_in_problems(cfg: Config) -> Iterator[str]:
    """OIDC settings that cannot work, and a configuration that lets nobody into the admin area. The messages name
    settings, never the client secret's value."""
    missing = [f"KIOSK_{key}" for key in OIDC_REQUIRED if not cfg[key]]
    if 0 < len(missing) < len(OIDC_REQUIRED):
        yield (f"OIDC sign-in needs KIOSK_OIDC_ISSUER, KIOSK_OIDC_CLIENT_ID and KIOSK_OIDC_CLIENT_SECRET: "
               f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.")
    if not all(_DOMAIN.fullmatch(domain) for domain in cfg["OIDC_ALLOWED_DOMAINS"]):
        yield "KIOSK_OIDC_ALLOWED_DOMAINS must list e-mail domains separated by commas, such as example.com,example.no."
    if not all(name and group for name, group in cfg["OIDC_LOCATION_GROUPS"].items()):
        yield ("KIOSK_OIDC_LOCATION_GROUPS must pair each location's name with a group, separated by semicolons, such "
               "as: Bergen=kiosk-admins-bergen; Oslo=kiosk-admins-oslo.")
    if oidc_configured(cfg):
        if not cfg["OIDC_ADMIN_GROUP"] and not cfg["OIDC_ALLOWED_DOMAINS"] and not cfg["OIDC_LOCATION_GROUPS"]:
            yield ("OIDC sign-in is set up, but nobody may use it: set KIOSK_OIDC_ADMIN_GROUP (a group or app role "
                   "that admins have) or KIOSK_OIDC_ALLOWED_DOMAINS (e-mail domains whose accounts may enter).")
        if "openid" not in str(cfg["OIDC_SCOPES"]).split():
            yield "KIOSK_OIDC_SCOPES must include openid, such as: openid email profile."
        if not str(cfg["OIDC_ISSUER"]).startswith("https://") and not (cfg["DEMO"] or cfg.get("TESTING")):
            yield "KIOSK_OIDC_ISSUER must start with https://: the sign-in is only as safe as the way to the provider."
    elif not cfg["LOCAL_LOGIN"]:
        yield ("KIOSK_LOCAL_LOGIN=0 switches off passwords, but OIDC sign-in is not set up, so nobody could sign in. "
               "Set KIOSK_OIDC_ISSUER, KIOSK_OIDC_CLIENT_ID and KIOSK_OIDC_CLIENT_SECRET, or KIOSK_LOCAL_LOGIN=1.")


def is_colour(value: object) -> bool:
    """True for a colour written #rrggbb: the only form the brand stylesheet and theme-color accept."""
    return isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value) is not None


def _demo_secret_key(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()
