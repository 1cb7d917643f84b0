"""Settings an office changes from the admin area, stored in the database; the environment is the default.

Read them with setting(KEY) (also a Jinja global); everything else stays in app.config.
"""

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g
from sqlite_utils import Database

from kiosk.db import get_db, timestamp, write_transaction
from kiosk.phone import PhoneNumber

# The settings an admin may change, with the app.config key that gives each its default.
EDITABLE = (
    "COMPANY_NAME",
    "WELCOME_TEXT",
    "ACCENT_COLOR",
    "RECEPTION_PHONE",
    "SMS_PER_NUMBER_PER_HOUR",
    "SMS_PER_NUMBER_PER_DAY",
    "SMS_PREFIX_NUMBERS_PER_HOUR",
    "SMS_BUDGET_PER_HOUR",
    "SMS_BUDGET_PER_DAY",
    "CHECKINS_PER_DEVICE_PER_HOUR",
)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["setting"] = setting


def setting(key: str) -> Any:
    """The database value of an editable setting, else its app.config default."""
    if "settings" not in g:
        g.settings = {key: json.loads(value) for key, value in get_db().execute("SELECT key, value FROM settings")}
    return g.settings.get(key, current_app.config[key])


def save_settings(db: Database, values: Mapping[str, object]) -> None:
    """Store changed editable settings (a dict); a value equal to the default removes the override."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise KeyError(f"not editable: {', '.join(sorted(unknown))}")
    now = timestamp()
    with write_transaction(db):
        for key, value in values.items():
            if value == current_app.config[key]:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                db.execute("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
                           [key, json.dumps(value), now])
    g.pop("settings", None)


def reception_phone() -> PhoneNumber | None:
    """The reception mobile (RECEPTION_PHONE, editable in the admin area) as a PhoneNumber, or None."""
    raw = setting("RECEPTION_PHONE")
    return PhoneNumber.parse(raw, region=current_app.config["DEFAULT_REGION"]) if raw else None
