"""Locations (issue 16): the offices of one installation, each with its tablets and its own settings.

A location's fields override the installation's settings of the same meaning (OVERRIDES: the setting each one
stands for); an empty field follows the installation. Wherever the app works for one location — a tablet's pages, a
phone's pages, an SMS about a visit made on a tablet — `at(location)` makes it the current one, and settings.setting(),
i18n.default_locale() and db.office_timezone() read its overrides. Outside of it, the installation's settings hold.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import cast

from flask import g
from sqlite_utils import Database

from kiosk.db import query_one, query_value, timestamp

DEFAULT_ID = 1  # the location an upgraded single office became (m013)
# A location's field -> the installation setting (app.config key) it overrides.
OVERRIDES = {"company_name": "COMPANY_NAME", "welcome_text": "WELCOME_TEXT", "reception_phone": "RECEPTION_PHONE",
             "default_locale": "DEFAULT_LOCALE", "timezone": "TIMEZONE"}


class LocationError(Exception):
    """A location cannot be saved as asked (its name is taken); the message says why in plain words."""


@dataclass(frozen=True)
class Location:
    id: int
    name: str
    timezone: str | None = None
    default_locale: str | None = None
    reception_phone: str | None = None
    welcome_text: str | None = None
    company_name: str | None = None

    def override(self, setting: str) -> str | None:
        """This location's own value for an installation setting, or None to follow the installation."""
        for field, key in OVERRIDES.items():
            if key == setting:
                value = getattr(self, field)
                return value if value else None
        return None


_COLUMNS = ", ".join(field.name for field in fields(Location))


def list_locations(db: Database) -> list[Location]:
    return [Location(**row) for row in db.query(f"SELECT {_COLUMNS} FROM locations ORDER BY name")]  # noqa: S608


def get_location(db: Database, location_id: int | str | None) -> Location | None:
    row = query_one(db, f"SELECT {_COLUMNS} FROM locations WHERE id = ?", [location_id])  # noqa: S608
    return Location(**row) if row else None


def count(db: Database) -> int:
    return int(query_value(db, "SELECT count(*) FROM locations"))


def save_location(db: Database, location_id: int | None, values: dict[str, str | None]) -> int:
    """Create (location_id None) or change a location; returns its id. Raises LocationError for a name in use."""
    taken = query_value(db, "SELECT id FROM locations WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
                        [values["name"], location_id])
    if taken is not None:
        raise LocationError(f"There is a location called {values['name']} already.")
    row = {key: values.get(key) or None for key in ("name", *OVERRIDES)}
    try:
        if location_id is None:
            return cast(int, db.table("locations").insert({**row, "created_at": timestamp()}).last_pk)
        db.table("locations").update(location_id, {**row, "updated_at": timestamp()})
    except sqlite3.IntegrityError:  # another admin saved that name a moment ago
        raise LocationError(f"There is a location called {values['name']} already.") from None
    return location_id


def of_device(db: Database, device_id: int | str | None) -> Location | None:
    """The location of a tablet (None for no tablet, or one that no longer exists)."""
    if device_id is None:
        return None
    return get_location(db, query_value(db, "SELECT location_id FROM devices WHERE id = ?", [device_id]))


def of_visit(db: Database, visit_id: str) -> Location | None:
    """The location of the tablet a visit was made on."""
    return of_device(db, query_value(db, "SELECT kiosk_id FROM visits WHERE id = ?", [visit_id]))


def current() -> Location | None:
    """The location the app works for now (at()), or None: the installation's settings hold."""
    return g.get("location")


def current_id() -> int:
    """The id of the location the app works for now; the first location's outside of any (a command, a test)."""
    location = current()
    return location.id if location is not None else DEFAULT_ID


@contextmanager
def at(location: Location | None) -> Iterator[None]:
    """Work for `location` (None: the installation) inside the block; the settings read follow it."""
    before = g.get("location")
    g.location = location
    try:
        yield
    finally:
        g.location = before


def enter(location: Location | None) -> None:
    """Work for `location` for the rest of the request (a tablet's or a phone's)."""
    g.location = location


def several(db: Database) -> bool:
    """Whether there is more than one location: SMS and screens then name the location."""
    return count(db) > 1
