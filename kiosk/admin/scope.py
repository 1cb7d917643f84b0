"""What the signed-in admin may see and change (issue 16): an installation admin everything, a location admin only
their location's tablets, hosts, school visits, consents and statistics.

Views ask here, never compare ids themselves. An object of another location answers 404, as if it did not exist: a
crafted request learns nothing about other offices.
"""

from flask import abort, g

from kiosk.locations.locations import Location, get_location, list_locations


def location_id() -> int | None:
    """The signed-in admin's location, or None for an installation admin."""
    admin = g.get("admin")
    return admin.location_id if admin is not None else None


def everywhere() -> bool:
    """Whether the signed-in admin manages the whole installation."""
    return location_id() is None


def may_manage(object_location_id: int | None) -> bool:
    return everywhere() or object_location_id == location_id()


def require(object_location_id: int | None) -> None:
    """Stop the request with 404 unless the admin manages objects of this location."""
    if not may_manage(object_location_id):
        abort(404)


def require_everywhere() -> None:
    """Stop the request with 404 unless the admin manages the whole installation."""
    if not everywhere():
        abort(404)


def visible_locations(db) -> list[Location]:
    """The locations the admin may choose from: every one, or their own."""
    if everywhere():
        return list_locations(db)
    own = get_location(db, location_id())
    return [own] if own is not None else []
