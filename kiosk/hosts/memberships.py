"""Which locations a host belongs to (issue 16): the rows of host_locations, or none at all for a host of every
location (every host of an installation upgraded from a single office, and every host nobody placed).

A tablet offers its location's hosts first, or only them (Location.hosts_only); a location admin manages the hosts
that belong to their location alone.
"""

import json
import re

from kiosk.text import TextError

EVERY_LOCATION = {"", "*", "all", "alle", "all locations", "alle lokasjoner", "alle kontor"}
_COMMAS = re.compile(r"\s*,\s*")

# A host is at location :location when it belongs to every location or to that one (SQL over `hosts`).
_HOST_ROWS = "SELECT 1 FROM host_locations hl WHERE hl.host_id = hosts.id"
AT_LOCATION = f"(NOT EXISTS ({_HOST_ROWS}) OR EXISTS ({_HOST_ROWS} AND hl.location_id = :location))"
# A host only location :location's admin may change: it belongs to that location and to no other.
ONLY_AT_LOCATION = (f"(EXISTS ({_HOST_ROWS} AND hl.location_id = :location) "
                    f"AND NOT EXISTS ({_HOST_ROWS} AND hl.location_id != :location))")


def locations_of(db, host_id):
    """The ids of a host's locations, sorted; [] for a host of every location."""
    return [row["location_id"] for row in db.query(
        "SELECT location_id FROM host_locations WHERE host_id = ? ORDER BY location_id", [host_id])]


def names_by_host(db, host_ids):
    """{host id: [location names]} for those of `host_ids` that belong to some locations (the others: every one)."""
    found = {}
    for row in db.query("SELECT hl.host_id, l.name FROM host_locations hl JOIN locations l ON l.id = hl.location_id "
                        "WHERE hl.host_id IN (SELECT value FROM json_each(?)) ORDER BY l.name",
                        [json.dumps(list(host_ids))]):
        found.setdefault(row["host_id"], []).append(row["name"])
    return found


def set_locations(db, host_id, location_ids):
    """Place a host at these locations only; [] places it at every location. Call inside a write transaction."""
    db.execute("DELETE FROM host_locations WHERE host_id = ?", [host_id])
    db.conn.executemany("INSERT INTO host_locations (host_id, location_id) VALUES (?, ?)",
                        [(host_id, location_id) for location_id in sorted(set(location_ids))])


def is_at(db, host_id, location_id):
    """Whether a tablet of this location may offer the host."""
    return db.execute(f"SELECT 1 FROM hosts WHERE id = :host AND {AT_LOCATION}",  # noqa: S608
                      {"host": host_id, "location": location_id}).fetchone() is not None


def belongs_only_to(db, host_id, location_id):
    """Whether the host belongs to this location and no other: what a location admin may change."""
    return only_at(db, [host_id], location_id) == [host_id]


def only_at(db, host_ids, location_id):
    """Those of `host_ids` that belong to this location and no other (what its admin may change)."""
    return [row["id"] for row in db.query(
        f"SELECT id FROM hosts WHERE id IN (SELECT value FROM json_each(:ids)) AND {ONLY_AT_LOCATION}",  # noqa: S608
        {"ids": json.dumps(list(host_ids)), "location": location_id})]


# Imports: a spreadsheet's location column (kiosk/hosts/directory.py reads it)


def ids_by_name(db):
    """{location name in lower case: id}, for reading a spreadsheet's location column."""
    return {row["name"].casefold(): row["id"] for row in db.query("SELECT id, name FROM locations")}


def names_by_id(db):
    return {row["id"]: row["name"] for row in db.query("SELECT id, name FROM locations")}


def from_cell(text, places):
    """The location ids a spreadsheet cell names ("Oslo; Bergen" or "Oslo, Bergen"; empty or "all": every location,
    []). Names are split at semicolons, and at commas only where a part is not itself a name ("Oslo, Aker Brygge"
    can be one). Raises TextError naming an unknown location."""
    if text.strip().casefold() in EVERY_LOCATION:
        return []
    found = []
    for part in filter(None, (part.strip() for part in text.split(";"))):
        names = [part] if part.casefold() in places else filter(None, _COMMAS.split(part))
        for name in names:
            if name.casefold() not in places:
                raise TextError(f"there is no location called {name}")
            found.append(places[name.casefold()])
    return sorted(set(found))


def to_cell(location_ids, names):
    """The cell an export writes for these locations: names joined by "; ", or empty for every location."""
    return "; ".join(sorted(names[location_id] for location_id in location_ids))


def all_memberships(db):
    """{host id: [location ids]} for every host placed at some locations."""
    found = {}
    for row in db.query("SELECT host_id, location_id FROM host_locations ORDER BY host_id, location_id"):
        found.setdefault(row["host_id"], []).append(row["location_id"])
    return found
