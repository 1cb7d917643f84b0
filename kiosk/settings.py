"""Settings an office changes from the admin area, stored in the database; the environment is the default.

Read them with setting(KEY) (also a Jinja global); everything else stays in app.config.

The welcome text is one setting per kiosk language: WELCOME_TEXT is the default language's (KIOSK_WELCOME_TEXT),
WELCOME_TEXT_SV and so on each other language's own, with no environment default. welcome_text() (a Jinja global)
picks the visitor's.
"""

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Flask, current_app, g, has_app_context
from flask_babel import get_locale
from sqlite_utils import Database

from kiosk.db import get_db, timestamp, write_transaction
from kiosk.i18n import LANGUAGES, default_locale
from kiosk.phone import PhoneNumber


def welcome_key(code: str) -> str:
    """The setting that holds a language's own welcome text: WELCOME_TEXT_SV for sv. Upper case, as the audit log
    takes setting keys only in upper case; the default language's text is WELCOME_TEXT itself."""
    return f"WELCOME_TEXT_{code.upper()}"


WELCOME_TEXTS = tuple(welcome_key(code) for code in LANGUAGES)  # stored in the settings table only

# The settings an admin may change, with the app.config key that gives each its default.
EDITABLE = (
    "COMPANY_NAME",
    "WELCOME_TEXT",
    *WELCOME_TEXTS,
    "ACCENT_COLOR",
    "RECEPTION_PHONE",
    "SMS_PER_NUMBER_PER_HOUR",
    "SMS_PER_NUMBER_PER_DAY",
    "SMS_PREFIX_NUMBERS_PER_HOUR",
    "SMS_BUDGET_PER_HOUR",
    "SMS_BUDGET_PER_DAY",
    "CHECKINS_PER_DEVICE_PER_HOUR",
    "BADGE",
)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(setting=setting, welcome_text=welcome_text)


def default(key: str) -> Any:
    """An editable setting's default: its app.config value; a language's own welcome text has none."""
    return None if key in WELCOME_TEXTS else current_app.config[key]


def setting(key: str) -> Any:
    """The current location's own value (kiosk/locations: a tablet's pages, a visit's SMS), else the database value
    of an editable setting, else its app.config default."""
    own = location_override(key)
    if own is not None:
        return own
    if "settings" not in g:
        g.settings = {key: json.loads(value) for key, value in get_db().execute("SELECT key, value FROM settings")}
    return g.settings.get(key, default(key))


def location_override(key: str) -> Any:
    """The value the location the app works for now (g.location, set by kiosk.locations) gives `key`, or None."""
    location = g.get("location") if has_app_context() else None
    return location.override(key) if location is not None else None


class WelcomeText(NamedTuple):
    text: str
    language: str  # the language it is written in


def welcome_text(locale: str | None = None) -> WelcomeText | None:
    """The welcome text in `locale` (the page's language): its own, else the default language's, else None."""
    code = locale or str(get_locale())
    if code != default_locale() and (text := setting(welcome_key(code))):
        return WelcomeText(text, code)
    text = setting("WELCOME_TEXT")
    return WelcomeText(text, default_locale()) if text else None


def save_settings(db: Database, values: Mapping[str, object]) -> None:
    """Store changed editable settings (a dict); a value equal to the default removes the override."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise KeyError(f"not editable: {', '.join(sorted(unknown))}")
    now = timestamp()
    with write_transaction(db):
        for key, value in values.items():
            if value == default(key):
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                db.execute("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
                           [key, json.dumps(value), now])
    g.pop("settings", None)


def reception_phone() -> PhoneNumber | None:
    """The reception mobile (RECEPTION_PHONE, editable in the admin area) as a PhoneNumber, or None."""
    raw = setting("RECEPTION_PHONE")
    return PhoneNumber.parse(raw, region=current_app.config["DEFAULT_REGION"]) if raw else None
