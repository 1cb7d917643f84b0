"""The locations in the admin area: list them, add one, change one. No delete yet: a location has tablets.

Registered under the admin blueprint (kiosk/__init__.py), whose sign-in check and no-store header cover it.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from kiosk.admin import audit
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


@bp.get("")
def index() -> Page:
    return render_template("admin/locations.html", locations=locations.list_locations(get_db()),
                           tablets=pairing.count_by_location(get_db()), installation=_installation(),
                           languages=LANGUAGES)


@bp.route("/new", methods=["GET", "POST"])
def add() -> Page:
    return _form(None)


@bp.route("/<int:location_id>", methods=["GET", "POST"])
def edit(location_id: int) -> Page:
    return _form(locations.get_location(get_db(), location_id) or abort(404))


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
                         location=location_id)
            flash(_a("The location is saved."), "success")
            return redirect(url_for(".index"))
    return render_template("admin/location_form.html", form=form, location=location, installation=installation,
                           timezones=COMMON_TIMEZONES), form_status(form)


def _installation() -> dict[str, str | None]:
    """What each empty field of a location follows: the installation's value (the kiosk language by its name). No
    location is current in the admin area, so setting() gives the installation's, app.config's where not edited."""
    values = {field: setting(key) or None for field, key in locations.OVERRIDES.items()}
    values["default_locale"] = LANGUAGES.get(values["default_locale"] or "", values["default_locale"])
    return values
