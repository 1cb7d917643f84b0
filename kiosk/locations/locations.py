"""Locations (issue 16): the offices of one installation, each with its tablets and its own settings.

A location's fields override the installation's settings of the same meaning (OVERRIDES: the setting each one
stands for); an empty field follows the installation. Wherever the app works for one location — a tablet's pages, a
phone's pages, an SMS about a visit made on a tablet — `at(location)` makes it the current one, and settings.setting(),
i18n.default_locale() and db.office_timezone() read its overrides. Outside of it, the installation's settings hold.

Besides: a visitor SMS budget of its own, under the installation's, which stays a cap on all locations together
(kiosk/guard/abuse.py); hosts_only, for its tablets' host search; a logo that its tablets show instead of the
installation's (kept in the row, read only by logo()). A location is deleted only once nothing belongs to it (Ties).
"""

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, TypeVar, cast

from flask import g
from sqlite_utils import Database

from kiosk.db import query_one, query_value, timestamp, write_transaction
from kiosk.hosts.memberships import ONLY_AT_LOCATION

DEFAULT_ID = 1  # the location an upgraded single office became (m013)
# A location's field -> the installation setting (app.config key) it overrides.
OVERRIDES = {"company_name": "COMPANY_NAME", "welcome_text": "WELCOME_TEXT", "reception_phone": "RECEPTION_PHONE",
             "default_locale": "DEFAULT_LOCALE", "timezone": "TIMEZONE",
             "checkins_per_device_per_hour": "CHECKINS_PER_DEVICE_PER_HOUR"}
# What the location form sets. A location's SMS budget is no override: the installation's stays a cap on them all.
EDITABLE = ("name", *OVERRIDES, "sms_budget_per_hour", "sms_budget_per_day", "hosts_only")

T = TypeVar("T")


class LocationError(Exception):
    """A location cannot be saved as asked (its name is taken); the message says why in plain words."""


@dataclass(frozen=True)
class Location:
    """A location as every request reads it: its logo's type, but not the logo itself (logo())."""

    id: int
    name: str
    timezone: str | None = None
    default_locale: str | None = None
    reception_phone: str | None = None
    welcome_text: str | None = None
    company_name: str | None = None
    checkins_per_device_per_hour: int | None = None
    sms_budget_per_hour: int | None = None  # None: no budget of its own
    sms_budget_per_day: int | None = None
    hosts_only: bool = False  # its tablets offer only its own hosts
    logo_type: str | None = None  # the MIME type of its own logo; None: the installation's logo

    @property
    def has_logo(self) -> bool:
        return self.logo_type is not None

    def override(self, setting: str) -> str | int | None:
        """This location's own value for an installation setting, as stored (text or a number), or None to follow
        the installation."""
        for field, key in OVERRIDES.items():
            if key == setting:
                return cast(str | int | None, or_none(getattr(self, field)))
        return None


class Logo(NamedTuple):
    data: bytes
    mimetype: str  # one of config.LOGO_TYPES


def or_none(value: T) -> T | None:
    """An empty field is no value (None: follow the installation); 0 and False are values."""
    return None if value is None or value == "" else value


_COLUMNS = ", ".join(field.name for field in fields(Location))


def _location(row: dict[str, Any]) -> Location:
    return Location(**{**row, "hosts_only": bool(row["hosts_only"])})


def list_locations(db: Database) -> list[Location]:
    return [_location(row) for row in db.query(f"SELECT {_COLUMNS} FROM locations ORDER BY name")]  # noqa: S608


def get_location(db: Database, location_id: int | str | None) -> Location | None:
    row = query_one(db, f"SELECT {_COLUMNS} FROM locations WHERE id = ?", [location_id])  # noqa: S608
    return _location(row) if row else None


def logo(db: Database, location_id: int) -> Logo | None:
    """A location's own logo, or None: its tablets show the installation's (KIOSK_LOGO_FILE), if any."""
    row = query_one(db, "SELECT logo, logo_type FROM locations WHERE id = ? AND logo IS NOT NULL", [location_id])
    return Logo(row["logo"], row["logo_type"]) if row else None


def id_named(db: Database, name: str | None) -> int | None:
    """The id of the location called `name`, in any case (as a host file, a command or a sign-in group names it)."""
    wanted = (name or "").strip().casefold()
    return next((row["id"] for row in db.query("SELECT id, name FROM locations") if row["name"].casefold() == wanted),
                None)


def count(db: Database) -> int:
    return int(query_value(db, "SELECT count(*) FROM locations"))


def save_location(db: Database, location_id: int | None, values: Mapping[str, Any]) -> int:
    """Create (location_id None) or change a location from `values` (keys of EDITABLE; an empty or missing one
    follows the installation), and its logo when values has "logo": a Logo, or None to remove it. Returns its id.
    Raises LocationError for a name in use."""
    taken = query_value(db, "SELECT id FROM locations WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
                        [values["name"], location_id])
    if taken is not None:
        raise LocationError(f"There is a location called {values['name']} already.")
    row = _row(values)
    try:
        if location_id is None:
            return cast(int, db.table("locations").insert({**row, "created_at": timestamp()}).last_pk)
        db.table("locations").update(location_id, {**row, "updated_at": timestamp()})
    except sqlite3.IntegrityError:  # another admin saved that name a moment ago
        raise LocationError(f"There is a location called {values['name']} already.") from None
    return location_id


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    row = {key: or_none(values.get(key)) for key in EDITABLE}
    row["hosts_only"] = int(bool(row["hosts_only"]))
    if "logo" in values:
        new: Logo | None = values["logo"]
        row.update(logo=new.data if new else None, logo_type=new.mimetype if new else None)
    return row


@dataclass(frozen=True)
class Ties:
    """What still belongs to a location: while any of it does (or it is the last one), it cannot be deleted."""

    tablets: int  # paired and not revoked
    pairing_codes: int  # neither used nor expired
    school_visits: int
    admins: int
    last: bool
    sole_hosts: int  # hosts of this location alone: no obstacle, but they belong to every location once it is gone

    def __bool__(self) -> bool:
        return bool(self.tablets or self.pairing_codes or self.school_visits or self.admins or self.last)


def ties(db: Database, location_id: int) -> Ties:
    """What still belongs to a location, counted now."""
    row = next(db.query(f"""
        SELECT (SELECT count(*) FROM devices WHERE location_id = :location AND revoked_at IS NULL) AS tablets,
               (SELECT count(*) FROM pairing_codes WHERE location_id = :location AND used_at IS NULL
                   AND expires_at > :now) AS pairing_codes,
               (SELECT count(*) FROM school_visits WHERE location_id = :location) AS school_visits,
               (SELECT count(*) FROM admins WHERE location_id = :location) AS admins,
               (SELECT count(*) FROM locations) <= 1 AS last,
               (SELECT count(*) FROM hosts WHERE {ONLY_AT_LOCATION}) AS sole_hosts
    """, {"location": location_id, "now": timestamp()}))  # noqa: S608
    return Ties(**{**row, "last": bool(row["last"])})


def delete_location(db: Database, location_id: int) -> Ties:
    """Delete a location, unless something still belongs to it: returns the Ties (empty: it is gone). Its hosts'
    memberships go with it (host_locations: ON DELETE CASCADE; kiosk.db.connect turns foreign keys on)."""
    with write_transaction(db):
        found = ties(db, location_id)
        if not found:
            db.execute("DELETE FROM locations WHERE id = ?", [location_id])
    return found


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
