"""The locations in the admin area: list them, add, change and delete one.

Registered under the admin blueprint (kiosk/__init__.py), whose sign-in check and no-store header cover it. An
installation admin manages every location; a location admin (kiosk/admin/scope.py) sees and changes only their own,
and adds or deletes none.
"""

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kiosk.admin import audit, scope
from kiosk.db import get_db
from kiosk.devices import pairing
from kiosk.errors import form_status
from kiosk.i18n import LANGUAGES
from kiosk.i18n import admin_gettext as _a
from kiosk.locations import locations
from kiosk.locations.forms import COMMON_TIMEZONES, LocationForm
from kiosk.settings import setting

bp = Blueprint("locations", __name__)

Page = str | tuple[str, int] | Response
# The installation's settings a location's own SMS budget adds to (a cap on every location together).
BUDGETS = {"sms_budget_per_hour": "SMS_BUDGET_PER_HOUR", "sms_budget_per_day": "SMS_BUDGET_PER_DAY"}


@bp.get("")
def index() -> Page:
    return render_template("admin/locations.html", locations=scope.visible_locations(get_db()),
                           tablets=pairing.count_by_location(get_db()), installation=_installation(),
                           languages=LANGUAGES, everywhere=scope.everywhere())


@bp.route("/new", methods=["GET", "POST"])
def add() -> Page:
    scope.require_everywhere()
    return _form(None)


@bp.route("/<int:location_id>", methods=["GET", "POST"])
def edit(location_id: int) -> Page:
    scope.require(location_id)
    return _form(locations.get_location(get_db(), location_id) or abort(404))


@bp.route("/<int:location_id>/delete", methods=["GET", "POST"])
def delete(location_id: int) -> Page:
    """Ask first; refuse in plain words while something still belongs to the location (locations.Ties)."""
    scope.require_everywhere()
    location = locations.get_location(get_db(), location_id) or abort(404)
    if request.method == "GET":
        return render_template("admin/location_delete.html", location=location,
                               ties=locations.ties(get_db(), location_id))
    ties = locations.delete_location(get_db(), location_id)
    if ties:  # a tablet was paired there, say, since the page was shown
        return render_template("admin/location_delete.html", location=location, ties=ties), 409
    audit.record(get_db(), "location_deleted", admin_id=g.admin.id, location=location_id)
    flash(_a("The location %(name)s is deleted.", name=location.name), "success")
    return redirect(url_for(".index"))


def _form(location: locations.Location | None) -> Page:
    installation = _installation()
    form = LocationForm(obj=location).with_installation_language(
        _a("As the installation (%(value)s)", value=installation["default_locale"]))
    if form.validate_on_submit():
        try:
            location_id = locations.save_location(get_db(), location.id if location else None, form.values())
        except locations.LocationError:
            form.name.errors.append(_a("There is a location called %(name)s already.", name=form.name.data))
        else:
            audit.record(get_db(), "location_changed" if location else "location_created", admin_id=g.admin.id,
                         location_id=location_id, location=location_id)
            flash(_a("The location is saved."), "success")
            return redirect(url_for(".index"))
    return render_template("admin/location_form.html", form=form, location=location, installation=installation,
                           timezones=COMMON_TIMEZONES, everywhere=scope.everywhere()), form_status(form)


def _installation() -> dict[str, Any]:
    """What each empty field of a location follows, and the installation's SMS budgets: the installation's value
    (the kiosk language by its name). No location is current in the admin area, so setting() gives the
    installation's, app.config's where not edited."""
    values = {field: locations.or_none(setting(key)) for field, key in {**locations.OVERRIDES, **BUDGETS}.items()}
    values["default_locale"] = LANGUAGES.get(values["default_locale"] or "", values["default_locale"])
    return values
